from django.apps import AppConfig


class ImportsConfig(AppConfig):
    name = "imports"
    verbose_name = "Contact imports"

    def ready(self) -> None:
        from imports.dashboard import in_progress
        from inboxerr.admin_site import Panel, register_panel
        from inboxerr.metrics import IMPORT_ROWS, start_at_zero

        register_panel(Panel("admin/imports/panels/in_progress.html", in_progress, order=50))
        start_at_zero(IMPORT_ROWS, [("imported",), ("invalid",), ("duplicate",)])
