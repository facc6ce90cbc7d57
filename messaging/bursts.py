"""Bursts: a user suddenly sending many messages to a country they seldom send to, held for staff to review.

This is what SMS pumping looks like from the inside (a leaked key or a hijacked form sending to premium ranges
abroad), and what Twilio's geographic permissions guard against. The rule, checked by the dispatcher as it
claims each message the first time:

    a user's parts to one country calling code today would go over SMS_BURST_MIN_PARTS, and that code had
    less than SMS_BURST_USUAL_SHARE of the user's parts over the SMS_BURST_HISTORY_DAYS before today.

Then a SendingReview opens and the user's messages to that code wait (Message.waiting = "review") until staff
approve it (they go, and so does the rest of that day's traffic to the code) or reject it (they are
cancelled). The deployment's own calling code is never a burst; SMS_BURST_MIN_PARTS = 0 turns the rule off.
Dispatchers read today's count before adding to it, so with several at once a burst may run over the
threshold by up to a batch per dispatcher before it is held.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from functools import lru_cache

import phonenumbers
from django.conf import settings
from django.db.models import Q, Sum
from django.utils import timezone

from inboxerr.bulk import add_to_counts
from messaging.models import CountryUsage, SendingReview

Status = SendingReview.Status
# What a claim's screening decides for a message.
SEND, HOLD, REJECT = "send", "hold", "reject"
BURST_REJECTED = "burst_rejected"  # a cancelled message's reason
DECISIONS: dict[str, str] = {Status.OPEN: HOLD, Status.REJECTED: REJECT, Status.APPROVED: SEND}


def calling_code(phone: str) -> str:
    """ "44" for +447400123456: the country calling code an E.164 number starts with."""
    digits = phone.lstrip("+")
    for length in (1, 2, 3):
        if int(digits[:length] or 0) in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
            return digits[:length]
    return digits[:3]


def home_code() -> str:
    return str(phonenumbers.country_code_for_region(settings.PHONE_DEFAULT_REGION))


def screen(messages: list[tuple[int, str, int]], today: date | None = None) -> list[str]:
    """For each (owner_id, phone, parts) claimed for the first time, SEND, HOLD or REJECT; the parts sent
    are added to the owners' country mix. Opens the reviews a burst calls for."""
    today = today or timezone.localdate()
    codes = [calling_code(phone) for _, phone, _ in messages]
    decisions = [SEND] * len(messages)
    home, threshold = home_code(), settings.SMS_BURST_MIN_PARTS
    watched = {(owner_id, code) for (owner_id, _, _), code in zip(messages, codes, strict=True) if code != home}
    if threshold > 0 and watched:
        reviews = _reviews(watched, today)
        sent_today = _sent_today(watched, today)
        for index, ((owner_id, _, parts), code) in enumerate(zip(messages, codes, strict=True)):
            key = (owner_id, code)
            if key not in watched:
                continue
            status = reviews.get(key)
            over = status is None and sent_today[key] + parts > threshold
            if over and _usual_share(owner_id, code, today) < settings.SMS_BURST_USUAL_SHARE:
                status = reviews[key] = _open_review(owner_id, code, today, sent_today[key] + parts)
            if status is not None and DECISIONS[status] != SEND:
                decisions[index] = DECISIONS[status]
                continue
            sent_today[key] += parts
    sent = zip(messages, codes, decisions, strict=True)
    _add_to_mix([(owner_id, code, parts) for (owner_id, _, parts), code, d in sent if d == SEND], today)
    return decisions


def _reviews(keys: set[tuple[int, str]], today: date) -> dict[tuple[int, str], str]:
    """Each key's review that applies today: an open one (of any day), else today's decided one."""
    rows = SendingReview.objects.filter(
        Q(status=Status.OPEN) | Q(day=today),
        owner_id__in={owner_id for owner_id, _ in keys},
        calling_code__in={code for _, code in keys},
    ).values_list("owner_id", "calling_code", "status")
    found: dict[tuple[int, str], str] = {}
    for owner_id, code, status in rows:
        if (owner_id, code) in keys and found.get((owner_id, code)) != Status.OPEN:
            found[owner_id, code] = status
    return found


def _sent_today(keys: set[tuple[int, str]], today: date) -> defaultdict[tuple[int, str], int]:
    sent: defaultdict[tuple[int, str], int] = defaultdict(int)
    rows = CountryUsage.objects.filter(
        owner_id__in={o for o, _ in keys}, calling_code__in={c for _, c in keys}, day=today
    ).values_list("owner_id", "calling_code", "parts")
    for owner_id, code, parts in rows:
        sent[owner_id, code] = parts
    return sent


@lru_cache(maxsize=4096)
def _history(owner_id: int, today: date, days: int) -> dict[str, int]:
    """The owner's parts per calling code over the `days` before `today`: fixed for the day, so read once."""
    since = today - timedelta(days=days)
    rows = (
        CountryUsage.objects.filter(owner_id=owner_id, day__gte=since, day__lt=today)
        .values("calling_code")
        .annotate(parts=Sum("parts"))
    )
    return {row["calling_code"]: row["parts"] for row in rows}


def _usual_share(owner_id: int, code: str, today: date) -> float:
    history = _history(owner_id, today, settings.SMS_BURST_HISTORY_DAYS)
    total = sum(history.values())
    return history.get(code, 0) / total if total else 0.0


def _open_review(owner_id: int, code: str, today: date, parts: int) -> str:
    history = _history(owner_id, today, settings.SMS_BURST_HISTORY_DAYS)
    share = _usual_share(owner_id, code, today)
    reason = (
        f"{parts:,} SMS parts to +{code} today, over {settings.SMS_BURST_MIN_PARTS:,}; +{code} had "
        f"{share:.1%} of this user's {sum(history.values()):,} parts over the {settings.SMS_BURST_HISTORY_DAYS} "
        f"days before, under {settings.SMS_BURST_USUAL_SHARE:.0%}."
    )
    review, _ = SendingReview.objects.get_or_create(
        owner_id=owner_id, calling_code=code, day=today, defaults={"reason": reason}
    )
    return review.status


def _add_to_mix(sent: list[tuple[int, str, int]], today: date) -> None:
    """Add the parts sent to each (owner, code)'s row for today, in one statement."""
    totals: defaultdict[tuple[int, str], int] = defaultdict(int)
    for owner_id, code, parts in sent:
        totals[owner_id, code] += parts
    if totals:
        rows = [(owner_id, today, code, parts) for (owner_id, code), parts in sorted(totals.items())]
        add_to_counts(model=CountryUsage, keys=("owner_id", "day", "calling_code"), count="parts", rows=rows)
