import pytest
from django.db import IntegrityError, transaction

from campaigns.tests.factories import CampaignFactory
from messaging.models import Message, MessageEvent
from messaging.tests.factories import MessageEventFactory, MessageFactory


def test_a_phone_is_messaged_once_per_campaign(db):
    campaign = CampaignFactory()
    MessageFactory(owner=campaign.owner, campaign=campaign, phone="+447700900001")

    with pytest.raises(IntegrityError), transaction.atomic():
        MessageFactory(owner=campaign.owner, campaign=campaign, phone="+447700900001")


def test_direct_messages_to_one_phone_are_allowed(db):
    first = MessageFactory(phone="+447700900001")

    assert MessageFactory(owner=first.owner, phone="+447700900001").pk


def test_the_database_refuses_an_unknown_status(db):
    message = MessageFactory()

    with pytest.raises(IntegrityError), transaction.atomic():
        Message.objects.filter(pk=message.pk).update(status="LOST")


def test_the_database_refuses_zero_parts(db):
    message = MessageFactory()

    with pytest.raises(IntegrityError), transaction.atomic():
        Message.objects.filter(pk=message.pk).update(parts_count=0)


def test_a_gateway_event_is_recorded_once(db):
    event = MessageEventFactory(source="android", external_id="evt-1")

    with pytest.raises(IntegrityError), transaction.atomic():
        MessageEventFactory(message=event.message, source="android", external_id="evt-1")


def test_our_own_events_need_no_external_id(db):
    message = MessageFactory()
    MessageEventFactory(message=message)
    MessageEventFactory(message=message)

    assert MessageEvent.objects.filter(message=message).count() == 2


def test_message_ids_are_time_ordered(db):
    ids = [MessageFactory().pk for _ in range(20)]

    assert all(pk.version == 7 for pk in ids)
    assert list(Message.objects.order_by("id").values_list("id", flat=True)) == ids
