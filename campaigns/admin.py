from django.contrib import admin

from campaigns.models import Campaign


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "status", "template", "import_job", "scheduled_at", "started_at", "completed_at"]
    list_filter = ["status", ("owner", admin.RelatedOnlyFieldListFilter), "scheduled_at", "created_at"]
    search_fields = ["name", "description"]
    list_select_related = ["owner", "template", "import_job"]
    raw_id_fields = ["owner", "template", "import_job"]
    date_hierarchy = "created_at"
    readonly_fields = ["status", "failure_reason", "started_at", "completed_at", "created_at", "updated_at"]
