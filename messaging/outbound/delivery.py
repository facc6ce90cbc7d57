"""The delivery worker's run: claim due deliveries, post them endpoint by endpoint, record what happened.

A claim is one statement (FOR UPDATE SKIP LOCKED, at most PER_ENDPOINT of one endpoint's deliveries, the
endpoints in random order, so one endpoint's backlog never fills every batch) that leases the deliveries:
their next_attempt_at moves to the lease's end, and a worker that dies leaves them due again then. Only
the HTTP exchanges run in threads (WEBHOOK_CONCURRENCY at once, up to LANES_PER_ENDPOINT for one
endpoint); the database is written by the run's own thread.

An endpoint that fails stops being tried for the rest of the batch (its other deliveries wait, not
counted as attempts) and cools down: it is tried again after a backoff that grows with its run of
failures, one delivery at a time, so a dead endpoint costs one attempt at a time, never one a delivery.
A long enough run of failures disables it, with the reason (WEBHOOK_DISABLE_AFTER_FAILURES,
WEBHOOK_DISABLE_AFTER_SECONDS).
"""

from __future__ import annotations

import logging
import random
import time
import uuid
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.timesince import timesince

from inboxerr import shutdown
from inboxerr.metrics import OUTBOUND_DELIVERIES
from messaging.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from messaging.outbound import events, subscribers
from messaging.outbound.http import Answer, Lane
from messaging.outbound.signing import signed_headers
from messaging.outbound.targets import Target, UnsafeTarget, check_url

log = logging.getLogger(__name__)
Status = DeliveryStatus
DUE = [Status.PENDING.value, Status.RETRYING.value]

BATCH = 100
PER_ENDPOINT = 25
LANES_PER_ENDPOINT = 4
LOG_DELETE_CHUNK = 10_000


class StopReason(StrEnum):
    IDLE = "idle"  # nothing due
    TIME = "time"  # WEBHOOK_RUN_SECONDS are up
    SHUTDOWN = "shutdown"  # the worker is stopping


@dataclass
class RunReport:
    claimed: int = 0
    delivered: int = 0
    failed: int = 0
    given_up: int = 0
    waiting: int = 0  # claimed but not tried: their endpoint failed first, or time ran out
    disabled: list[int] = field(default_factory=list)
    stopped: StopReason = StopReason.IDLE


@dataclass
class _Tried:
    delivery: WebhookDelivery
    answer: Answer | None  # None: not tried
    at: datetime | None = None


def lease_seconds() -> float:
    """Longer than a run can hold a claim: the run's time, then its last exchanges."""
    return float(settings.WEBHOOK_RUN_SECONDS + 2 * settings.WEBHOOK_TIMEOUT_SECONDS + 30)


def deliver_due(*, seconds: float | None = None) -> RunReport:
    """Deliver what is due, batch after batch, until nothing is or `seconds` (WEBHOOK_RUN_SECONDS) are up."""
    deadline = time.monotonic() + (settings.WEBHOOK_RUN_SECONDS if seconds is None else seconds)
    report = RunReport()
    while True:
        if shutdown.requested():
            report.stopped = StopReason.SHUTDOWN
            break
        if time.monotonic() >= deadline:
            report.stopped = StopReason.TIME
            break
        claimed = claim_due(limit=BATCH)
        if not claimed:
            report.stopped = StopReason.IDLE
            break
        report.claimed += len(claimed)
        _deliver(claimed, deadline=deadline, report=report)
    return report


# --- Claims ------------------------------------------------------------------------------------


def claimable(now: datetime) -> Q:
    """Deliveries a claim may take: due, of an active endpoint that is not cooling down."""
    return (
        Q(status__in=DUE, next_attempt_at__lte=now, endpoint__active=True)
        & (Q(endpoint__retry_after__isnull=True) | Q(endpoint__retry_after__lte=now))
    )  # fmt: skip


def has_due(now: datetime | None = None) -> bool:
    return WebhookDelivery.objects.filter(claimable(now or timezone.now())).exists()


