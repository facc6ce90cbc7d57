"""The dispatcher: claim due messages, send them through the backend, record what happened.

Any number of dispatchers, on any number of nodes, run at once. Each claims a
batch with one statement, UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP
LOCKED LIMIT n) RETURNING ..., so no two ever hold the same message. A claim is
a lease: a dispatcher that dies leaves its messages SENDING until the lease
expires; they then go back to QUEUED marked verify_before_send, and whoever
claims them next asks the gateway whether it already has them before sending.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import TypeVar
from uuid import UUID

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import F
from django.utils import timezone

from inboxerr.metrics import DISPATCH_LOOP, MESSAGES
from messaging.backends import backend_path, get_backend
from messaging.backends.base import (
    DELIVERED,
    FAILED,
    UNKNOWN,
    BaseBackend,
    GatewayAuthError,
    OutgoingSMS,
    SendError,
    SendResult,
)
from messaging.models import GatewayHealth, Message, MessageEvent, OptOut
from messaging.ratelimit import SharedRateLimit

log = logging.getLogger(__name__)
Status = Message.Status
# Campaign statuses whose messages wait (a lookup through the relation: messaging never imports campaigns).
HELD_CAMPAIGN_STATUSES = ("PAUSED", "CANCELLED")
# How long a dispatcher waits for a lost database (a restart, a failover) before giving up its run.
DB_OUTAGE_SECONDS = 60
T = TypeVar("T")


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True)
class Claimed:
    id: UUID
    owner_id: int
    phone: str
    content: str
    parts: int
    attempts: int
    verify_before_send: bool
    gateway_id: str

    def outgoing(self) -> OutgoingSMS:
        return OutgoingSMS(id=self.id, phone=self.phone, text=self.content, parts=self.parts)


@dataclass
class DispatchReport:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    already_at_gateway: int = 0
    batches: int = 0
    stopped: str = ""  # why the loop ended: "idle", "time", "auth"
    durations: list[float] = field(default_factory=list, repr=False)


# --- Claiming ---------------------------------------------------------------------


def claim_due(*, worker: str, limit: int, now: datetime | None = None) -> list[Claimed]:
    """Claim up to `limit` due QUEUED messages, oldest first, in one statement."""
    now = now or timezone.now()
    due = (
        # held=False matches message_due_idx, which leaves out paused campaigns' messages; the campaign
        # status is still checked, for the moments before a pause's messages are held.
        Message.objects.filter(status=Status.QUEUED, held=False, next_attempt_at__lte=now)
        .exclude(campaign__status__in=HELD_CAMPAIGN_STATUSES)
        .order_by("next_attempt_at")
        .values("id")[:limit]
    )
    if connection.vendor == "postgresql":
        due = due.select_for_update(skip_locked=True, of=("self",))
    lease = now + timedelta(seconds=settings.SMS_LEASE_SECONDS)
    with transaction.atomic(), connection.cursor() as cursor:
        subquery, params = due.query.sql_with_params()  # FOR UPDATE compiles only inside a transaction
        cursor.execute(
            f"UPDATE {Message._meta.db_table} SET status = %s, lease_expires_at = %s, claimed_by = %s, "
            f"attempts = attempts + 1, updated_at = %s WHERE id IN ({subquery}) "
            "RETURNING id, owner_id, phone, content, parts_count, attempts, verify_before_send, gateway_message_id",
            [Status.SENDING, _db(lease), worker, _db(now), *params],
        )
        rows = cursor.fetchall()
    return [Claimed(_uuid(r[0]), r[1], r[2], r[3], r[4], r[5], bool(r[6]), r[7]) for r in rows]


def release_expired_leases(*, now: datetime | None = None) -> int:
    """SENDING messages whose lease ran out go back to QUEUED, to be checked with the gateway before resending."""
    now = now or timezone.now()
    return Message.objects.filter(status=Status.SENDING, lease_expires_at__lt=now).update(
        status=Status.QUEUED,
        verify_before_send=True,
        claimed_by="",
        lease_expires_at=None,
        next_attempt_at=now,
        updated_at=now,
    )


def cancel_messages_of_cancelled_campaigns(*, campaign_id: int | None = None) -> int:
    """QUEUED messages of a CANCELLED campaign (or of that one campaign, if CANCELLED) -> CANCELLED.

    Run for a campaign just cancelled, and every minute for messages back from a retry or an expired
    lease after the cancel: claims skip them, so without this they would wait for ever.
    """
    queued = Message.objects.filter(status=Status.QUEUED, campaign__status="CANCELLED")
    if campaign_id is not None:
        queued = queued.filter(campaign_id=campaign_id)
    return queued.update(status=Status.CANCELLED, error="The campaign was cancelled.", updated_at=timezone.now())


# --- The loop -----------------------------------------------------------------------


def dispatch(
    *,
    worker: str | None = None,
    seconds: float | None = None,
    backend: BaseBackend | None = None,
    on_full_batch: Callable[[], None] | None = None,
):
    """Send due messages until none is due, the time budget is spent, or the gateway refuses our credentials.

    `on_full_batch` is called once, the first time a claim fills a whole batch: more may be waiting.
    """
    worker = worker or worker_name()
    backend = backend or get_backend()
    report = DispatchReport()
    if _riding_out_db_outage(auth_recently_refused):
        report.stopped = "auth"
        log.error("dispatcher: not sending, the gateway refused our credentials; fix them (see /healthz)")
        return report
    limiter = _rate_limit()
    batch_size = min(settings.SMS_DISPATCH_BATCH, limiter.capacity) if limiter else settings.SMS_DISPATCH_BATCH
    deadline = time.monotonic() + (seconds if seconds is not None else settings.SMS_DISPATCH_SECONDS)
    # One event loop and one open backend (one connection pool, kept alive) for every batch of this run.
    with asyncio.Runner() as runner:
        runner.run(backend.__aenter__())
        try:
            while True:
                if time.monotonic() >= deadline:
                    report.stopped = "time"
                    break
                started = time.monotonic()
                claimed = _riding_out_db_outage(partial(claim_due, worker=worker, limit=batch_size))
                if not claimed:
                    report.stopped = "idle"
                    break
                report.claimed += len(claimed)
                report.batches += 1
                if on_full_batch and len(claimed) == batch_size:
                    on_full_batch()
                    on_full_batch = None
                if not _process(claimed, runner=runner, backend=backend, worker=worker, limiter=limiter, report=report):
                    report.stopped = "auth"
                    break
                report.durations.append(time.monotonic() - started)
                DISPATCH_LOOP.observe(report.durations[-1])
        finally:
            runner.run(backend.__aexit__(None, None, None))
    return report


def _process(claimed: list[Claimed], *, runner: asyncio.Runner, backend, worker, limiter, report) -> bool:
    """Check the doubtful ones with the gateway, send the rest, record everything. False: credentials refused."""
    to_send = _riding_out_db_outage(partial(_drop_opted_out, claimed, worker))
    doubtful = [c for c in to_send if c.verify_before_send]
    if doubtful:
        unknown, refused = _settle_doubtful(doubtful, runner, backend, worker, report)
        to_send = [c for c in to_send if not c.verify_before_send] + unknown
        if refused:
            _release(to_send, worker)
            return False
    banked = 0  # rate-limit units taken and not yet spent
    while to_send:
        chunk = to_send
        if limiter:
            units = [c.parts if settings.SMS_RATE_LIMIT_UNIT == "segments" else 1 for c in to_send]
            while banked < units[0]:
                banked += limiter.acquire(sum(units) - banked)
            fit = 0
            while fit < len(to_send) and sum(units[: fit + 1]) <= banked:
                fit += 1
            chunk = to_send[:fit]
            banked -= sum(units[:fit])
        to_send = to_send[len(chunk) :]
        # Renew the leases right before sending, and send only what this worker still holds: a lease
        # that ran out while waiting (rate limit, slow checks) may belong to another worker by now.
        chunk = _riding_out_db_outage(partial(_renew_leases, chunk, worker))
        results = runner.run(backend.send_batch([c.outgoing() for c in chunk], concurrency=settings.SMS_CONCURRENCY))
        # The gateway has these now: losing the database here must not lose what it answered.
        record = partial(_record, chunk, results, backend=backend, worker=worker, report=report)
        if not _riding_out_db_outage(record):
            _release(to_send, worker)  # not sent at all: back in the queue untouched
            return False
    return True


def _drop_opted_out(claimed: list[Claimed], worker: str) -> list[Claimed]:
    """Cancel claimed messages whose number opted out since they were queued; return the rest."""
    opted_out = set(
        OptOut.objects.filter(
            owner_id__in={c.owner_id for c in claimed}, phone__in={c.phone for c in claimed}
        ).values_list("owner_id", "phone")
    )
    for claim in claimed:
        if (claim.owner_id, claim.phone) in opted_out:
            _finish(claim, Status.CANCELLED, worker, error="opted_out", kind="opted_out")
    return [c for c in claimed if (c.owner_id, c.phone) not in opted_out]


def _renew_leases(chunk: list[Claimed], worker: str) -> list[Claimed]:
    lease = timezone.now() + timedelta(seconds=settings.SMS_LEASE_SECONDS)
    held = Message.objects.filter(id__in=[c.id for c in chunk], status=Status.SENDING, claimed_by=worker)
    with transaction.atomic():
        still_mine = set(held.select_for_update().values_list("id", flat=True))
        held.filter(id__in=still_mine).update(lease_expires_at=lease)
    if len(still_mine) < len(chunk):
        log.warning(
            "dispatcher %s: %d lease(s) lost before sending; not sending those", worker, len(chunk) - len(still_mine)
        )
    return [c for c in chunk if c.id in still_mine]


def _settle_doubtful(doubtful: list[Claimed], runner: asyncio.Runner, backend, worker, report):
    """Ask the gateway about messages whose last attempt may have reached it.

    Returns (those it never got, whether it refused our credentials).
    """

    async def ask_all():
        semaphore = asyncio.Semaphore(settings.SMS_CONCURRENCY)

        async def ask(c: Claimed):
            async with semaphore:
                try:
                    return await backend.get_state(c.id, c.gateway_id)
                except SendError as exc:
                    return exc

        return await asyncio.gather(*(ask(c) for c in doubtful))

    unknown, refused, refusal = [], [], ""
    for claim, state in zip(doubtful, runner.run(ask_all()), strict=True):
        if isinstance(state, GatewayAuthError):
            refused.append(claim)
            refusal = state.reason
        elif isinstance(state, SendError):
            _retry_or_fail(claim, f"Could not check with the gateway: {state.reason}", worker, report)
        elif state.state == UNKNOWN and claim.attempts > settings.SMS_MAX_ATTEMPTS:
            _finish(claim, Status.FAILED, worker, error=f"Gave up after {claim.attempts} attempts.", kind="failed")
            report.failed += 1
        elif state.state == UNKNOWN:
            unknown.append(claim)
        else:
            report.already_at_gateway += 1
            status = {DELIVERED: Status.DELIVERED, FAILED: Status.FAILED}.get(state.state, Status.SENT)
            _finish(claim, status, worker, gateway_id=state.gateway_id, error=state.error, kind="found_at_gateway")
    if unknown:
        Message.objects.filter(id__in=[c.id for c in unknown]).update(verify_before_send=False)
    if refused:
        _release(refused, worker)
        _note_auth_refused(refusal)
    return unknown, bool(refused)


# --- Recording ------------------------------------------------------------------------


def _record(chunk: list[Claimed], results: list[SendResult], *, backend, worker, report) -> bool:
    now = timezone.now()
    by_id = {c.id: c for c in chunk}
    accepted = [r for r in results if r.accepted]
    auth_refused = [r for r in results if isinstance(r.error, GatewayAuthError)]
    with transaction.atomic():
        if accepted:
            recorded = _mark_sent(accepted, backend=backend, worker=worker, now=now)
            report.sent += len(accepted)
            MESSAGES.labels("sent").inc(recorded)
        for result in results:
            if result.accepted or isinstance(result.error, GatewayAuthError):
                continue
            if result.error.retryable:
                _retry_or_fail(by_id[result.message_id], result.error.reason, worker, report)
            else:
                _finish(by_id[result.message_id], Status.FAILED, worker, error=result.error.reason, kind="failed")
                report.failed += 1
        if auth_refused:
            _release([by_id[r.message_id] for r in auth_refused], worker)
            _note_auth_refused(auth_refused[0].error.reason)
        elif accepted:
            GatewayHealth.objects.filter(backend=backend_path(), auth_failed_at__isnull=False).update(
                auth_failed_at=None, detail=""
            )
    return not auth_refused


def _mark_sent(accepted: list[SendResult], *, backend, worker, now) -> int:
    """Record SENT for the accepted messages this worker still holds (a webhook may have moved some on)."""
    held = Message.objects.filter(id__in=[r.message_id for r in accepted], status=Status.SENDING, claimed_by=worker)
    still_mine = set(held.select_for_update().values_list("id", flat=True))
    common = {"status": Status.SENT, "sent_at": now, "lease_expires_at": None, "error": "", "updated_at": now}
    if backend.reuses_our_ids:  # the gateway's id is ours: one statement for the whole batch
        held.filter(id__in=still_mine).update(**common)
    else:
        for result in accepted:
            if result.message_id in still_mine:
                held.filter(id=result.message_id).update(gateway_message_id=result.gateway_id, **common)
    MessageEvent.objects.bulk_create(
        [MessageEvent(message_id=i, source="dispatcher", kind="sent", status=Status.SENT) for i in still_mine]
    )
    return len(still_mine)


def _retry_or_fail(claim: Claimed, reason: str, worker: str, report: DispatchReport) -> None:
    """Back to QUEUED after a backoff, marked to be checked with the gateway first: a timeout or a 5xx
    does not say whether the gateway took the message. FAILED once the attempts are spent."""
    if claim.attempts >= settings.SMS_MAX_ATTEMPTS:
        _finish(claim, Status.FAILED, worker, error=f"Gave up after {claim.attempts} attempts: {reason}", kind="failed")
        report.failed += 1
        return
    delay = backoff_seconds(claim.attempts)
    now = timezone.now()
    moved = Message.objects.filter(id=claim.id, status=Status.SENDING, claimed_by=worker).update(
        status=Status.QUEUED,
        next_attempt_at=now + timedelta(seconds=delay),
        lease_expires_at=None,
        verify_before_send=True,
        error=reason,
        updated_at=now,
    )
    if moved:
        report.retried += 1
        MESSAGES.labels("retry").inc()
        MessageEvent.objects.create(
            message_id=claim.id,
            source="dispatcher",
            kind="retry",
            status=Status.QUEUED,
            detail=f"{reason} (in {delay:.0f} s)",
        )


def backoff_seconds(attempts: int) -> float:
    """Exponential backoff with full jitter between half and all of it, capped."""
    ceiling = min(settings.SMS_RETRY_MAX_SECONDS, settings.SMS_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0))
    return random.uniform(ceiling / 2, ceiling)


def _finish(claim: Claimed, status: str, worker: str, *, gateway_id: str = "", error: str = "", kind: str) -> None:
    now = timezone.now()
    fields = {"status": status, "lease_expires_at": None, "error": error, "updated_at": now}
    stamp = {Status.SENT: "sent_at", Status.DELIVERED: "delivered_at", Status.FAILED: "failed_at"}.get(status)
    if stamp:
        fields[stamp] = now
    if gateway_id and gateway_id != str(claim.id):
        fields["gateway_message_id"] = gateway_id
    if Message.objects.filter(id=claim.id, status=Status.SENDING, claimed_by=worker).update(**fields):
        MessageEvent.objects.create(message_id=claim.id, source="dispatcher", kind=kind, status=status, detail=error)
        MESSAGES.labels(status.lower()).inc()


def _release(claims: list[Claimed], worker: str) -> None:
    """Back to QUEUED without counting the attempt: it never reached the gateway."""
    if claims:
        now = timezone.now()
        Message.objects.filter(id__in=[c.id for c in claims], status=Status.SENDING, claimed_by=worker).update(
            status=Status.QUEUED,
            attempts=F("attempts") - 1,
            lease_expires_at=None,
            next_attempt_at=now + timedelta(seconds=settings.SMS_AUTH_RETRY_SECONDS),
            updated_at=now,
        )


# --- A lost database ------------------------------------------------------------------


def _riding_out_db_outage(step: Callable[[], T]) -> T:
    """Run a database step, reconnecting and trying again while the database cannot be reached.

    Django drops a broken connection only between requests (and django-q2 between tasks), but one
    dispatch run lasts many batches: without this, a PostgreSQL restart would end the run with messages
    sent and not recorded, left SENDING until their leases expire. Only steps that are safe to repeat
    come here: each writes in one transaction, or in updates that hold only while this worker owns the message.
    """
    give_up = time.monotonic() + DB_OUTAGE_SECONDS
    pause = 0.1
    while True:
        try:
            return step()
        except (OperationalError, InterfaceError) as exc:
            if connection.in_atomic_block or time.monotonic() + pause > give_up:
                raise
            log.warning("dispatcher: lost the database (%s); trying again in %.1f s", str(exc).strip(), pause)
            connection.close()
            time.sleep(pause)
            pause = min(pause * 2, 2)


# --- Gateway health and rate ----------------------------------------------------------


def _note_auth_refused(detail: str) -> None:
    log.error("dispatcher: the gateway refused our credentials; sending stops for %ss: %s",
              settings.SMS_AUTH_RETRY_SECONDS, detail)  # fmt: skip
    GatewayHealth.objects.update_or_create(
        backend=backend_path(), defaults={"auth_failed_at": timezone.now(), "detail": detail}
    )


def auth_recently_refused() -> bool:
    since = timezone.now() - timedelta(seconds=settings.SMS_AUTH_RETRY_SECONDS)
    return GatewayHealth.objects.filter(backend=backend_path(), auth_failed_at__gte=since).exists()


def _rate_limit() -> SharedRateLimit | None:
    if settings.SMS_RATE_LIMIT <= 0:
        return None
    return SharedRateLimit(f"sms:{settings.SMS_RATE_LIMIT_UNIT}:{backend_path()}", settings.SMS_RATE_LIMIT)


def _db(value: datetime):
    """A datetime as the database driver wants it in raw SQL."""
    return value if connection.vendor == "postgresql" else connection.ops.adapt_datetimefield_value(value)


def _uuid(value) -> UUID:
    return value if isinstance(value, UUID) else UUID(str(value))
