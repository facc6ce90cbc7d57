"""System checks of our own, registered by InboxerrConfig.ready."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.staticfiles.storage import ManifestFilesMixin, staticfiles_storage
from django.core.checks import CheckMessage, Tags, Warning, register


@register(Tags.staticfiles, deploy=True)
def static_files_collected(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    """With DEBUG off the admin and Swagger UI look their files up in collectstatic's manifest: without
    it every page that links a static file answers 500."""
    # A lazy object, which answers isinstance() for what it wraps.
    if not isinstance(staticfiles_storage, ManifestFilesMixin):
        return []
    if staticfiles_storage.exists(staticfiles_storage.manifest_name):
        return []
    return [
        Warning(
            f"The static files are not collected into STATIC_ROOT ({settings.STATIC_ROOT}): the admin and "
            "Swagger UI will answer 500.",
            hint="Run: python manage.py collectstatic --noinput",
            id="inboxerr.W001",
        )
    ]