def claim_due(*, limit: int, now: datetime | None = None) -> list[tuple[UUID, datetime]]:
    """Lease up to `limit` due deliveries, at most PER_ENDPOINT of each endpoint: (id, lease) pairs."""
    now = now or timezone.now()
    lease = now + timedelta(seconds=lease_seconds())
    deliveries, endpoints = WebhookDelivery._meta.db_table, WebhookEndpoint._meta.db_table
    if connection.vendor != "postgresql":  # one writer at a time (SQLite): the oldest due, whatever the endpoint
        with transaction.atomic():
            ids = list(
                WebhookDelivery.objects.filter(claimable(now))
                .order_by("next_attempt_at")[:limit]
                .values_list("id", flat=True)
            )
            WebhookDelivery.objects.filter(id__in=ids).update(next_attempt_at=lease, updated_at=now)
        return [(i, lease) for i in ids]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {deliveries} SET next_attempt_at = %(lease)s, updated_at = %(now)s WHERE id IN ("
            f" SELECT d.id FROM (SELECT id FROM {endpoints} WHERE active"
            f"  AND (retry_after IS NULL OR retry_after <= %(now)s) ORDER BY random()) e"
            f" CROSS JOIN LATERAL (SELECT id FROM {deliveries} WHERE endpoint_id = e.id"
            f"  AND status IN ('pending', 'retrying') AND next_attempt_at <= %(now)s"
            f"  ORDER BY next_attempt_at LIMIT %(per)s FOR UPDATE SKIP LOCKED) d"
            f" LIMIT %(limit)s) RETURNING id",
            {"lease": lease, "now": now, "per": PER_ENDPOINT, "limit": limit},
        )
        return [(row[0], lease) for row in cursor.fetchall()]


# --- One batch -----------------------------------------------------------------------------------


def _deliver(claimed: list[tuple[UUID, datetime]], *, deadline: float, report: RunReport) -> None:
    leases = dict(claimed)
    rows = WebhookDelivery.objects.filter(id__in=leases).select_related("endpoint").order_by("id")
    by_endpoint: defaultdict[int, list[WebhookDelivery]] = defaultdict(list)
    for delivery in rows:
        by_endpoint[delivery.endpoint_id].append(delivery)
    tried: list[_Tried] = []
    with ThreadPoolExecutor(max_workers=max(1, settings.WEBHOOK_CONCURRENCY)) as pool:
        # Names resolved (and checked) again now, each endpoint's once, all at the same time.
        urls = [deliveries[0].endpoint.url for deliveries in by_endpoint.values()]
        targets = dict(zip(by_endpoint, pool.map(_target, urls), strict=True))
        futures = []
        for endpoint_id, deliveries in by_endpoint.items():
            target = targets[endpoint_id]
            if not deliveries[0].endpoint.active:  # switched off since the claim: recorded as given up
                tried += [_Tried(d, None) for d in deliveries]
                continue
            if isinstance(target, str):  # not callable now: one failed attempt says why, the rest wait
                tried.append(_Tried(deliveries[0], Answer(None, target, 0), timezone.now()))
                tried += [_Tried(d, None) for d in deliveries[1:]]
                continue
            # An endpoint in a run of failures is probed one delivery at a time.
            healthy = deliveries[0].endpoint.consecutive_failures == 0
            lanes = min(LANES_PER_ENDPOINT if healthy else 1, len(deliveries))
            failed = _Flag()
            for lane in range(lanes):
                futures.append(pool.submit(_run_lane, target, deliveries[lane::lanes], failed, deadline))
        for future in futures:
            tried += future.result()
    _record(tried, leases, report)


def _target(url: str) -> Target | str:
    try:
        return check_url(url)
    except UnsafeTarget as exc:
        return f"Not sent: {exc}"


class _Flag:
    """Set by the first lane of an endpoint that fails: its other lanes stop trying it."""

    def __init__(self) -> None:
        self.value = False


