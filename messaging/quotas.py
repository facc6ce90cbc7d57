"""Quotas: how many SMS parts a user may send a day and a calendar month.

Staff set a user's limits (SendingLimits); where they set none, SMS_QUOTA_DAILY_PARTS and
SMS_QUOTA_MONTHLY_PARTS apply (0: unlimited). Days and months are TIME_ZONE's.

What is counted, and when:
- a single send, a batch, a test send or a reply is counted when it is queued, all of it or none: a request
  that does not fit is refused with 429 and a Retry-After at the reset, and nothing is queued;
- a campaign's message is counted when a dispatcher first claims it; those that do not fit go back to the
  queue until the reset, and campaigns hear of it (`quota_reached`) and pause until then.

Every count is an UPDATE of the user's row for the day and for the month under its row lock, taken in one
order (owner, then day before month), so every web and worker process sees one count and no two can spend the
same part: the quota is never overshot, by any number of processes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.db.models.functions import Greatest
from django.dispatch import Signal
from django.utils import timezone

from inboxerr.bulk import Statement, counts_statement, run_together
from inboxerr.exceptions import TooManyRequests
from messaging.models import QuotaPeriod, QuotaUsage, SendingLimits, sending_limits_of

# A user's campaign messages found no room. Arguments: owner_id, resets_at (when there is room again), reason.
quota_reached = Signal()


@dataclass(frozen=True)
class Quota:
    """One user's limits in parts; None: unlimited."""

    daily: int | None
    monthly: int | None

    def limit(self, period: str) -> int | None:
        return self.daily if period == QuotaPeriod.DAY else self.monthly

    @property
    def limited(self) -> bool:
        return self.daily is not None or self.monthly is not None


@dataclass(frozen=True)
class Period:
    kind: str  # QuotaPeriod
    starts: date
    resets_at: datetime


class QuotaReached(TooManyRequests):
    code = "quota_reached"


def quotas_of(owner_ids: Iterable[int]) -> dict[int, Quota]:
    owner_ids = set(owner_ids)
    limits = sending_limits_of(owner_ids)
    return {owner_id: quota_of(limits.get(owner_id)) for owner_id in owner_ids}


def quota_of(limits: SendingLimits | None) -> Quota:
    """The quota of a user whose limits (None: none set) the caller has read already."""
    return quota_from(limits.daily_parts, limits.monthly_parts) if limits else quota_from(None, None)


def quota_from(daily: int | None, monthly: int | None) -> Quota:
    """A user's own limits, the deployment's defaults where they have none."""
    return Quota(
        daily=daily if daily is not None else (settings.SMS_QUOTA_DAILY_PARTS or None),
        monthly=monthly if monthly is not None else (settings.SMS_QUOTA_MONTHLY_PARTS or None),
    )


def periods(now: datetime | None = None) -> tuple[Period, Period]:
    """This day and this month, in TIME_ZONE, each with the moment it ends."""
    local = timezone.localtime(now or timezone.now())
    today = local.date()
    month = today.replace(day=1)
    next_month = (month + timedelta(days=32)).replace(day=1)
    return (
        Period(QuotaPeriod.DAY, today, _midnight(today + timedelta(days=1))),
        Period(QuotaPeriod.MONTH, month, _midnight(next_month)),
    )


def _midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, datetime.min.time()))


@dataclass
class Spent:
    """What one owner's charge left: the parts that fit, and, when some did not, the period that ran out."""

    fitted: int  # how many of the wanted messages (in order) fit
    full: Period | None = None
    used: int = 0
    limit: int = 0

    def explain(self) -> str:
        if self.full is None:
            return ""
        span = "today" if self.full.kind == QuotaPeriod.DAY else "this month"
        return f"quota reached: {self.used:,} of {self.limit:,} SMS parts sent {span}"


def take(wanted: dict[int, list[int]], quotas: dict[int, Quota], now: datetime | None = None) -> dict[int, Spent]:
    """For each owner, count as many of their messages (parts each, in order) as fit within their day and
    month; unlimited owners' all fit and are counted. One transaction; rows locked in one order."""
    day, month = periods(now)
    owners = sorted(owner_id for owner_id, parts in wanted.items() if parts)
    spent: dict[int, Spent] = {}
    if not owners:
        return spent
    with transaction.atomic():
        rows = _locked_rows(owners, day, month)
        for owner_id in owners:
            quota = quotas[owner_id]
            used = {period.kind: rows[owner_id, period.kind].parts for period in (day, month)}
            limits = {p.kind: quota.limit(p.kind) for p in (day, month)}
            # What is left in each limited period (0 is a limit: nothing may be sent).
            room = {kind: limit - used[kind] for kind, limit in limits.items() if limit is not None}
            fitted, total = 0, 0
            for parts in wanted[owner_id]:
                if any(total + parts > left for left in room.values()):
                    break
                fitted, total = fitted + 1, total + parts
            result = Spent(fitted=fitted)
            if fitted < len(wanted[owner_id]):
                # The period that refused the next message: the month when both did, since its reset is later.
                full = next(
                    p for p in (month, day) if p.kind in room and total + wanted[owner_id][fitted] > room[p.kind]
                )
                result.full, result.used, result.limit = full, used[full.kind], quota.limit(full.kind) or 0
            spent[owner_id] = result
            if total:
                counted = [rows[owner_id, period.kind].pk for period in (day, month)]
                QuotaUsage.objects.filter(pk__in=counted).update(parts=F("parts") + total)
    return spent


