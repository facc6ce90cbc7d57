"""Messaging's part of the admin dashboard: how many messages went and how they fared, the queue and the
gateway. Every figure reads an hourly tally or a partial index, never a whole table."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone

from inboxerr.charts import Series, line_chart
from messaging.dispatcher.gateway_health import recent_refusal
from messaging.models import Message, TallyKind
from messaging.tallies import daily, hourly, totals_since

S = Message.Status
# Past this a count reads "100,000+": counting a million queued rows would cost more than the figure is worth.
COUNT_CAP = 100_000
CHARTED = [("sent", TallyKind.SENT), ("delivered", TallyKind.DELIVERED), ("failed", TallyKind.FAILED)]


def capped_count(queryset: Any) -> str:
    # Unordered, so that the partial index alone answers (ordered by id, it read 100,000 rows by primary key).
    n = queryset.order_by()[:COUNT_CAP].count()
    return f"{n:,}+" if n >= COUNT_CAP else f"{n:,}"


def figures(request: HttpRequest) -> dict[str, Any]:
    now = timezone.now()
    midnight = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    today, week = totals_since(midnight), totals_since(now - timedelta(days=7))
    rate = round(100 * week[TallyKind.DELIVERED] / week[TallyKind.SENT], 1) if week[TallyKind.SENT] else None
    rows = [
        (label, f"{today[kind]:,}", f"{week[kind]:,}") for label, kind in [*CHARTED, ("opted out", TallyKind.OPTED_OUT)]
    ]
    return {"rows": rows, "delivery_rate": rate}


def chart(request: HttpRequest) -> dict[str, Any]:
    hours, days = hourly(24), daily(14)

    def series(buckets: list[tuple[Any, dict[str, int]]]) -> list[Series]:
        return [Series(name, str(kind), [counts[kind] for _, counts in buckets]) for name, kind in CHARTED]

    local = [timezone.localtime(hour) for hour, _ in hours]
    return {
        "hours": line_chart(
            [f"{hour:%H}:00" for hour in local], series(hours), title="Last 24 hours, by hour", label_every=3
        ),
        "days": line_chart(
            [f"{day:%d %b}" for day, _ in days[:-1]] + ["today"], series(days), title="Last 14 days", label_every=2
        ),
        "legend": [(name, str(kind)) for name, kind in CHARTED],
    }


def queue(request: HttpRequest) -> dict[str, Any]:
    now = timezone.now()
    # Each on a partial index holding only these rows (messaging.models.Message.Meta).
    waiting = Message.objects.filter(status=S.QUEUED, held=False)
    refusal = recent_refusal()
    last_hour = totals_since(now)
    return {
        "due": capped_count(waiting.filter(next_attempt_at__lte=now)),
        "later": capped_count(waiting.filter(next_attempt_at__gt=now)),
        "held": capped_count(Message.objects.filter(status=S.QUEUED, held=True)),
        "sending": capped_count(Message.objects.filter(status=S.SENDING)),
        "backend": settings.SMS_BACKEND.rsplit(".", 1)[-1],
        "refusal": refusal,
        "this_hour": {kind: f"{n:,}" for kind, n in last_hour.items()},
    }
