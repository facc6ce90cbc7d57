from django.contrib import admin

from templates.models import MessageTemplate


@admin.register(MessageTemplate)
class MessageTemplateAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "is_active", "variables", "updated_at"]
    list_filter = ["is_active", ("owner", admin.RelatedOnlyFieldListFilter), "updated_at"]
    search_fields = ["name", "content"]
    list_select_related = ["owner"]
    raw_id_fields = ["owner"]
    readonly_fields = ["variables", "created_at", "updated_at"]