def _run_lane(target: Target, deliveries: list[WebhookDelivery], failed: _Flag, deadline: float) -> list[_Tried]:
    """One endpoint's deliveries, one after another over one connection (a thread of the pool; no database)."""
    lane = Lane(target)
    tried: list[_Tried] = []
    try:
        for delivery in deliveries:
            if failed.value or time.monotonic() >= deadline:
                tried.append(_Tried(delivery, None))
                continue
            body = events.body(delivery.payload)
            headers = signed_headers(
                secret=delivery.endpoint.secret, body=body, event=delivery.event, delivery_id=str(delivery.pk)
            )
            at = timezone.now()
            answer = lane.post(body, headers)
            tried.append(_Tried(delivery, answer, at))
            if not answer.ok:
                failed.value = True
    finally:
        lane.close()
    return tried


# --- Recording ---------------------------------------------------------------------------------------


def _record(tried: list[_Tried], leases: dict[UUID, datetime], report: RunReport) -> None:
    """What the batch came to, in one transaction; a delivery whose lease was taken over is left alone."""
    now = timezone.now()
    by_endpoint: defaultdict[int, list[_Tried]] = defaultdict(list)
    for item in tried:
        by_endpoint[item.delivery.endpoint_id].append(item)
    with transaction.atomic():
        for endpoint_id in sorted(by_endpoint):  # locked in one order, so two workers never deadlock
            items = by_endpoint[endpoint_id]
            endpoint = WebhookEndpoint.objects.select_for_update().filter(pk=endpoint_id).first()
            if endpoint is None:  # deleted meanwhile
                WebhookDelivery.objects.filter(id__in=[item.delivery.pk for item in items]).delete()
                continue
            was_active = endpoint.active
            _count_failures(endpoint, items, now)
            for item in items:
                _record_one(item, endpoint, leases[item.delivery.pk], now, report)
            if was_active and not endpoint.active:
                report.disabled.append(endpoint.pk)
                give_up_waiting(endpoint=endpoint, reason="Not sent: the endpoint was disabled.", now=now)
                log.warning(
                    "webhook endpoint %s (%s) disabled: %s", endpoint.pk, endpoint.url, endpoint.disabled_reason
                )
    if report.disabled:
        subscribers.forget()


def _count_failures(endpoint: WebhookEndpoint, items: list[_Tried], now: datetime) -> None:
    """The endpoint's run of failures after these attempts, its cool-down, and whether it must be disabled."""
    attempts = sorted((item for item in items if item.answer is not None and item.at), key=lambda i: i.at or now)
    if not attempts:
        return
    successes = [index for index, item in enumerate(attempts) if item.answer and item.answer.ok]
    if successes:
        after = attempts[successes[-1] + 1 :]
        failures, since = len(after), after[0].at if after else None
    else:
        failures, since = endpoint.consecutive_failures + len(attempts), endpoint.failing_since or attempts[0].at
    endpoint.consecutive_failures, endpoint.failing_since = failures, since
    endpoint.retry_after = now + timedelta(seconds=backoff_seconds(failures)) if failures else None
    fields = ["consecutive_failures", "failing_since", "retry_after", "updated_at"]
    too_long = since is not None and now - since >= timedelta(seconds=settings.WEBHOOK_DISABLE_AFTER_SECONDS)
    if endpoint.active and failures and (failures >= settings.WEBHOOK_DISABLE_AFTER_FAILURES or too_long):
        last = attempts[-1].answer
        endpoint.active, endpoint.disabled_at = False, now
        endpoint.disabled_reason = disabled_reason(
            failures=failures, since=since or now, now=now, last_error=last.error if last else ""
        )
        fields += ["active", "disabled_at", "disabled_reason"]
    endpoint.save(update_fields=fields)


def disabled_reason(*, failures: int, since: datetime, now: datetime, last_error: str) -> str:
    over = timesince(since, now, depth=1).replace("\xa0", " ") if now - since >= timedelta(minutes=1) else "a minute"
    when = date_format(timezone.localtime(now), "j M Y H:i T")
    return (
        f"Disabled automatically on {when}: {failures} deliveries in a row failed, over {over}"
        f" (the last: {last_error or 'no answer'}). Deliveries that were waiting were given up."
        " Fix the endpoint, then enable it again."
    )


