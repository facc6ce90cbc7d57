"""One dispatch run: claim a batch, settle the doubtful, send within the rate limit, record; again.

The run ends when nothing is due, its time budget is spent, or the gateway
refuses our credentials. One event loop and one open backend (one connection
pool, kept alive) serve every batch of the run.

The sending overlaps the database work: the event loop runs in a thread of its
own, and while a batch is at the gateway this thread records the one before it
and claims the next, so the gateway always has SMS_CONCURRENCY requests in
flight (shared by the batches at the gateway together) instead of waiting for
each batch's records and claim. The database work stays in the calling thread,
on its connection, one step after another as before; at most two batches are
at the gateway, and every one is recorded before the run ends.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Coroutine
from concurrent.futures import Future
from dataclasses import dataclass, field
from enum import StrEnum
from functools import partial
from typing import TypeVar

from django.conf import settings

from inboxerr import shutdown
from inboxerr.metrics import DISPATCH_LOOP
from messaging.backends import get_backend
from messaging.backends.base import (
    BaseBackend,
    GatewayAuthError,
    GatewayState,
    GatewayStatus,
    SendError,
    SendResult,
)
from messaging.dispatcher import gateway_health
from messaging.dispatcher.claims import Claimed, claim_due, release, renew_leases, worker_name
from messaging.dispatcher.outage import riding_out_db_outage
from messaging.dispatcher.outcomes import Recorded, finish, record, retry_or_fail
from messaging.dispatcher.ratelimit import SharedRateLimit, dispatch_rate_limit, within_rate_limit
from messaging.dispatcher.safeguards import screened
from messaging.models import EventKind, Message

log = logging.getLogger(__name__)
Status = Message.Status
T = TypeVar("T")
LINGER_POLL_SECONDS = 0.1
FOUND_STATUS = {GatewayStatus.DELIVERED: Status.DELIVERED, GatewayStatus.FAILED: Status.FAILED}


class StopReason(StrEnum):
    IDLE = "idle"  # nothing due
    TIME = "time"  # the run's time budget is spent; more may be due
    AUTH = "auth"  # the gateway refused our credentials
    SHUTDOWN = "shutdown"  # the worker is stopping (inboxerr.shutdown); more may be due


@dataclass
class DispatchReport:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    already_at_gateway: int = 0
    batches: int = 0
    stopped: StopReason | None = None
    durations: list[float] = field(default_factory=list, repr=False)

    def add(self, recorded: Recorded) -> None:
        self.sent += recorded.sent
        self.retried += recorded.retried
        self.failed += recorded.failed


class _Network:
    """The run's event loop, in a thread of its own, with the backend open on it."""

    def __init__(self, backend: BaseBackend):
        self.backend = backend
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="dispatch-network", daemon=True)
        self.thread.start()
        # Shared by every batch at the gateway at once: SMS_CONCURRENCY requests in flight, not that per batch.
        self.in_flight = asyncio.Semaphore(settings.SMS_CONCURRENCY)
        try:
            self.call(backend.__aenter__())
        except BaseException:
            self._stop()
            raise

    def submit(self, coroutine: Coroutine[object, object, T]) -> Future[T]:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop)

    def call(self, coroutine: Coroutine[object, object, T]) -> T:
        return self.submit(coroutine).result()

    def send(self, chunk: list[Claimed]) -> Future[list[SendResult]]:
        return self.submit(self.backend.send_batch([c.outgoing() for c in chunk], concurrency=self.in_flight))

    def close(self) -> None:
        try:
            self.call(self.backend.__aexit__(None, None, None))
        finally:
            self._stop()

    def _stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join()
        self.loop.close()


@dataclass
class _Run:
    """What every step of one run shares."""

    worker: str
    network: _Network
    limiter: SharedRateLimit | None
    report: DispatchReport
    # Chunks at the gateway, oldest first, with their answers to come.
    at_gateway: deque[tuple[list[Claimed], Future[list[SendResult]]]] = field(default_factory=deque)

    @property
    def backend(self) -> BaseBackend:
        return self.network.backend


def dispatch(
    *,
    worker: str | None = None,
    seconds: float | None = None,
    backend: BaseBackend | None = None,
    on_full_batch: Callable[[], None] | None = None,
    linger: float = 0.0,
) -> DispatchReport:
    """Send due messages until none is due, the time budget is spent, or the gateway refuses our credentials.

    `on_full_batch` is called once, the first time a claim fills a whole batch: more may be waiting. `linger`:
    how long to go on looking once none is due, before stopping (messaging.tasks.dispatch).
    """
    worker = worker or worker_name()
    backend = backend or get_backend()
    report = DispatchReport()
    if riding_out_db_outage(gateway_health.auth_recently_refused):
        report.stopped = StopReason.AUTH
        log.error("dispatcher: not sending, the gateway refused our credentials; fix them (see /healthz)")
        return report
    limiter = dispatch_rate_limit()
    batch_size = min(settings.SMS_DISPATCH_BATCH, limiter.capacity) if limiter else settings.SMS_DISPATCH_BATCH
    deadline = time.monotonic() + (seconds if seconds is not None else settings.SMS_DISPATCH_SECONDS)
    network = _Network(backend)
    try:
        run = _Run(worker=worker, network=network, limiter=limiter, report=report)
        report.stopped = _batches(run, batch_size, deadline, on_full_batch, linger)
        # Every chunk still at the gateway is recorded before the run ends.
        if not _record_answers(run, keep=0):
            report.stopped = StopReason.AUTH
    finally:
        network.close()
    return report


