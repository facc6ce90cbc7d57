"""A long message is delivered part by part; a message can be cancelled at the gateway; receipts name the
recipient as the android gateway's current payloads do (`recipient`, `phoneNumber` before)."""

from __future__ import annotations

import pytest

from messaging.models import Message, MessageEvent
from messaging.tests.android_webhooks import post_signed
from messaging.tests.factories import AndroidEventFactory, MessageFactory

KEY = "test-signing-key"
S = Message.Status

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def signing_key(settings):
    settings.SMS_WEBHOOK_SIGNING_KEY = KEY


def post(client, event: str, message: Message, **payload):
    body = {"messageId": str(message.pk), "sender": "+447700900555", "recipient": message.phone, **payload}
    return post_signed(client, AndroidEventFactory(event=event, payload=body), KEY)


def test_a_three_part_message_is_delivered_when_its_third_part_is(client):
    message = MessageFactory(status=S.SENDING, attempts=1, parts_count=3)
    post(client, "sms:sent", message, partsCount=3, sentAt="2026-12-05T10:00:00Z")

    answers = [post(client, "sms:delivered", message, deliveredAt="2026-12-05T10:00:05Z").json() for _ in range(3)]

    assert answers == [{"results": ["part_delivered"]}, {"results": ["part_delivered"]}, {"results": ["applied"]}]
    message.refresh_from_db()
    assert message.status == S.DELIVERED
    parts = MessageEvent.objects.filter(message=message, kind="delivered").order_by("id")
    assert [e.detail for e in parts][:2] == ["Part 1 of 3 delivered.", "Part 2 of 3 delivered."]


def test_a_part_that_fails_after_another_was_delivered_fails_the_message(client):
    message = MessageFactory(status=S.SENDING, attempts=1, parts_count=2)
    post(client, "sms:sent", message, partsCount=2)
    post(client, "sms:delivered", message)

    answer = post(client, "sms:failed", message, reason="RESULT_ERROR_GENERIC_FAILURE")

    assert answer.json() == {"results": ["applied"]}
    message.refresh_from_db()
    assert (message.status, message.error) == (S.FAILED, "RESULT_ERROR_GENERIC_FAILURE")


def test_the_gateways_part_count_wins_over_ours(client):
    message = MessageFactory(status=S.SENDING, attempts=1, parts_count=3)  # we counted 3, it made 2
    post(client, "sms:sent", message, partsCount=2)

    post(client, "sms:delivered", message)
    post(client, "sms:delivered", message)

    message.refresh_from_db()
    assert message.status == S.DELIVERED


def test_sms_cancelled_ends_a_sent_message_as_cancelled(client):
    message = MessageFactory(status=S.SENT, attempts=1)

    answer = post(client, "sms:cancelled", message, cancelledAt="2026-12-05T10:00:00Z")

    assert answer.json() == {"results": ["applied"]}
    message.refresh_from_db()
    assert (message.status, message.error) == (S.CANCELLED, "Cancelled at the gateway.")


def test_a_receipt_in_the_current_shape_is_applied(client):
    message = MessageFactory(status=S.SENDING, attempts=1)

    post(client, "sms:delivered", message, deliveredAt="2026-12-05T10:00:05Z")

    message.refresh_from_db()
    assert message.status == S.DELIVERED
