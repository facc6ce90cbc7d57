"""Claims: one statement, oldest first, and never the same message to two dispatchers."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from messaging import dispatcher
from messaging.models import Message
from messaging.tests.factories import MessageFactory

S = Message.Status


def test_a_claim_takes_the_oldest_due_messages_and_leases_them(user, settings):
    settings.SMS_LEASE_SECONDS = 60
    now = timezone.now()
    old, older, newest = (MessageFactory(owner=user, next_attempt_at=now - timedelta(seconds=s)) for s in (10, 20, 1))

    claimed = dispatcher.claim_due(worker="w1", limit=2, now=now)

    assert {c.id for c in claimed} == {older.pk, old.pk}  # the two oldest; RETURNING keeps no order
    for message in Message.objects.filter(pk__in=[older.pk, old.pk]):
        assert (message.status, message.claimed_by, message.attempts) == (S.SENDING, "w1", 1)
        assert message.lease_expires_at == now + timedelta(seconds=60)
    assert Message.objects.get(pk=newest.pk).status == S.QUEUED


def test_claimed_messages_are_not_claimed_again(user):
    MessageFactory.create_batch(3, owner=user)

    first = dispatcher.claim_due(worker="w1", limit=10)
    second = dispatcher.claim_due(worker="w2", limit=10)

    assert (len(first), len(second)) == (3, 0)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_claimers_never_claim_a_message_twice(user):
    total = 600
    Message.objects.bulk_create([Message(owner=user, phone=f"+4474000{i:05d}", content="x") for i in range(total)])
    claims: dict[str, list] = {}
    start = threading.Barrier(4)

    def claimer(name: str) -> None:
        mine = claims.setdefault(name, [])
        try:
            start.wait()
            while batch := dispatcher.claim_due(worker=name, limit=25):
                mine.extend(c.id for c in batch)
        finally:
            connection.close()

    threads = [threading.Thread(target=claimer, args=(f"w{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    every = [message_id for batch in claims.values() for message_id in batch]
    assert len(every) == total
    assert len(set(every)) == total
    assert sum(1 for batch in claims.values() if batch) > 1  # they really ran side by side
    assert Message.objects.filter(status=S.SENDING).count() == total