def _batches(
    run: _Run, batch_size: int, deadline: float, on_full_batch: Callable[[], None] | None, linger: float
) -> StopReason:
    report = run.report
    idle_until = None
    while time.monotonic() < deadline:
        if shutdown.requested():  # between batches: everything claimed so far is recorded
            return StopReason.SHUTDOWN
        started = time.monotonic()
        claimed = riding_out_db_outage(partial(claim_due, worker=run.worker, limit=batch_size))
        if not claimed:
            # Nothing due: record what is at the gateway, then look again every LINGER_POLL_SECONDS until
            # `linger` has passed since nothing was due.
            if not _record_answers(run, keep=0):
                return StopReason.AUTH
            idle_until = idle_until or started + linger
            if started >= idle_until:
                return StopReason.IDLE
            time.sleep(LINGER_POLL_SECONDS)
            continue
        idle_until = None
        report.claimed += len(claimed)
        report.batches += 1
        if on_full_batch and len(claimed) == batch_size:
            on_full_batch()
            on_full_batch = None
        if not _process(claimed, run):
            return StopReason.AUTH
        report.durations.append(time.monotonic() - started)
        DISPATCH_LOOP.observe(report.durations[-1])
    return StopReason.TIME


def _process(claimed: list[Claimed], run: _Run) -> bool:
    """Apply the safeguards, check the doubtful ones with the gateway, send the rest, record everything.
    False: credentials refused."""
    to_send = riding_out_db_outage(partial(screened, claimed, run.worker))
    doubtful = [c for c in to_send if c.verify_before_send]
    if doubtful:
        unknown, refused = _settle_doubtful(doubtful, run)
        to_send = [c for c in to_send if not c.verify_before_send] + unknown
        if refused:
            release(to_send, run.worker)
            return False
    for chunk, rest in within_rate_limit(to_send, run.limiter):
        if shutdown.requested():  # the rate limit held us up; what is not sent yet goes back, due at once
            release([*chunk, *rest], run.worker, after=0)
            return True
        # Renew the leases right before sending, and send only what this worker still holds: a lease
        # that ran out while waiting (rate limit, slow checks) may belong to another worker by now.
        chunk = riding_out_db_outage(partial(renew_leases, chunk, run.worker))
        if chunk:
            run.at_gateway.append((chunk, run.network.send(chunk)))
        # While this chunk is at the gateway, record the one before it.
        if not _record_answers(run, keep=1):
            release(rest, run.worker)  # not sent at all: back in the queue untouched
            return False
    return True


def _record_answers(run: _Run, *, keep: int) -> bool:
    """Wait for the answers to the chunks at the gateway, oldest first, and record them, until `keep` are left
    there. False: the gateway refused our credentials."""
    refused = False
    while len(run.at_gateway) > keep:
        chunk, answers = run.at_gateway.popleft()
        results = answers.result()
        # The gateway has these now: losing the database here must not lose what it answered.
        recorded = riding_out_db_outage(partial(record, chunk, results, backend=run.backend, worker=run.worker))
        run.report.add(recorded)
        refused = refused or recorded.auth_refused
    return not refused


def _settle_doubtful(doubtful: list[Claimed], run: _Run) -> tuple[list[Claimed], bool]:
    """Ask the gateway about messages whose last attempt may have reached it.

    Returns (those it never got, whether it refused our credentials).
    """
    unknown, refused, refusal, tally = [], [], "", Recorded()
    for claim, state in zip(doubtful, run.network.call(_ask_gateway(doubtful, run.backend)), strict=True):
        if isinstance(state, GatewayAuthError):
            refused.append(claim)
            refusal = state.reason
        elif isinstance(state, SendError):
            tally.count(retry_or_fail(claim, f"Could not check with the gateway: {state.reason}", run.worker))
        elif state.state == GatewayStatus.UNKNOWN and claim.attempts > settings.SMS_MAX_ATTEMPTS:
            error = f"Gave up after {claim.attempts} attempts."
            finish(claim, Status.FAILED, run.worker, error=error, kind=EventKind.FAILED)
            tally.failed += 1
        elif state.state == GatewayStatus.UNKNOWN:
            unknown.append(claim)
        else:
            run.report.already_at_gateway += 1
            status = FOUND_STATUS.get(state.state, Status.SENT)
            found = EventKind.FOUND_AT_GATEWAY
            finish(claim, status, run.worker, gateway_id=state.gateway_id, error=state.error, kind=found)
    run.report.add(tally)
    if unknown:
        Message.objects.filter(id__in=[c.id for c in unknown]).update(verify_before_send=False)
    if refused:
        release(refused, run.worker)
        gateway_health.note_auth_refused(refusal)
    return unknown, bool(refused)


async def _ask_gateway(doubtful: list[Claimed], backend: BaseBackend) -> list[GatewayState | SendError]:
    semaphore = asyncio.Semaphore(settings.SMS_CONCURRENCY)

    async def ask(claim: Claimed) -> GatewayState | SendError:
        async with semaphore:
            try:
                return await backend.get_state(claim.id, claim.gateway_id)
            except SendError as exc:
                return exc

    return await asyncio.gather(*(ask(c) for c in doubtful))
