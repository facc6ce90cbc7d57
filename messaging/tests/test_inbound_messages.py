"""Messages people send to the gateway: stored once, matched to who they answer, keywords acted on.

Events are posted as the android gateway posts them, in its current payload shape (`sender` / `recipient`)
and in the one before it (`phoneNumber`), signed with the shared key.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from campaigns.tests.factories import CampaignFactory
from imports.tests.factories import ContactFactory
from messaging.models import InboundMessage, InboxSettings, Message, MessageEvent, OptOut
from messaging.tests.android_webhooks import post_signed
from messaging.tests.factories import AndroidEventFactory, MessageFactory, OptOutFactory

KEY = "test-signing-key"
PHONE = "+447400000001"
DEVICE_NUMBER = "+447700900555"
S = Message.Status

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def signing_key(settings):
    settings.SMS_WEBHOOK_SIGNING_KEY = KEY
    settings.REPLY_WINDOW_DAYS = 7


def received(client, text: str, phone: str = PHONE, *, event="sms:received", shape="current", event_id=None, **extra):
    """Post an inbound event as the gateway does; `shape` "legacy" names the sender phoneNumber."""
    party = {"sender": phone, "recipient": DEVICE_NUMBER} if shape == "current" else {"phoneNumber": phone}
    payload = {"messageId": str(uuid.uuid4())[:8], "message": text, "simNumber": 2,
               "receivedAt": timezone.now().isoformat(), **party, **extra}  # fmt: skip
    envelope = AndroidEventFactory(event=event, deviceId="pixel-7", payload=payload)
    if event_id:
        envelope["id"] = event_id
    return post_signed(client, envelope, KEY)


def sent_to(owner, *, phone=PHONE, ago=timedelta(hours=1), **fields) -> Message:
    return MessageFactory(owner=owner, phone=phone, status=S.SENT, sent_at=timezone.now() - ago, **fields)


@pytest.mark.parametrize("shape", ["current", "legacy"])
def test_a_reply_is_stored_once_with_where_and_when_it_arrived(client, user, shape):
    sent_to(user)

    response = received(client, "my parcel ORD-100221 hasn't arrived", shape=shape, event_id="evt-1")
    again = received(client, "my parcel ORD-100221 hasn't arrived", shape=shape, event_id="evt-1")

    assert response.json() == {"results": ["received"]}
    assert again.json() == {"results": ["duplicate"]}
    inbound = InboundMessage.objects.get()
    assert (inbound.owner, inbound.phone, inbound.text, inbound.source) == (
        user, PHONE, "my parcel ORD-100221 hasn't arrived", "android",
    )  # fmt: skip
    assert (inbound.device_id, inbound.sim_number, inbound.kind) == ("pixel-7", 2, "sms")
    assert inbound.gateway_number == (DEVICE_NUMBER if shape == "current" else "")
    assert inbound.received_at is not None
    assert inbound.keyword == ""


def test_a_reply_is_linked_to_the_latest_message_its_owner_sent_and_that_ones_campaign_and_contact(client, user):
    campaign = CampaignFactory(owner=user)
    contact = ContactFactory(phone=PHONE)
    sent_to(user, ago=timedelta(days=2))
    latest = sent_to(user, campaign=campaign, contact=contact)

    received(client, "Yes please")

    inbound = InboundMessage.objects.get()
    assert (inbound.in_reply_to, inbound.campaign, inbound.contact) == (latest, campaign, contact)


def test_of_two_users_the_one_who_messaged_last_owns_the_reply(client, user, other_user):
    sent_to(other_user, ago=timedelta(hours=1))
    sent_to(user, ago=timedelta(hours=3))
    MessageFactory(owner=user, phone=PHONE, status=S.QUEUED)  # queued, not sent: it has not messaged yet

    received(client, "who is this?")

    assert InboundMessage.objects.get().owner == other_user


def test_a_reply_after_the_window_is_its_senders_but_answers_no_message(client, user):
    sent_to(user, ago=timedelta(days=8))

    received(client, "late answer")

    inbound = InboundMessage.objects.get()
    assert (inbound.owner, inbound.in_reply_to, inbound.campaign) == (user, None, None)


def test_a_message_from_a_number_nobody_messaged_is_kept_unassigned(client, user):
    received(client, "hello?", phone="+447400999999")

    inbound = InboundMessage.objects.get()
    assert (inbound.owner, inbound.phone) == (None, "+447400999999")


def test_a_sender_that_is_not_a_phone_number_is_kept_as_the_gateway_gave_it(client):
    received(client, "Your code is 1234", phone="AMAZON")

    assert InboundMessage.objects.get().phone == "AMAZON"


def test_a_stop_opts_the_number_out_of_every_sender_and_cancels_their_queued_messages(client, user, other_user):
    sent_to(user)
    queued = [MessageFactory(owner=owner, phone=PHONE, status=S.QUEUED) for owner in (user, other_user)]

    received(client, "Please stop texting me")

    assert list(OptOut.objects.values_list("owner", "phone", "source")) == [(None, PHONE, "android")]
    assert {m.status for m in Message.objects.filter(pk__in=[q.pk for q in queued])} == {S.CANCELLED}
    inbound = InboundMessage.objects.get()
    assert inbound.keyword == "stop"
    assert inbound.keyword_result == "Opted out of every sender on this gateway; 2 queued messages cancelled."


def test_after_a_stop_no_user_can_send_to_the_number(api, other_api, client, user):
    sent_to(user)
    received(client, "STOP")

    for sender in (api, other_api):  # other_api's user never messaged the number
        response = sender.post("/api/v1/messages/send/", {"phone": PHONE, "content": "Hi"}, format="json")
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "opted_out"


def test_a_reply_that_only_mentions_stop_opts_nobody_out(client, user):
    sent_to(user)

    received(client, "don't stop the deliveries")

    assert not OptOut.objects.exists()
    assert InboundMessage.objects.get().keyword == ""


def test_start_undoes_a_texted_stop_but_keeps_an_opt_out_added_by_hand(client, user, other_user):
    sent_to(user)
    received(client, "STOP")
    OptOutFactory(owner=other_user, phone=PHONE, source="api")

    received(client, "Start")

    assert list(OptOut.objects.values_list("owner", flat=True)) == [other_user.pk]
    assert InboundMessage.objects.latest("id").keyword_result == "Opted back in."


def test_a_stop_by_mms_is_honoured(client, user):
    sent_to(user)

    received(client, "", event="mms:received", subject="STOP", transactionId="T1", size=1200)

    inbound = InboundMessage.objects.get()
    assert (inbound.kind, inbound.text, inbound.keyword) == ("mms", "STOP", "stop")
    assert OptOut.objects.filter(owner=None, phone=PHONE).exists()


def test_an_mms_text_that_comes_with_its_download_is_read_for_keywords(client, user):
    sent_to(user)
    received(client, "", event="mms:received", messageId="mms-1", transactionId="T1", size=1200)

    received(client, "", event="mms:downloaded", messageId="mms-1", body="unsubscribe", attachments=[])

    inbound = InboundMessage.objects.get()
    assert (inbound.text, inbound.keyword) == ("unsubscribe", "stop")
    assert OptOut.objects.filter(owner=None, phone=PHONE).exists()


def test_help_gets_the_owners_help_text_once_an_hour(client, user):
    sent_to(user)
    InboxSettings.objects.create(owner=user, help_text="Acme Parcels: call 0800 000 000. Reply STOP to opt out.")

    received(client, "HELP")
    received(client, "help!")

    first, second = InboundMessage.objects.order_by("id")
    assert first.keyword_result == "Answered with the help text."
    assert first.auto_reply.content.startswith("Acme Parcels")
    assert first.auto_reply.status == S.QUEUED
    assert second.keyword_result == "Not answered: this number got an automatic answer less than an hour ago."
    assert second.auto_reply is None


def test_help_from_another_machines_automatic_reply_is_not_answered(client, user):
    sent_to(user)
    InboxSettings.objects.create(owner=user, help_text="Call us.")

    received(client, "Auto-reply: help")

    assert InboundMessage.objects.get().auto_reply is None


def test_help_without_a_help_text_is_not_answered(client, user):
    sent_to(user)

    received(client, "INFO")

    inbound = InboundMessage.objects.get()
    assert (inbound.keyword, inbound.keyword_result) == ("help", "Not answered: no help text is set.")
    assert Message.objects.count() == 1


@pytest.mark.parametrize("event", ["sms:data-received", "app:started"])
def test_other_events_are_acknowledged_and_recorded(client, event):
    response = received(client, "", event=event, data="AAEC")

    assert response.status_code == 200
    assert response.json() == {"results": ["ignored"]}
    assert MessageEvent.objects.get().kind == event
    assert not InboundMessage.objects.exists()
