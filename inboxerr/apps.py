from django.apps import AppConfig


class InboxerrConfig(AppConfig):
    """The project package as an app, for its management commands and system checks."""

    name = "inboxerr"
    verbose_name = "Inboxerr"

    def ready(self) -> None:
        from inboxerr import checks  # noqa: F401  (registers them)
