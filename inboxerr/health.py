"""/healthz: is the database reachable, how deep is the task queue, and each app's own checks.

Anyone (a load balancer) learns the status and which checks fail; the details (queue depth, error
messages, which may name hosts and ports) go only to staff or to a caller with HEALTHZ_TOKEN.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
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
    checks = run_checks()
    failing = [name for name, check in checks.items() if not check["ok"]]
    body: dict[str, Any] = {"status": "degraded" if failing else "ok", "failing": failing}
    if _may_see_details(request):
        body["checks"] = checks
    return JsonResponse(body, status=503 if failing else 200)


def run_checks() -> dict[str, dict[str, Any]]:
    """Each check by name: {"ok": bool, ...details}. Never raises: a check that fails to run has failed."""
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
    return checks


def health_panel(request: HttpRequest) -> dict[str, Any]:
    """The dashboard's health box (staff only reach it): the same checks as /healthz, with their details."""
    return {"checks": run_checks()}


def _may_see_details(request: HttpRequest) -> bool:
    token = settings.HEALTHZ_TOKEN
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if token and scheme.lower() == "bearer" and hmac.compare_digest(given.encode(), token.encode()):
        return True
    try:  # the session is read from the database, which may be the thing that is down
        return bool(request.user.is_authenticated and request.user.is_staff)
    except DatabaseError:
        return False
