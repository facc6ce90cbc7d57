"""The audit log: who started, paused, resumed or cancelled a campaign, changed a user's sending limits,
erased or exported someone's data; when, from where and through what (the API, the admin, a command)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.http import HttpRequest

from inboxerr.addresses import client_address
from inboxerr.models import AuditEntry

if TYPE_CHECKING:
    from django.contrib.auth.models import User

ADDRESS_LENGTH = AuditEntry._meta.get_field("address").max_length or 64


def record(
    *,
    action: str,
    target: str,
    request: HttpRequest | None = None,
    actor: User | None = None,
    via: str = "",
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    """One entry. The actor is `actor`, else the request's signed-in user, else the system (None); the address
    is the request's client (as the throttles read it), empty without a request."""
    if actor is None and request is not None and request.user.is_authenticated:
        actor = request.user
    # A forwarded address is whatever the proxy passed on: kept as text, cut to fit.
    address = client_address(request)[:ADDRESS_LENGTH] if request is not None else ""
    return AuditEntry.objects.create(
        actor=actor,
        actor_name=actor.get_username() if actor is not None else "",
        action=AuditEntry.Action(action),
        target=target,
        detail=detail or {},
        address=address,
        via=AuditEntry.Via(via) if via else "",
    )
