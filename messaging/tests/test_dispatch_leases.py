"""A dispatcher that dies leaves leases; they expire and the gateway is asked before anything is resent."""

from datetime import timedelta

from django.utils import timezone

from messaging import dispatcher
from messaging.backends.base import OutgoingSMS
from messaging.models import Message
from messaging.tests.factories import MessageFactory

S = Message.Status


def die_after_claiming(user, **fields):
    """What a worker killed between claiming and recording leaves behind."""
    message = MessageFactory(owner=user, **fields)
    dispatcher.claim_due(worker="dead-worker", limit=10)
    Message.objects.filter(pk=message.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    return message


def test_an_expired_lease_goes_back_to_queued_marked_for_checking(user):
    message = die_after_claiming(user)
    live = MessageFactory(owner=user)
    dispatcher.claim_due(worker="live-worker", limit=10)

    released = dispatcher.release_expired_leases()

    message.refresh_from_db()
    assert released == 1
    assert (message.status, message.verify_before_send, message.claimed_by) == (S.QUEUED, True, "")
    assert Message.objects.get(pk=live.pk).status == S.SENDING  # a live lease is left alone


def test_a_message_the_gateway_already_has_is_recorded_not_resent(user, locmem_gateway):
    message = die_after_claiming(user)
    # The dead worker's send reached the gateway before it died.
    locmem_gateway.outbox.append(OutgoingSMS(id=message.pk, phone=message.phone, text=message.content))
    dispatcher.release_expired_leases()

    report = dispatcher.dispatch(worker="w2", seconds=30)

    message.refresh_from_db()
    assert report.already_at_gateway == 1
    assert locmem_gateway.receipts()[str(message.pk)] == 1
    assert message.status == S.SENT
    assert message.events.filter(kind="found_at_gateway").exists()


def test_a_message_the_gateway_never_got_is_sent_once(user, locmem_gateway):
    message = die_after_claiming(user)
    dispatcher.release_expired_leases()

    dispatcher.dispatch(worker="w2", seconds=30)

    message.refresh_from_db()
    assert locmem_gateway.receipts()[str(message.pk)] == 1
    assert (message.status, message.attempts, message.verify_before_send) == (S.SENT, 2, False)


def test_a_lease_released_twice_still_sends_once(user, locmem_gateway):
    message = die_after_claiming(user)
    dispatcher.release_expired_leases()
    dispatcher.dispatch(worker="w2", seconds=30)
    Message.objects.filter(pk=message.pk).update(
        status=S.SENDING, lease_expires_at=timezone.now() - timedelta(seconds=1)
    )  # as if w2 had died after sending, too
    dispatcher.release_expired_leases()

    dispatcher.dispatch(worker="w3", seconds=30)

    assert locmem_gateway.receipts()[str(message.pk)] == 1
    assert Message.objects.get(pk=message.pk).status == S.SENT


def test_the_minute_tick_releases_leases_and_sends(user, locmem_gateway):
    from messaging import tasks

    message = die_after_claiming(user)

    result = tasks.dispatch_tick()

    assert result["released_leases"] == 1
    assert Message.objects.get(pk=message.pk).status == S.SENT
