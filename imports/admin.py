from django.contrib import admin

from imports.models import Contact, ImportJob
from inboxerr.admin import LargeTableAdminMixin


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "original_filename",
        "owner",
        "status",
        "total_rows",
        "imported_rows",
        "invalid_rows",
        "duplicate_rows",
        "created_at",
        "finished_at",
    ]
    list_filter = ["status", ("owner", admin.RelatedOnlyFieldListFilter), "created_at"]
    search_fields = ["original_filename", "sha256"]
    list_select_related = ["owner"]
    raw_id_fields = ["owner"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "status",
        "size_bytes",
        "sha256",
        "file_path",
        "encoding",
        "delimiter",
        "column_mapping",
        "total_rows",
        "imported_rows",
        "invalid_rows",
        "duplicate_rows",
        "errors",
        "failure_reason",
        "created_at",
        "started_at",
        "finished_at",
    ]


@admin.register(Contact)
class ContactAdmin(LargeTableAdminMixin, admin.ModelAdmin):
    list_display = ["phone", "name", "import_job", "owner", "row_number"]
    search_fields = ["phone__exact", "name"]
    list_select_related = ["owner", "import_job"]
    raw_id_fields = ["owner", "import_job"]
