"""Delivery receipts from the android gateway move a message forward once, and never backwards."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime

import pytest

from messaging.models import Message, MessageEvent
from messaging.tests.android_webhooks import post_signed
from messaging.tests.factories import AndroidEventFactory, MessageFactory

KEY = "test-signing-key"
S = Message.Status
SENT_AT = "2025-03-01T10:00:00.000+00:00"
DELIVERED_AT = "2025-03-01T10:00:05.000+00:00"
FAILED_AT = "2025-03-01T10:00:07Z"

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def signing_key(settings):
    settings.SMS_WEBHOOK_SIGNING_KEY = KEY


def post(client, envelope: dict):
    return post_signed(client, envelope, KEY)


def receipt(event: str, message_id, **payload) -> dict:
    return AndroidEventFactory(
        event=event, payload={"messageId": str(message_id), "phoneNumber": "+447400000001", **payload}
    )


def sent(message, sent_at: str = SENT_AT) -> dict:
    return receipt("sms:sent", message.pk, sentAt=sent_at)


def delivered(message) -> dict:
    return receipt("sms:delivered", message.pk, deliveredAt=DELIVERED_AT)


def failed(message, reason="RESULT_ERROR_GENERIC_FAILURE") -> dict:
    return receipt("sms:failed", message.pk, failedAt=FAILED_AT, reason=reason)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.mark.parametrize("status", [S.SENDING, S.QUEUED])
def test_sms_sent_moves_a_message_to_sent_with_its_time(client, status):
    # SENDING: claimed and in flight; QUEUED with an attempt behind it: back for a retry after a timeout.
    message = MessageFactory(status=status, attempts=1)

    response = post(client, sent(message))

    assert response.status_code == 200
    assert response.json() == {"results": ["applied"]}
    message.refresh_from_db()
    assert (message.status, message.sent_at, message.delivered_at) == (S.SENT, at(SENT_AT), None)
    assert list(message.events.values_list("source", "kind", "status")) == [("android", "sent", S.SENT)]


def test_sms_delivered_moves_a_sent_message_to_delivered_with_its_time(client):
    message = MessageFactory(status=S.SENT, sent_at=at(SENT_AT))

    response = post(client, delivered(message))

    assert response.json() == {"results": ["applied"]}
    message.refresh_from_db()
    assert (message.status, message.sent_at, message.delivered_at) == (S.DELIVERED, at(SENT_AT), at(DELIVERED_AT))


def test_sms_delivered_fills_in_sent_at_when_the_sent_receipt_never_came(client):
    message = MessageFactory(status=S.SENDING)

    response = post(client, delivered(message))

    assert response.json() == {"results": ["applied"]}
    message.refresh_from_db()
    assert (message.status, message.sent_at, message.delivered_at) == (S.DELIVERED, at(DELIVERED_AT), at(DELIVERED_AT))


def test_sms_failed_moves_a_message_to_failed_with_the_reason(client):
    message = MessageFactory(status=S.SENT, sent_at=at(SENT_AT))

    response = post(client, failed(message, reason="RESULT_ERROR_NO_SERVICE"))

    assert response.json() == {"results": ["applied"]}
    message.refresh_from_db()
    assert (message.status, message.error, message.failed_at) == (S.FAILED, "RESULT_ERROR_NO_SERVICE", at(FAILED_AT))
    assert message.events.get().detail == "RESULT_ERROR_NO_SERVICE"


def test_a_replayed_event_counts_once(client):
    message = MessageFactory(status=S.SENDING)
    envelope = sent(message)

    first = post(client, envelope)
    second = post(client, envelope)

    assert first.json() == {"results": ["applied"]}
    assert second.status_code == 200
    assert second.json() == {"results": ["duplicate"]}
    assert MessageEvent.objects.filter(source="android", external_id=envelope["id"]).count() == 1


def test_a_replayed_failure_after_a_later_receipt_changes_nothing(client):
    message = MessageFactory(status=S.SENDING)
    failure = failed(message)
    post(client, failure)
    Message.objects.filter(pk=message.pk).update(error="Checked by an operator")

    response = post(client, failure)

    assert response.json() == {"results": ["duplicate"]}
    message.refresh_from_db()
    assert (message.status, message.error) == (S.FAILED, "Checked by an operator")


def test_a_late_sent_after_delivered_leaves_the_message_delivered_and_is_kept_as_an_event(client):
    message = MessageFactory(status=S.SENDING)
    post(client, delivered(message))

    response = post(client, sent(message, sent_at="2025-03-01T10:00:09Z"))

    assert response.json() == {"results": ["late"]}
    message.refresh_from_db()
    assert (message.status, message.sent_at, message.delivered_at) == (S.DELIVERED, at(DELIVERED_AT), at(DELIVERED_AT))
    assert list(message.events.values_list("kind", "status")) == [("delivered", S.DELIVERED), ("sent", S.DELIVERED)]


def test_a_failure_after_delivery_does_not_undo_it(client):
    message = MessageFactory(status=S.DELIVERED, sent_at=at(SENT_AT), delivered_at=at(DELIVERED_AT))

    response = post(client, failed(message))

    assert response.json() == {"results": ["late"]}
    message.refresh_from_db()
    assert (message.status, message.error, message.failed_at) == (S.DELIVERED, "", None)


@pytest.mark.parametrize("make", [sent, delivered, failed], ids=["sent", "delivered", "failed"])
def test_a_cancelled_message_stays_cancelled(client, make):
    message = MessageFactory(status=S.CANCELLED, error="Cancelled by its owner.")

    response = post(client, make(message))

    assert response.json() == {"results": ["late"]}
    message.refresh_from_db()
    assert (message.status, message.error, message.sent_at) == (S.CANCELLED, "Cancelled by its owner.", None)
    assert message.events.get().status == S.CANCELLED


@pytest.mark.parametrize("message_id", [uuid.uuid4(), "not-a-uuid", "12345"], ids=["random-uuid", "text", "digits"])
def test_a_receipt_for_an_unknown_message_is_stored_logged_and_answered_200(client, caplog, message_id):
    envelope = receipt("sms:delivered", message_id, deliveredAt=DELIVERED_AT)
    client.raise_request_exception = False  # a crash should read as a wrong status, not stop the test

    with caplog.at_level(logging.INFO, logger="messaging.receipts"):
        response = post(client, envelope)

    assert response.status_code == 200
    assert response.json() == {"results": ["unknown_message"]}
    event = MessageEvent.objects.get(external_id=envelope["id"])
    assert (event.message, event.source, event.kind, event.status) == (None, "android", "delivered", "")
    assert event.payload == envelope
    assert any(str(message_id) in record.getMessage() for record in caplog.records)


def test_a_ping_is_ignored(client):
    envelope = AndroidEventFactory(event="system:ping", payload={"health": {"status": "pass"}})

    response = post(client, envelope)

    assert response.status_code == 200
    assert response.json() == {"results": ["ignored"]}
    assert MessageEvent.objects.get().kind == "ping"


@pytest.mark.parametrize("make", [sent, delivered, failed], ids=["sent", "delivered", "failed"])
def test_a_receipt_for_a_message_never_handed_to_a_gateway_is_kept_and_changes_nothing(client, make):
    message = MessageFactory(status=S.QUEUED, attempts=0, next_attempt_at=at("2030-01-01T09:00:00Z"))

    response = post(client, make(message))

    assert response.status_code == 200
    assert response.json() == {"results": ["not_sent"]}
    message.refresh_from_db()
    assert (message.status, message.sent_at, message.delivered_at, message.failed_at) == (S.QUEUED, None, None, None)
    assert list(message.events.values_list("source", "status")) == [("android", S.QUEUED)]
