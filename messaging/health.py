"""The gateway's part of /healthz: has it refused our credentials?"""

from __future__ import annotations

from django.conf import settings

from messaging.backends import backend_path
from messaging.dispatcher.gateway_health import auth_recently_refused
from messaging.models import GatewayHealth


def gateway_check() -> dict:
    backend = backend_path()
    if not auth_recently_refused():
        return {"ok": True, "backend": settings.SMS_BACKEND}
    health = GatewayHealth.objects.get(backend=backend)
    return {
        "ok": False,
        "backend": settings.SMS_BACKEND,
        "error": f"The gateway refused our credentials at {health.auth_failed_at:%Y-%m-%d %H:%M:%S} UTC; "
        f"sending is paused. {health.detail}",
    }
