"""Signed webhooks that are not events, and Twilio bodies with NUL: a 400 naming what is wrong (or, for
Twilio, the NUL dropped), never a 500; a refused webhook writes nothing."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
from twilio.request_validator import RequestValidator

from messaging import signing
from messaging.models import MessageEvent
from tests.bad_input.dbstate import changed_rows, row_counts

ANDROID = "/api/v1/webhooks/android"
TWILIO = "/api/v1/webhooks/twilio"
FORM = "application/x-www-form-urlencoded"
KEY = "bad-input-signing-key"
TWILIO_TOKEN = "bad-input-twilio-token"

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def gateways(settings):
    settings.SMS_WEBHOOK_SIGNING_KEY = KEY
    settings.TWILIO_AUTH_TOKEN = TWILIO_TOKEN
    settings.PUBLIC_BASE_URL = "https://sms.example.com"


def post_android(client, body: bytes):
    headers = signing.signed_headers(body, KEY)
    return client.post(
        ANDROID,
        data=body,
        content_type="application/json",
        HTTP_X_SIGNATURE=headers["X-Signature"],
        HTTP_X_TIMESTAMP=headers["X-Timestamp"],
    )


def post_twilio(client, params: dict[str, str]):
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(f"https://sms.example.com{TWILIO}", params)
    return client.post(
        TWILIO,
        data=urlencode(params),
        content_type="application/x-www-form-urlencoded",
        HTTP_X_TWILIO_SIGNATURE=signature,
    )


DEEP = "[" * 5000 + "]" * 5000


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"id": "e1", "event": 7, "payload": {}}', "The event's `event` must be the name of an event"),
        (b'{"id": "e1", "event": ["sms:sent"], "payload": {}}', "The event's `event` must be the name of an event"),
        (b'{"id": {"a": 1}, "event": "sms:sent", "payload": {}}', "The event has no `id`."),
        (b'{"id": "e1", "event": "sms:sent", "payload": []}', "The event's `payload` must be an object."),
        (b'{"id": "e\\u0000", "event": "sms:sent", "payload": {}}', "The body['id'] holds a NUL character."),
        (
            b'{"id": "e1", "event": "sms:received", "payload": {"message": "hi\\u0000"}}',
            "The body['payload']['message'] holds a NUL character.",
        ),
        (
            b'{"id": "e1", "event": "sms:received", "payload": {"a\\u0000b": "x"}}',
            "A key of the body['payload'] holds a NUL character.",
        ),
        (
            b'{"id": "e1", "event": "sms:received", "payload": {"message": "\\ud83d"}}',
            "The body['payload']['message'] holds an unpaired UTF-16 surrogate.",
        ),
        (b'{"id": "e1", "event": "sms:sent", "payload": {"x": ' + DEEP.encode() + b"}}", "nested too deeply"),
        (
            b'{"id": "e1", "event": "sms:sent", "payload": {"x": ' + b"[" * 40 + b"]" * 40 + b"}}",
            "is nested more than 32 levels deep.",
        ),
        (b'["sms:sent"]', "The body is not a JSON object."),
        (b"\xff\xfe not json", "The body is not JSON"),
        (b'{"id": "e1", "event": "sms:sent", "payload": {"sentAt": 5}}', "Not a gateway event"),
    ],
)
def test_a_signed_android_webhook_that_is_not_an_event_is_a_400_naming_what_is_wrong(client, body, message):
    before = row_counts()

    response = post_android(client, body)

    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == "malformed_webhook"
    assert message in response.json()["error"]["message"]
    assert changed_rows(before) == {}


def test_a_twilio_reply_with_nul_is_kept_without_it(client):
    params = {"MessageSid": "SM\x00001", "From": "+447400123456", "To": "+447400000000", "Body": "Hel\x00lo"}

    response = post_twilio(client, params)

    assert response.status_code == 200, response.content
    event = MessageEvent.objects.get()
    assert (event.external_id, event.detail, event.payload["Body"]) == ("SM001:received", "Hello", "Hello")


def test_a_twilio_status_with_nul_in_every_field_is_no_500(client):
    params = {"MessageSid": "SM\x00", "MessageStatus": "deliv\x00ered", "ErrorCode": "\x00", "To": "\x00"}

    assert post_twilio(client, params).status_code == 200


def test_nothing_of_this_is_echoed_at_length(client):
    body = json.dumps({"id": "e1", "event": "sms:received", "payload": {"x" * 10_000: "\x00"}}).encode()

    response = post_android(client, body)

    assert response.status_code == 400
    assert len(response.json()["error"]["message"]) < 200
