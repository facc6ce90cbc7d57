"""Gauges /metrics reads at scrape time (registered in MessagingConfig.ready)."""

from __future__ import annotations

from django.utils import timezone

from messaging.dispatcher.gateway_health import auth_recently_refused
from messaging.models import Message


def queue_gauges() -> dict[str, tuple[str, float]]:
    # Both counts run on the partial indexes that hold only QUEUED / SENDING rows.
    due = Message.objects.filter(status=Message.Status.QUEUED, next_attempt_at__lte=timezone.now()).count()
    sending = Message.objects.filter(status=Message.Status.SENDING).count()
    return {
        "messages_queue_depth": ("QUEUED messages due now.", due),
        "messages_sending": ("Messages claimed by a dispatcher and not yet recorded.", sending),
        "gateway_auth_refused": (
            "1 while sending is paused because the gateway refused our credentials.",
            1 if auth_recently_refused() else 0,
        ),
    }