def _record_one(item: _Tried, endpoint: WebhookEndpoint, lease: datetime, now: datetime, report: RunReport) -> None:
    delivery, answer = item.delivery, item.answer
    mine = WebhookDelivery.objects.filter(pk=delivery.pk, next_attempt_at=lease)
    if answer is None or item.at is None:
        if endpoint.active:  # not tried: due again once the endpoint's cool-down (if any) is over
            mine.update(next_attempt_at=max(now, endpoint.retry_after or now), updated_at=now)
            report.waiting += 1
        else:
            mine.update(status=Status.GIVEN_UP, next_attempt_at=None, last_error=_DISABLED, updated_at=now)
            report.given_up += 1
        return
    attempts = delivery.attempts + 1
    first = delivery.first_attempt_at or item.at
    fields: dict[str, Any] = {
        "attempts": attempts,
        "first_attempt_at": first,
        "last_attempt_at": item.at,
        "last_response_code": answer.status,
        "last_error": answer.error[:1000],
        "last_latency_ms": answer.latency_ms,
        "updated_at": now,
    }
    if answer.ok:
        mine.update(status=Status.DELIVERED, delivered_at=item.at, next_attempt_at=None, **fields)
        OUTBOUND_DELIVERIES.labels("delivered").inc()
        report.delivered += 1
        return
    retry_at = now + timedelta(seconds=backoff_seconds(attempts))
    if endpoint.retry_after is not None:
        retry_at = max(retry_at, endpoint.retry_after)
    if retry_at > first + timedelta(seconds=settings.WEBHOOK_RETRY_FOR_SECONDS):
        given_up = f"{fields['last_error']} Given up after {attempts} attempts.".strip()
        mine.update(status=Status.GIVEN_UP, next_attempt_at=None, **{**fields, "last_error": given_up})
        OUTBOUND_DELIVERIES.labels("given_up").inc()
        report.given_up += 1
    else:
        mine.update(status=Status.RETRYING, next_attempt_at=retry_at, **fields)
        OUTBOUND_DELIVERIES.labels("retry").inc()
        report.failed += 1


_DISABLED = "Not sent: the endpoint was disabled."


def backoff_seconds(attempts: int) -> float:
    """WEBHOOK_RETRY_BASE_SECONDS * 2^(attempts-1), jittered between half and all of it, capped."""
    ceiling = min(settings.WEBHOOK_RETRY_MAX_SECONDS, settings.WEBHOOK_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0))
    return random.uniform(ceiling / 2, ceiling)


def give_up_waiting(*, endpoint: WebhookEndpoint, reason: str, now: datetime | None = None) -> int:
    """An endpoint switched off: what waited for it will never be sent."""
    now = now or timezone.now()
    return WebhookDelivery.objects.filter(endpoint=endpoint, status__in=DUE).update(
        status=Status.GIVEN_UP, next_attempt_at=None, last_error=reason, updated_at=now
    )


# --- Tidying (the minute schedule) ----------------------------------------------------------------------


def tidy(*, now: datetime | None = None) -> dict[str, int]:
    """Give up deliveries written for an endpoint just disabled, drop those of one deleted, and delete the
    log past WEBHOOK_LOG_DAYS (a chunk at a time, by the time-ordered key)."""
    now = now or timezone.now()
    stranded = WebhookDelivery.objects.filter(status__in=DUE, endpoint__active=False).update(
        status=Status.GIVEN_UP, next_attempt_at=None, last_error=_DISABLED, updated_at=now
    )
    orphans, _ = (
        WebhookDelivery.objects.filter(status__in=DUE)
        .exclude(endpoint_id__in=WebhookEndpoint.objects.values("id"))
        .delete()
    )
    cutoff = now - timedelta(days=settings.WEBHOOK_LOG_DAYS)
    oldest_kept = uuid.UUID(int=int(cutoff.timestamp() * 1000) << 80)  # the smallest UUIDv7 of that millisecond
    expired = 0
    for _ in range(10):
        ids = list(WebhookDelivery.objects.filter(id__lt=oldest_kept).values_list("id", flat=True)[:LOG_DELETE_CHUNK])
        if ids:
            expired += WebhookDelivery.objects.filter(id__in=ids).delete()[0]
        if len(ids) < LOG_DELETE_CHUNK:
            break
    return {"stranded": stranded, "orphans": orphans, "expired": expired}
