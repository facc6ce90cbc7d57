"""One dispatch run: claim a batch, settle the doubtful, send within the rate limit, record; again.

The run ends when nothing is due, its time budget is spent, or the gateway
refuses our credentials. One event loop and one open backend (one connection
pool, kept alive) serve every batch of the run.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from functools import partial

from django.conf import settings

from inboxerr import shutdown
from inboxerr.metrics import DISPATCH_LOOP
from messaging.backends import get_backend
from messaging.backends.base import BaseBackend, GatewayAuthError, GatewayState, GatewayStatus, SendError
from messaging.dispatcher import gateway_health
from messaging.dispatcher.claims import Claimed, claim_due, release, renew_leases, worker_name
from messaging.dispatcher.outage import riding_out_db_outage
from messaging.dispatcher.outcomes import Recorded, finish, record, retry_or_fail
from messaging.dispatcher.ratelimit import SharedRateLimit, dispatch_rate_limit, within_rate_limit
from messaging.dispatcher.safeguards import screened
from messaging.models import EventKind, Message

log = logging.getLogger(__name__)
Status = Message.Status
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


@dataclass
class _Run:
    """What every step of one run shares."""

    worker: str
    backend: BaseBackend
    runner: asyncio.Runner
    limiter: SharedRateLimit | None
    report: DispatchReport


def dispatch(
    *,
    worker: str | None = None,
    seconds: float | None = None,
    backend: BaseBackend | None = None,
    on_full_batch: Callable[[], None] | None = None,
) -> DispatchReport:
    """Send due messages until none is due, the time budget is spent, or the gateway refuses our credentials.

    `on_full_batch` is called once, the first time a claim fills a whole batch: more may be waiting.
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
    with asyncio.Runner() as runner:
        runner.run(backend.__aenter__())
        run = _Run(worker=worker, backend=backend, runner=runner, limiter=limiter, report=report)
        try:
            report.stopped = _batches(run, batch_size, deadline, on_full_batch)
        finally:
            runner.run(backend.__aexit__(None, None, None))
    return report


def _batches(run: _Run, batch_size: int, deadline: float, on_full_batch: Callable[[], None] | None) -> StopReason:
    report = run.report
    while time.monotonic() < deadline:
        if shutdown.requested():  # between batches: everything claimed so far is recorded
            return StopReason.SHUTDOWN
        started = time.monotonic()
        claimed = riding_out_db_outage(partial(claim_due, worker=run.worker, limit=batch_size))
        if not claimed:
            return StopReason.IDLE
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
        outgoing = [c.outgoing() for c in chunk]
        results = run.runner.run(run.backend.send_batch(outgoing, concurrency=settings.SMS_CONCURRENCY))
        # The gateway has these now: losing the database here must not lose what it answered.
        recorded = riding_out_db_outage(partial(record, chunk, results, backend=run.backend, worker=run.worker))
        run.report.add(recorded)
        if recorded.auth_refused:
            release(rest, run.worker)  # not sent at all: back in the queue untouched
            return False
    return True


def _settle_doubtful(doubtful: list[Claimed], run: _Run) -> tuple[list[Claimed], bool]:
    """Ask the gateway about messages whose last attempt may have reached it.

    Returns (those it never got, whether it refused our credentials).
    """
    unknown, refused, refusal, tally = [], [], "", Recorded()
    for claim, state in zip(doubtful, run.runner.run(_ask_gateway(doubtful, run.backend)), strict=True):
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
