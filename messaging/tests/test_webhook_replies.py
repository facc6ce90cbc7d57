"""A STOP reply opts the number out of whoever messaged it last; START opts it back in."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from messaging.models import Message, MessageEvent, OptOut
from messaging.tests.android_webhooks import post_signed
from messaging.tests.factories import AndroidEventFactory, MessageFactory, OptOutFactory

KEY = "test-signing-key"
PHONE = "+447400000001"
EARLIER = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def signing_key(settings):
    settings.SMS_WEBHOOK_SIGNING_KEY = KEY


@pytest.fixture
def messaged_by_both(user, other_user):
    """`other_user` messaged PHONE an hour before `user` did: `user` is its most recent sender."""
    MessageFactory(owner=other_user, phone=PHONE, status=Message.Status.DELIVERED, sent_at=EARLIER)
    MessageFactory(owner=user, phone=PHONE, status=Message.Status.SENT, sent_at=EARLIER + timedelta(hours=1))


def reply(client, text: str, phone: str = PHONE, event_id: str | None = None):
    envelope = AndroidEventFactory(
        event="sms:received",
        payload={
            "messageId": str(uuid.uuid4()),
            "message": text,
            "phoneNumber": phone,
            "receivedAt": "2025-03-01T11:00:00.000+00:00",
        },
    )
    if event_id:
        envelope["id"] = event_id
    return post_signed(client, envelope, KEY)


def opted_out_owners(phone: str = PHONE) -> set:
    return set(OptOut.objects.filter(phone=phone).values_list("owner", flat=True))


def test_stop_opts_the_number_out_of_its_most_recent_sender_only(client, user, messaged_by_both):
    response = reply(client, "STOP")

    assert response.status_code == 200
    assert response.json() == {"results": ["opted_out"]}
    assert opted_out_owners() == {user.pk}


def test_the_most_recent_sender_is_found_by_sent_time_not_by_creation(client, user, other_user):
    MessageFactory(owner=user, phone=PHONE, status=Message.Status.SENT, sent_at=EARLIER)
    MessageFactory(owner=other_user, phone=PHONE, status=Message.Status.SENT, sent_at=EARLIER + timedelta(hours=1))

    reply(client, "STOP")

    assert opted_out_owners() == {other_user.pk}


def test_a_message_never_sent_does_not_make_its_owner_the_sender(client, user, other_user):
    MessageFactory(owner=user, phone=PHONE, status=Message.Status.SENT, sent_at=EARLIER)
    MessageFactory(owner=other_user, phone=PHONE, status=Message.Status.QUEUED)

    reply(client, "STOP")

    assert opted_out_owners() == {user.pk}


def test_a_stop_records_how_it_arrived_and_the_keyword(client, user, messaged_by_both):
    reply(client, "Unsubscribe")

    opt_out = OptOut.objects.get()
    # OptOut.source is documented as "api", "admin", "android" or "twilio": the gateway it came through.
    assert (opt_out.owner, opt_out.source, opt_out.keyword) == (user, "android", "UNSUBSCRIBE")


@pytest.mark.parametrize("text", ["stop", "Stop", "  STOP  ", "stop please", "STOP\nthanks"])
def test_stop_is_read_in_any_case_and_with_words_after_it(client, user, messaged_by_both, text):
    response = reply(client, text)

    assert response.json() == {"results": ["opted_out"]}
    assert opted_out_owners() == {user.pk}


@pytest.mark.parametrize("keyword", ["STOP", "UNSUBSCRIBE", "END", "QUIT", "CANCEL", "OPTOUT"])
def test_each_stop_keyword_opts_out(client, user, messaged_by_both, keyword):
    response = reply(client, keyword)

    assert response.json() == {"results": ["opted_out"]}
    assert opted_out_owners() == {user.pk}


def test_stopall_opts_out_of_every_owner_who_has_sent_to_the_number(client, user, other_user, messaged_by_both):
    MessageFactory(owner=user, phone=PHONE, status=Message.Status.DELIVERED, sent_at=EARLIER - timedelta(days=1))
    bystander = MessageFactory(phone="+447400000999", status=Message.Status.SENT, sent_at=EARLIER)

    response = reply(client, "stopall")

    assert response.json() == {"results": ["opted_out"]}
    assert opted_out_owners() == {user.pk, other_user.pk}
    assert OptOut.objects.count() == 2
    assert not OptOut.objects.filter(owner=bystander.owner).exists()


def test_a_stop_cancels_the_senders_queued_messages_to_that_number(client, user, other_user, messaged_by_both):
    mine = MessageFactory(owner=user, phone=PHONE)
    theirs = MessageFactory(owner=other_user, phone=PHONE)

    reply(client, "STOP")

    mine.refresh_from_db()
    theirs.refresh_from_db()
    # Nothing else stops a queued message: the dispatcher does not look at opt-outs.
    assert mine.status == Message.Status.CANCELLED
    assert theirs.status == Message.Status.QUEUED


@pytest.mark.parametrize("keyword", ["START", "unstop", "Start again"])
def test_start_and_unstop_remove_the_opt_out(client, user, messaged_by_both, keyword):
    OptOutFactory(owner=user, phone=PHONE, source="android", keyword="STOP")

    response = reply(client, keyword)

    assert response.json() == {"results": ["opted_in"]}
    assert opted_out_owners() == set()


def test_start_leaves_other_owners_opt_outs_alone(client, user, other_user, messaged_by_both):
    OptOutFactory(owner=user, phone=PHONE)
    OptOutFactory(owner=other_user, phone=PHONE)

    reply(client, "START")

    assert opted_out_owners() == {other_user.pk}


@pytest.mark.parametrize("text", ["Thanks!", "", "please stop", "STOPPED", "When is my order arriving?"])
def test_any_other_text_is_ignored(client, messaged_by_both, text):
    response = reply(client, text)

    assert response.status_code == 200
    assert response.json() == {"results": ["ignored"]}
    assert not OptOut.objects.exists()
    assert MessageEvent.objects.get(kind="received", message=None).payload["payload"]["message"] == text


def test_a_stop_from_a_number_nobody_messaged_is_ignored(client, messaged_by_both):
    response = reply(client, "STOP", phone="+447400000777")

    assert response.json() == {"results": ["ignored"]}
    assert not OptOut.objects.exists()


def test_a_replayed_stop_is_a_duplicate_and_harmless(client, user, messaged_by_both):
    reply(client, "STOP", event_id="evt-stop")

    response = reply(client, "STOP", event_id="evt-stop")

    assert response.status_code == 200
    assert response.json() == {"results": ["duplicate"]}
    assert OptOut.objects.filter(owner=user, phone=PHONE).count() == 1
    assert MessageEvent.objects.filter(source="android", external_id="evt-stop").count() == 1


def test_a_second_stop_with_a_new_event_id_keeps_one_opt_out(client, user, messaged_by_both):
    reply(client, "STOP")

    response = reply(client, "stop")

    assert response.json() == {"results": ["opted_out"]}
    assert OptOut.objects.filter(owner=user, phone=PHONE).count() == 1
