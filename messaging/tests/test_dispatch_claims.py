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


def claim_side_by_side(*, claimers: int, limit: int) -> dict[str, list]:
    """Claim in `claimers` threads at once until nothing is left: the ids each one claimed, by its name."""
    claims: dict[str, list] = {}
    start = threading.Barrier(claimers)

    def claimer(name: str) -> None:
        mine = claims.setdefault(name, [])
        try:
            start.wait()
            while batch := dispatcher.claim_due(worker=name, limit=limit):
                mine.extend(c.id for c in batch)
        finally:
            connection.close()

    threads = [threading.Thread(target=claimer, args=(f"w{i}",)) for i in range(claimers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return claims


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
    claims = claim_side_by_side(claimers=4, limit=25)

    every = [message_id for batch in claims.values() for message_id in batch]
    assert len(every) == total
    assert len(set(every)) == total
    assert sum(1 for batch in claims.values() if batch) > 1  # they really ran side by side
    assert Message.objects.filter(status=S.SENDING).count() == total


def backlog(owner, count: int, *, age_seconds: int, prefix: str) -> None:
    """`count` messages of `owner`, the first due `age_seconds` ago, each a millisecond after the one before."""
    due = timezone.now() - timedelta(seconds=age_seconds)
    Message.objects.bulk_create(
        Message(owner=owner, phone=f"{prefix}{i:05d}", content="x", next_attempt_at=due + timedelta(milliseconds=i))
        for i in range(count)
    )


@pytest.mark.postgres
def test_one_users_backlog_does_not_hold_back_another_users_message(user, other_user):
    backlog(user, 1000, age_seconds=60, prefix="+4474001")
    backlog(other_user, 1, age_seconds=1, prefix="+4474002")  # queued after all of them

    claimed = dispatcher.claim_due(worker="w1", limit=200)

    owners = [c.owner_id for c in claimed]
    assert owners.count(other_user.pk) == 1
    # The room the second user's share left is the first user's: the batch stays full.
    assert owners.count(user.pk) == 199


@pytest.mark.postgres
def test_two_backlogs_share_a_batch_equally_each_oldest_first(user, other_user):
    backlog(user, 1000, age_seconds=60, prefix="+4474001")
    backlog(other_user, 1000, age_seconds=1, prefix="+4474002")

    claimed = dispatcher.claim_due(worker="w1", limit=200)

    owners = [c.owner_id for c in claimed]
    assert (owners.count(user.pk), owners.count(other_user.pk)) == (100, 100)
    oldest = Message.objects.filter(owner=user).order_by("next_attempt_at").values_list("id", flat=True)[:100]
    assert {c.id for c in claimed if c.owner_id == user.pk} == set(oldest)


@pytest.mark.postgres
def test_with_one_owner_waiting_a_claim_takes_a_whole_batch_oldest_first(user, other_user):
    backlog(user, 300, age_seconds=60, prefix="+4474001")
    # Another user's messages that are not due yet (scheduled, or waiting for quiet hours) take no share.
    Message.objects.create(owner=other_user, phone="+447400300000", content="x",
                           next_attempt_at=timezone.now() + timedelta(hours=3))  # fmt: skip

    claimed = dispatcher.claim_due(worker="w1", limit=200)

    assert len(claimed) == 200
    assert {c.owner_id for c in claimed} == {user.pk}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_claimers_sharing_between_owners_never_claim_a_message_twice(user, other_user):
    from inboxerr.tests.factories import UserFactory

    owners = [user, other_user, UserFactory()]
    for n, owner in enumerate(owners):
        backlog(owner, 200, age_seconds=60 - n, prefix=f"+447400{n}")
    claims = claim_side_by_side(claimers=3, limit=30)

    every = [message_id for batch in claims.values() for message_id in batch]
    assert len(every) == len(set(every)) == 600
    assert Message.objects.filter(status=S.SENDING).count() == 600
