"""/healthz: is the database reachable, how deep is the task queue, and each app's own checks."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django_q.brokers import get_broker

log = logging.getLogger(__name__)

# The apps' own checks, registered in their AppConfig.ready: name -> a callable answering {"ok": bool, ...}.
_checks: dict[str, Callable[[], dict[str, Any]]] = {}


def register_check(name: str, check: Callable[[], dict[str, Any]]) -> None:
    _checks[name] = check


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    checks: dict[str, dict[str, Any]] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = {"ok": True}
    except DatabaseError as exc:
        log.error("health check: database unreachable: %s", exc)
        checks["database"] = {"ok": False, "error": str(exc).strip()[:200]}

    try:
        checks["queue"] = {"ok": True, "depth": get_broker().queue_size()}
    except Exception as exc:  # any broker failure is a failed check, never a 500
        log.error("health check: task broker unreachable: %s", exc)
        checks["queue"] = {"ok": False, "error": str(exc).strip()[:200]}

    for name, check in _checks.items():
        try:
            checks[name] = check()
        except Exception as exc:  # a broken check is a failed check, never a 500
            log.exception("health check %s failed", name)
            checks[name] = {"ok": False, "error": str(exc).strip()[:200]}

    healthy = all(check["ok"] for check in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", "checks": checks}, status=200 if healthy else 503
    )
