from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class InboxerrAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with our site (a dashboard for its index, internals grouped) as `admin.site`."""

    default = False  # named in INSTALLED_APPS; "inboxerr" alone is InboxerrConfig
    default_site = "inboxerr.admin_site.InboxerrAdminSite"


class InboxerrConfig(AppConfig):
    """The project package as an app, for its management commands and system checks."""

    name = "inboxerr"
    verbose_name = "Inboxerr"

    def ready(self) -> None:
        from django.contrib import admin
        from django.contrib.auth import get_user_model
        from django.db.models.signals import post_save, pre_save

        from inboxerr import checks, tokens  # noqa: F401  (checks registers them)
        from inboxerr.admin import check_every_changelist
        from inboxerr.admin_site import Panel, register_panel
        from inboxerr.health import health_panel

        # Every app's admin module is loaded by now (django.contrib.admin, listed first, loads them).
        check_every_changelist(admin.site)
        register_panel(Panel("admin/inboxerr/panels/health.html", health_panel, order=90))

        user = get_user_model()
        pre_save.connect(tokens.remember_credentials, sender=user, dispatch_uid="inboxerr.tokens.before")
        post_save.connect(tokens.end_tokens_after_credentials_change, sender=user, dispatch_uid="inboxerr.tokens.after")