def charge(
    *,
    owner_id: int,
    parts: int,
    enforce: bool = True,
    quota: Quota | None = None,
    now: datetime | None = None,
    along: Sequence[Statement] = (),
) -> None:
    """Count `parts` queued at once (a send, a batch), all or nothing. Over the quota: QuotaReached (a 429
    with Retry-After at the reset), unless `enforce` is off (an automatic HELP answer: counted, never refused).
    Call it inside the transaction that queues the messages, so a refusal queues nothing. `quota`: the owner's,
    when the caller has read their limits already. `along`: the caller's writes of what is counted (its task
    and messages), made in the same statement as the count (inboxerr.bulk.run_together); when nothing can
    refuse them (no limit, or `enforce` off), that statement may be the caller's whole transaction.

    One statement adds the parts to the day's and the month's rows, locking them until the transaction ends,
    and answers the new totals; over a limit, the exception rolls the addition back with the rest. (The
    dispatcher's `take` reads before it adds, as it may fit only some of a campaign's messages.)"""
    now = now or timezone.now()  # one moment for the count and the refusal, should midnight fall between
    writes = [*along, *counted(owner_id, parts, now)]
    if parts <= 0 or not enforce or not (quota := quota or quotas_of([owner_id])[owner_id]).limited:
        if writes:  # nothing to refuse
            run_together(writes)
        return
    day, month = periods(now)
    with transaction.atomic(savepoint=False):
        totals = dict(run_together(writes))
        for period in (month, day):  # both full: the month's reset is the later, so it is the one to wait for
            limit = quota.limit(period.kind)
            if limit is not None and totals[period.kind] > limit:
                raise _refusal(parts, limit, totals[period.kind] - parts, period, now)


def counted(owner_id: int, parts: int, now: datetime | None = None) -> list[Statement]:
    """The statement adding `parts` to the owner's day and month rows (created if new, in take's lock order),
    answering their new totals; none for no parts. It counts without refusing: charge checks the totals
    against the limits, and a caller that knows none applies may run it with its own writes."""
    if parts <= 0:
        return []
    day, month = periods(now)
    rows = [(owner_id, day.kind, day.starts, parts), (owner_id, month.kind, month.starts, parts)]
    keys = ("owner_id", "period", "starts")
    return [counts_statement(model=QuotaUsage, keys=keys, count="parts", rows=rows, returning="period, parts")]


def _refusal(parts: int, limit: int, used: int, period: Period, now: datetime | None) -> QuotaReached:
    left = max(limit - used, 0)
    resets_at = period.resets_at
    return QuotaReached(
        f"This needs {parts:,} SMS parts and {left:,} are left of your "
        f"{'daily' if period.kind == QuotaPeriod.DAY else 'monthly'} quota of {limit:,}; "
        f"it resets at {resets_at:%Y-%m-%d %H:%M %Z}.",
        retry_after=max(int((resets_at - (now or timezone.now())).total_seconds()) + 1, 1),
        details={"needed": parts, "left": left, "limit": limit, "resets_at": resets_at.isoformat()},
    )


def refund(parts_by_owner: dict[int, int], now: datetime | None = None) -> None:
    """Give back parts counted for messages that went back to the queue unsent (they are counted again when
    claimed again)."""
    day, month = periods(now)
    for owner_id, parts in parts_by_owner.items():
        if parts:
            QuotaUsage.objects.filter(_current(day, month), owner_id=owner_id).update(
                parts=Greatest(F("parts") - parts, 0)
            )


def usage(owner_id: int, now: datetime | None = None) -> dict[str, dict]:
    """The user's parts sent this day and month, their limits (None: unlimited), what is left and the reset."""
    quota = quotas_of([owner_id])[owner_id]
    day, month = periods(now)
    used = dict(QuotaUsage.objects.filter(_current(day, month), owner_id=owner_id).values_list("period", "parts"))
    answer = {}
    for period in (day, month):
        limit = quota.limit(period.kind)
        parts = used.get(period.kind, 0)
        answer[period.kind] = {
            "used": parts,
            "limit": limit,
            "left": None if limit is None else max(limit - parts, 0),
            "resets_at": period.resets_at,
        }
    return answer


def _locked_rows(owners: list[int], day: Period, month: Period) -> dict[tuple[int, str], QuotaUsage]:
    """The owners' day and month rows, created if new, locked in (owner, period) order: no two processes can
    wait on each other."""
    keys = [(owner_id, period) for owner_id in owners for period in (day, month)]
    QuotaUsage.objects.bulk_create(
        [QuotaUsage(owner_id=owner_id, period=p.kind, starts=p.starts) for owner_id, p in keys],
        ignore_conflicts=True,
    )
    locked = (
        QuotaUsage.objects.select_for_update()
        .filter(_current(day, month), owner_id__in=owners)
        .order_by("owner_id", "period")
    )
    return {(row.owner_id, row.period): row for row in locked}


def _current(day: Period, month: Period) -> Q:
    return Q(period=day.kind, starts=day.starts) | Q(period=month.kind, starts=month.starts)
