from django.apps import AppConfig


class ImportsConfig(AppConfig):
    name = "imports"
    verbose_name = "Contact imports"

    def ready(self) -> None:
        from inboxerr.metrics import IMPORT_ROWS, start_at_zero

        start_at_zero(IMPORT_ROWS, [("imported",), ("invalid",), ("duplicate",)])
