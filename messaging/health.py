"""The gateway's part of /healthz: has it refused our credentials?"""

from __future__ import annotations

from django.conf import settings

from messaging.dispatcher.gateway_health import recent_refusal


def gateway_check() -> dict:
    health = recent_refusal()
    if health is None:
        return {"ok": True, "backend": settings.SMS_BACKEND}
    return {
        "ok": False,
        "backend": settings.SMS_BACKEND,
        "error": f"The gateway refused our credentials at {health.auth_failed_at:%Y-%m-%d %H:%M:%S} UTC; "
        f"sending is paused. {health.detail}",
    }
