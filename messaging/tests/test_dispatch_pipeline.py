"""The dispatcher sends one batch while it records the one before and claims the next: the overlap, the shared
limit on requests in flight, the gateway's own ids, and leases renewed only when they run short."""

import asyncio
import dataclasses
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from messaging import dispatcher
from messaging.backends.base import GatewayAuthError, OutgoingSMS
from messaging.backends.locmem import LocmemBackend
from messaging.dispatcher.claims import claim_due, renew_leases
from messaging.models import Message
from messaging.tests.factories import MessageFactory

S = Message.Status


class SlowGateway(LocmemBackend):
    """Answers each send after 20 ms, and notes when each batch went out and came back and the most in flight."""

    def __init__(self) -> None:
        super().__init__()
        self.batches: list[tuple[float, float]] = []
        self.in_flight = self.most_in_flight = 0

    async def send_batch(self, messages, *, concurrency):
        started = time.monotonic()
        results = await super().send_batch(messages, concurrency=concurrency)
        self.batches.append((started, time.monotonic()))
        return results

    async def send_one(self, message: OutgoingSMS) -> str:
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await asyncio.sleep(0.02)
            return await super().send_one(message)
        finally:
            self.in_flight -= 1


def test_the_next_batch_goes_out_before_the_last_is_recorded_within_one_limit_in_flight(user, locmem_gateway, settings):
    settings.SMS_DISPATCH_BATCH = 5
    settings.SMS_CONCURRENCY = 3
    messages = MessageFactory.create_batch(23, owner=user)
    gateway = SlowGateway()

    report = dispatcher.dispatch(worker="w", seconds=30, backend=gateway)

    assert (report.claimed, report.sent, report.stopped) == (23, 23, "idle")
    assert sorted(locmem_gateway.receipts().values()) == [1] * 23
    assert {m.status for m in Message.objects.all()} == {S.SENT}
    for message in messages:
        assert list(message.events.values_list("kind", flat=True)) == ["sent"]
    # The batches at the gateway at once share SMS_CONCURRENCY, and it is used to the full.
    assert gateway.most_in_flight == 3
    # Each batch after the first went out while the one before it was still at the gateway.
    starts_before_previous_ended = [
        later[0] < earlier[1] for earlier, later in zip(gateway.batches, gateway.batches[1:], strict=False)
    ]
    assert len(gateway.batches) == 5
    assert all(starts_before_previous_ended)


class OwnIds(LocmemBackend):
    """A gateway that names messages its own way (as Twilio does)."""

    reuses_our_ids = False

    async def send_one(self, message: OutgoingSMS) -> str:
        await super().send_one(message)
        return f"SM{message.phone[-4:]}"


def test_a_gateway_s_own_ids_are_recorded_and_ours_leave_the_column_empty(user, locmem_gateway):
    first, second = MessageFactory(owner=user, phone="+447400000001"), MessageFactory(owner=user, phone="+447400000002")

    dispatcher.dispatch(worker="w", seconds=30, backend=OwnIds())
    third = MessageFactory(owner=user, phone="+447400000003")
    dispatcher.dispatch(worker="w", seconds=30, backend=LocmemBackend())

    stored = dict(Message.objects.values_list("id", "gateway_message_id"))
    assert (stored[first.pk], stored[second.pk], stored[third.pk]) == ("SM0001", "SM0002", "")
    assert {m.status for m in Message.objects.all()} == {S.SENT}


def test_credentials_refused_while_a_second_batch_is_at_the_gateway_send_nothing_and_count_nothing(
    user, locmem_gateway, settings
):
    settings.SMS_DISPATCH_BATCH = 2
    MessageFactory.create_batch(6, owner=user, phone="+447400000001")
    locmem_gateway.failures["+447400000001"] = GatewayAuthError("The gateway refused our credentials (401).")

    report = dispatcher.dispatch(worker="w", seconds=30)

    assert (report.stopped, report.sent, report.failed) == ("auth", 0, 0)
    for message in Message.objects.all():
        assert (message.status, message.attempts) == (S.QUEUED, 0)


@pytest.mark.postgres
def test_a_fresh_lease_is_sent_on_without_a_statement(user, django_assert_num_queries):
    MessageFactory.create_batch(3, owner=user)
    claimed = claim_due(worker="w", limit=10)

    with django_assert_num_queries(0):
        assert renew_leases(claimed, "w") == claimed


@pytest.mark.postgres
def test_a_lease_run_short_is_renewed_and_one_taken_since_is_not_sent(user, settings):
    settings.SMS_LEASE_SECONDS = 60
    MessageFactory.create_batch(3, owner=user)
    claimed = claim_due(worker="w", limit=10)
    # The rate limit held the chunk back for 40 s: 20 s of the lease left, and one lease ran out and went to
    # another worker meanwhile.
    short = [dataclasses.replace(c, leased_until=timezone.now() + timedelta(seconds=20)) for c in claimed]
    Message.objects.filter(pk=claimed[0].id).update(claimed_by="other")

    kept = renew_leases(short, "w")

    assert [c.id for c in kept] == [c.id for c in claimed[1:]]
    renewed = Message.objects.filter(pk__in=[c.id for c in kept]).values_list("lease_expires_at", flat=True)
    assert all(lease > timezone.now() + timedelta(seconds=55) for lease in renewed)
    assert all(c.leased_until > timezone.now() + timedelta(seconds=55) for c in kept)
