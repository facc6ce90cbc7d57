"""The gateway's refusal of our credentials: it pauses all sending for SMS_AUTH_RETRY_SECONDS.

A refusal is no message's fault, so no message fails for it: the dispatcher
releases what it held and stops, every dispatcher sees the refusal here before
claiming, /healthz reports it, and the next accepted send clears it.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from messaging.backends import backend_path
from messaging.models import GatewayHealth

log = logging.getLogger(__name__)


def note_auth_refused(detail: str) -> None:
    log.error("dispatcher: the gateway refused our credentials; sending stops for %ss: %s",
              settings.SMS_AUTH_RETRY_SECONDS, detail)  # fmt: skip
    GatewayHealth.objects.update_or_create(
        backend=backend_path(), defaults={"auth_failed_at": timezone.now(), "detail": detail}
    )


def clear_auth_refused() -> None:
    GatewayHealth.objects.filter(backend=backend_path(), auth_failed_at__isnull=False).update(
        auth_failed_at=None, detail=""
    )


def auth_recently_refused() -> bool:
    return _recent_refusals().exists()


def recent_refusal() -> GatewayHealth | None:
    """The refusal that pauses sending now (when, and what the gateway said), or None."""
    return _recent_refusals().first()


def _recent_refusals() -> QuerySet[GatewayHealth]:
    since = timezone.now() - timedelta(seconds=settings.SMS_AUTH_RETRY_SECONDS)
    return GatewayHealth.objects.filter(backend=backend_path(), auth_failed_at__gte=since)
