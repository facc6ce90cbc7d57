"""The android webhook takes only requests signed with SMS_WEBHOOK_SIGNING_KEY, recently, over the exact body."""

from __future__ import annotations

import json
import time

import pytest

from messaging import signing
from messaging.models import Message, MessageEvent
from messaging.tests.factories import AndroidEventFactory, MessageFactory

URL = "/api/v1/webhooks/android"
KEY = "test-signing-key"


@pytest.fixture(autouse=True)
def signing_key(settings):
    settings.SMS_WEBHOOK_SIGNING_KEY = KEY


@pytest.fixture
def message(db):
    return MessageFactory(status=Message.Status.SENDING)


def delivered(message) -> bytes:
    envelope = AndroidEventFactory(
        event="sms:delivered",
        payload={"messageId": str(message.pk), "phoneNumber": message.phone, "deliveredAt": "2025-03-01T10:00:00Z"},
    )
    return json.dumps(envelope).encode()


def post(client, body: bytes, headers: dict[str, str]):
    meta = {f"HTTP_{name.upper().replace('-', '_')}": value for name, value in headers.items()}
    return client.post(URL, data=body, content_type="application/json", **meta)


def assert_refused(response, message):
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "bad_signature"
    message.refresh_from_db()
    assert message.status == Message.Status.SENDING
    assert not MessageEvent.objects.exists()


def test_a_correctly_signed_request_is_accepted(client, message):
    body = delivered(message)

    response = post(client, body, signing.signed_headers(body, KEY))

    assert response.status_code == 200
    assert response.json() == {"results": ["applied"]}
    message.refresh_from_db()
    assert message.status == Message.Status.DELIVERED


def test_a_request_without_a_signature_is_refused(client, message):
    body = delivered(message)

    response = post(client, body, {"X-Timestamp": str(int(time.time()))})

    assert_refused(response, message)


def test_a_request_without_any_signing_headers_is_refused(client, message):
    response = post(client, delivered(message), {})

    assert_refused(response, message)


def test_a_request_signed_with_another_key_is_refused(client, message):
    body = delivered(message)

    response = post(client, body, signing.signed_headers(body, "someone-elses-key"))

    assert_refused(response, message)


def test_a_body_changed_after_signing_is_refused(client, message):
    body = delivered(message)
    headers = signing.signed_headers(body, KEY)

    response = post(client, body.replace(b"sms:delivered", b"sms:failed"), headers)

    assert_refused(response, message)


# 310 s, not 301: the header holds whole seconds and the request takes time, so on a busy machine a timestamp
# 301 s ahead is already 300 s ahead when it is checked (the exact edge is tested on signing.verify itself).
@pytest.mark.parametrize("offset", [-310, 310, -3600], ids=["310s-old", "310s-ahead", "an-hour-old"])
def test_a_timestamp_more_than_five_minutes_from_our_clock_is_refused(client, message, offset):
    body = delivered(message)

    response = post(client, body, signing.signed_headers(body, KEY, now=time.time() + offset))

    assert_refused(response, message)


def test_a_timestamp_that_is_not_unix_seconds_is_refused(client, message):
    body = delivered(message)
    timestamp = "2025-03-01T10:00:00Z"

    response = post(client, body, {"X-Timestamp": timestamp, "X-Signature": signing.sign(body, timestamp, KEY)})

    assert_refused(response, message)


def test_every_request_is_refused_when_no_signing_key_is_configured(client, message, settings):
    settings.SMS_WEBHOOK_SIGNING_KEY = ""
    body = delivered(message)

    response = post(client, body, signing.signed_headers(body, ""))

    assert_refused(response, message)


@pytest.mark.parametrize(
    "body",
    [
        b"this is not json",
        b"[]",
        json.dumps({"id": "evt-1", "payload": {}}).encode(),
        json.dumps({"event": "sms:sent", "payload": {}}).encode(),
        json.dumps({"id": "evt-1", "event": "sms:sent", "payload": "not an object"}).encode(),
    ],
    ids=["not-json", "not-an-object", "no-event", "no-id", "payload-not-an-object"],
)
def test_a_signed_but_malformed_body_is_a_400(client, db, body):
    response = post(client, body, signing.signed_headers(body, KEY))

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed_webhook"
    assert not MessageEvent.objects.exists()


@pytest.mark.parametrize("event_id", [None, ""], ids=["null", "empty"])
def test_an_envelope_with_a_null_or_empty_id_is_malformed(client, db, event_id):
    # Replays are recognised by id: a null id would read as "None" and swallow every later one as a duplicate.
    body = json.dumps({"id": event_id, "event": "sms:sent", "payload": {}}).encode()

    response = post(client, body, signing.signed_headers(body, KEY))

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed_webhook"
    assert not MessageEvent.objects.exists()


def test_the_signature_may_come_in_upper_case_hex(client, message):
    body = delivered(message)
    headers = signing.signed_headers(body, KEY)
    headers["X-Signature"] = headers["X-Signature"].upper()

    response = post(client, body, headers)

    assert response.status_code == 200


NOW = 1_700_000_000


@pytest.mark.parametrize("skew", [-300, 300])
def test_verify_allows_a_skew_of_exactly_300_seconds(skew):
    body, timestamp = b'{"id": "evt-1"}', str(NOW + skew)

    signing.verify(body, timestamp, signing.sign(body, timestamp, KEY), KEY, now=NOW)


@pytest.mark.parametrize("skew", [-301, 301])
def test_verify_refuses_a_skew_of_301_seconds(skew):
    body, timestamp = b'{"id": "evt-1"}', str(NOW + skew)

    with pytest.raises(signing.BadSignature, match="301 s from our clock"):
        signing.verify(body, timestamp, signing.sign(body, timestamp, KEY), KEY, now=NOW)
