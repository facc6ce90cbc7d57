"""Fuzzing the webhooks with signed bodies (hypothesis): whatever a gateway's key signs, the answer is a
200 or a 400, never a 500. Unsigned bodies are refused before they are read (403, in the apps' tests)."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator

from messaging import signing

FORM = "application/x-www-form-urlencoded"
KEY = "fuzz-signing-key"
TWILIO_TOKEN = "fuzz-twilio-token"
EVENTS = ["sms:sent", "sms:delivered", "sms:failed", "sms:received", "system:ping", "mms:received", "x"]
# Text as attackers and broken clients send it: anything, with NUL and unpaired surrogates thrown in.
ODD = st.sampled_from(["\x00", "a\x00b", "\ud83d", "tail \udfff", "\u202e", "0" * 300, ""])
TEXT = st.text(max_size=30) | ODD
SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | TEXT
JSON = st.recursive(
    SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3), max_leaves=12
)
TIMES = st.sampled_from(["2026-12-01T10:00:00Z", "2026-12-01T10:00:00.000+01:00", "yesterday", "", "9" * 30]) | JSON
PAYLOAD = st.fixed_dictionaries(
    {},
    optional={
        "messageId": st.uuids().map(str) | JSON,
        "phoneNumber": st.sampled_from(["+447400123456", "07400 123456", "12"]) | JSON,
        "message": TEXT,
        "reason": JSON,
        "sentAt": TIMES,
        "deliveredAt": TIMES,
        "receivedAt": TIMES,
    },
)
ENVELOPE = st.fixed_dictionaries(
    {}, optional={"id": TEXT | JSON, "event": st.sampled_from(EVENTS) | JSON, "payload": PAYLOAD | JSON}
)
BODIES = (
    ENVELOPE.map(lambda envelope: json.dumps(envelope).encode())
    | st.binary(max_size=200)
    | JSON.map(lambda value: json.dumps(value).encode())
)


@pytest.fixture
def gateways(settings):
    settings.SMS_WEBHOOK_SIGNING_KEY = KEY
    settings.TWILIO_AUTH_TOKEN = TWILIO_TOKEN
    settings.PUBLIC_BASE_URL = "https://sms.example.com"


@pytest.mark.django_db
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=BODIES)
def test_no_signed_android_body_is_a_500(client, gateways, body):
    headers = signing.signed_headers(body, KEY)
    response = client.post(
        "/api/v1/webhooks/android",
        data=body,
        content_type="application/json",
        HTTP_X_SIGNATURE=headers["X-Signature"],
        HTTP_X_TIMESTAMP=headers["X-Timestamp"],
    )

    assert response.status_code in {200, 400}, (body, response.content)


FORM_TEXT = st.text(max_size=20) | st.sampled_from(["\x00", "SM\x00", "received", "delivered", "failed"])


@pytest.mark.django_db
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    params=st.dictionaries(
        st.sampled_from(["MessageSid", "SmsSid", "MessageStatus", "From", "To", "Body", "ErrorCode"]) | FORM_TEXT,
        FORM_TEXT,
        max_size=6,
    ),
    message_id=st.none() | st.uuids().map(str) | FORM_TEXT,
)
def test_no_signed_twilio_body_is_a_500(client, gateways, params, message_id):
    path = "/api/v1/webhooks/twilio" + (f"?{urlencode({'message_id': message_id})}" if message_id else "")
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(f"https://sms.example.com{path}", params)

    response = client.post(
        path,
        data=urlencode(params),
        content_type="application/x-www-form-urlencoded",
        HTTP_X_TWILIO_SIGNATURE=signature,
    )

    assert response.status_code in {200, 400}, (params, response.content)
