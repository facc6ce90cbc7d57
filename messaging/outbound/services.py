"""Endpoints: created, changed, switched off and on, tested and deleted; one transaction each.

The API and the admin call these, so both check URLs the same way and both refresh `subscribers`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from inboxerr.exceptions import Conflict, InboxerrException
from messaging.models import OutboundEvent, WebhookDelivery, WebhookEndpoint
from messaging.outbound import subscribers
from messaging.outbound.delivery import give_up_waiting
from messaging.outbound.events import SUBSCRIBABLE, envelope
from messaging.outbound.signing import new_secret
from messaging.outbound.targets import UnsafeTarget, check_url
from messaging.outbound.tasks import kick_delivery

# Each endpoint is one more delivery for every event: a user's are few.
MAX_ENDPOINTS_PER_USER = 20


class EndpointFieldError(InboxerrException):
    """A 400 naming one field, in the body shape of the API's own validation errors."""

    code = "invalid"

    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(f"Invalid input: {field}.", details={field: [message]})


def check_target(url: str) -> str:
    """The URL as it will be called, or EndpointFieldError saying why it may not be (targets)."""
    try:
        check_url(url)
    except UnsafeTarget as exc:
        raise EndpointFieldError("url", str(exc)) from None
    return url


def check_events(events: Iterable[str]) -> list[str]:
    chosen = list(dict.fromkeys(events))
    unknown = [event for event in chosen if event not in SUBSCRIBABLE]
    if unknown:
        raise EndpointFieldError("events", f"Unknown: {', '.join(unknown)}. Choose from {', '.join(SUBSCRIBABLE)}.")
    if not chosen:
        raise EndpointFieldError("events", "Choose at least one event.")
    return chosen


def endpoint_create(*, owner_id: int, url: str, events: list[str], description: str = "") -> WebhookEndpoint:
    """A new active endpoint with a new secret (the caller shows it once: it is never shown again)."""
    events = check_events(events)
    check_target(url)
    with transaction.atomic():
        if WebhookEndpoint.objects.filter(owner_id=owner_id).count() >= MAX_ENDPOINTS_PER_USER:
            raise Conflict(
                f"You have {MAX_ENDPOINTS_PER_USER} webhook endpoints, the most one user may have; delete one first.",
                code="too_many_endpoints",
            )
        endpoint = WebhookEndpoint.objects.create(
            owner_id=owner_id, url=url, events=events, description=description, secret=new_secret()
        )
        subscribers.forget()
    return endpoint


def endpoint_update(
    *,
    endpoint: WebhookEndpoint,
    url: str | None = None,
    events: list[str] | None = None,
    description: str | None = None,
    active: bool | None = None,
) -> WebhookEndpoint:
    """Change what is given; `active` False switches it off (its waiting deliveries are given up), True is
    the same as endpoint_enable."""
    if events is not None:
        endpoint.events = check_events(events)
    fields = ["url", "events", "description", "updated_at"]
    if url is not None and url != endpoint.url:
        endpoint.url = check_target(url)
        # Another receiver: the old one's run of failures says nothing of it.
        endpoint.consecutive_failures, endpoint.failing_since, endpoint.retry_after = 0, None, None
        fields += ["consecutive_failures", "failing_since", "retry_after"]
    if description is not None:
        endpoint.description = description
    with transaction.atomic():
        endpoint.save(update_fields=fields)
        if active is True:
            endpoint = endpoint_enable(endpoint=endpoint)
        elif active is False and endpoint.active:
            endpoint_disable(endpoint=endpoint, reason="Disabled by its owner.")
        subscribers.forget()
    return endpoint


def endpoint_disable(*, endpoint: WebhookEndpoint, reason: str) -> WebhookEndpoint:
    now = timezone.now()
    with transaction.atomic():
        endpoint.active, endpoint.disabled_reason, endpoint.disabled_at = False, reason, now
        endpoint.save(update_fields=["active", "disabled_reason", "disabled_at", "updated_at"])
        give_up_waiting(endpoint=endpoint, reason="Not sent: the endpoint was disabled.", now=now)
        subscribers.forget()
    return endpoint


def endpoint_enable(*, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    """On again, with its run of failures forgotten (idempotent): what it missed while off is not resent."""
    with transaction.atomic():
        endpoint.active, endpoint.disabled_reason, endpoint.disabled_at = True, "", None
        endpoint.consecutive_failures, endpoint.failing_since, endpoint.retry_after = 0, None, None
        endpoint.save(
            update_fields=[
                "active",
                "disabled_reason",
                "disabled_at",
                "consecutive_failures",
                "failing_since",
                "retry_after",
                "updated_at",
            ]
        )
        subscribers.forget()
    return endpoint


def endpoint_test(*, endpoint: WebhookEndpoint) -> WebhookDelivery:
    """Queue a webhook.test delivery to this endpoint alone; 409 while it is disabled."""
    if not endpoint.active:
        raise Conflict("The endpoint is disabled; enable it before testing it.", code="endpoint_disabled")
    now = timezone.now()
    event_id = uuid.uuid4()
    data = {"endpoint_id": endpoint.pk, "message": "A test delivery from Inboxerr: your endpoint is reached."}
    with transaction.atomic():
        # Tried now, not after the cool-down of an endpoint that was failing: its owner may just have fixed it.
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(retry_after=None)
        endpoint.retry_after = None
        delivery = WebhookDelivery.objects.create(
            endpoint=endpoint,
            event_id=event_id,
            event=OutboundEvent.WEBHOOK_TEST,
            payload=envelope(event_id=event_id, event=OutboundEvent.WEBHOOK_TEST, created_at=now, data=data),
            next_attempt_at=now,
        )
        kick_delivery()
    return delivery


def endpoint_delete(*, endpoint: WebhookEndpoint) -> None:
    with transaction.atomic():
        endpoint.delete()  # and its log
        subscribers.forget()
