from django.apps import AppConfig


class InboxerrConfig(AppConfig):
    """The project package as an app, for its management commands."""

    name = "inboxerr"
    verbose_name = "Inboxerr"
