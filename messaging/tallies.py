"""Counting messages by the hour as they happen (Tally), and reading the counts back for the dashboard."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, datetime, timedelta

from django.db.models import Sum
from django.utils import timezone

from inboxerr.bulk import add_to_counts
from messaging.models import Tally, TallyKind


def hour_of(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def tally(kind: TallyKind, count: int = 1, *, at: datetime | None = None) -> None:
    """Add `count` to the hour of `at` (now); in the caller's transaction, so a rolled-back write counts nothing."""
    if count <= 0:
        return
    row = (hour_of(at or timezone.now()), str(kind), random.randrange(Tally.SHARDS), count)
    add_to_counts(model=Tally, keys=("hour", "kind", "shard"), count="count", rows=[row])


def totals_since(since: datetime) -> dict[str, int]:
    """Each kind's count from the hour of `since` on."""
    rows = Tally.objects.filter(hour__gte=hour_of(since)).values("kind").annotate(n=Sum("count"))
    counts = {kind: 0 for kind in TallyKind.values}
    counts.update({row["kind"]: row["n"] for row in rows})
    return counts


def hourly(hours: int, *, now: datetime | None = None) -> list[tuple[datetime, dict[str, int]]]:
    """The last `hours` hours, oldest first: (hour, counts by kind), hours with nothing included."""
    end = hour_of(now or timezone.now())
    start = end - timedelta(hours=hours - 1)
    buckets: dict[datetime, dict[str, int]] = defaultdict(lambda: {kind: 0 for kind in TallyKind.values})
    for row in Tally.objects.filter(hour__gte=start).values("hour", "kind").annotate(n=Sum("count")):
        buckets[hour_of(row["hour"])][row["kind"]] += row["n"]
    return [(start + timedelta(hours=i), buckets[start + timedelta(hours=i)]) for i in range(hours)]


def daily(days: int, *, now: datetime | None = None) -> list[tuple[datetime, dict[str, int]]]:
    """The last `days` days (UTC, today so far included), oldest first, added up from the hours."""
    this_hour = hour_of(now or timezone.now())
    first = this_hour.replace(hour=0) - timedelta(days=days - 1)
    hours = int((this_hour - first).total_seconds() // 3600) + 1
    by_day: dict[datetime, dict[str, int]] = defaultdict(lambda: {kind: 0 for kind in TallyKind.values})
    for hour, counts in hourly(hours, now=now):
        for kind, n in counts.items():
            by_day[hour.replace(hour=0)][kind] += n
    return [(first + timedelta(days=i), by_day[first + timedelta(days=i)]) for i in range(days)]
