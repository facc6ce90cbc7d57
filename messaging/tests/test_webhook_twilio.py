"""Twilio's status callbacks and inbound SMS, checked with its X-Twilio-Signature over our public URL."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlencode

import pytest
from twilio.request_validator import RequestValidator

from messaging.models import InboundMessage, Message, MessageEvent, OptOut
from messaging.tests.factories import MessageFactory

PATH = "/api/v1/webhooks/twilio"
BASE = "https://inboxerr.example.com"
TOKEN = "twilio-auth-token"
PHONE = "+447400000001"
EARLIER = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
LATER = datetime(2025, 3, 1, 10, 0, tzinfo=UTC)
S = Message.Status

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def twilio_settings(settings):
    settings.TWILIO_AUTH_TOKEN = TOKEN
    settings.PUBLIC_BASE_URL = BASE


def post(client, params: dict, *, query: str = "", signature: str | None = None, token: str = TOKEN):
    path = f"{PATH}?{query}" if query else PATH
    if signature is None:
        signature = RequestValidator(token).compute_signature(BASE + path, params)
    return client.post(
        path,
        data=urlencode(params),
        content_type="application/x-www-form-urlencoded",
        HTTP_X_TWILIO_SIGNATURE=signature,
    )


def status_callback(message, status: str, **extra) -> dict:
    return {
        "AccountSid": "AC123",
        "MessageSid": message.gateway_message_id or "SM0001",
        "MessageStatus": status,
        "To": message.phone,
        "From": "+15005550006",
        "ApiVersion": "2010-04-01",
        **extra,
    }


def ours(message) -> str:
    return urlencode({"message_id": message.pk})


def test_delivered_moves_the_message_named_in_the_url_to_delivered(client):
    message = MessageFactory(status=S.SENT, gateway_message_id="SM0001")

    response = post(client, status_callback(message, "delivered"), query=ours(message))

    assert response.status_code == 200
    assert response.json() == {"results": ["applied"]}
    message.refresh_from_db()
    assert message.status == S.DELIVERED
    assert message.delivered_at is not None
    event = message.events.get()
    assert (event.source, event.external_id, event.kind, event.status) == (
        "twilio",
        "SM0001:delivered",
        "delivered",
        S.DELIVERED,
    )


def test_the_message_id_in_the_url_wins_over_a_matching_sid(client):
    named = MessageFactory(status=S.SENT, gateway_message_id="SM0001")
    other = MessageFactory(status=S.SENT, gateway_message_id="SM0002")

    post(client, status_callback(other, "delivered"), query=ours(named))

    named.refresh_from_db()
    other.refresh_from_db()
    assert (named.status, other.status) == (S.DELIVERED, S.SENT)


@pytest.mark.parametrize("status", ["failed", "undelivered"])
def test_failed_and_undelivered_move_the_message_to_failed_with_the_error_code(client, status):
    message = MessageFactory(status=S.SENT, gateway_message_id="SM0001")

    response = post(client, status_callback(message, status, ErrorCode="30003"), query=ours(message))

    assert response.json() == {"results": ["applied"]}
    message.refresh_from_db()
    assert (message.status, message.error) == (S.FAILED, "30003")
    assert message.failed_at is not None


def test_sent_moves_a_sending_message_to_sent(client):
    message = MessageFactory(status=S.SENDING, gateway_message_id="SM0001")

    post(client, status_callback(message, "sent"), query=ours(message))

    message.refresh_from_db()
    assert message.status == S.SENT
    assert message.sent_at is not None


def test_an_intermediate_status_is_stored_and_ignored(client):
    message = MessageFactory(status=S.SENDING, gateway_message_id="SM0001")

    response = post(client, status_callback(message, "queued"), query=ours(message))

    assert response.json() == {"results": ["ignored"]}
    message.refresh_from_db()
    assert message.status == S.SENDING
    assert MessageEvent.objects.get().kind == "queued"


def test_a_callback_without_our_id_finds_the_message_by_its_sid(client):
    message = MessageFactory(status=S.SENT, gateway_message_id="SM0042")
    MessageFactory(status=S.SENT, gateway_message_id="SM0043")

    response = post(client, status_callback(message, "delivered"))

    assert response.json() == {"results": ["applied"]}
    message.refresh_from_db()
    assert message.status == S.DELIVERED


def test_a_callback_for_a_sid_we_do_not_know_is_answered_200(client):
    MessageFactory(status=S.SENT, gateway_message_id="SM0001")
    params = {"AccountSid": "AC123", "MessageSid": "SM9999", "MessageStatus": "delivered", "To": PHONE}

    response = post(client, params)

    assert response.status_code == 200
    assert response.json() == {"results": ["unknown_message"]}
    assert MessageEvent.objects.get().message is None


def test_a_callback_with_a_mangled_message_id_is_answered_200_not_500(client):
    MessageFactory(status=S.SENT, gateway_message_id="SM0001")
    params = {"AccountSid": "AC123", "MessageSid": "SM0001", "MessageStatus": "delivered", "To": PHONE}
    client.raise_request_exception = False  # a crash should read as a wrong status, not stop the test

    response = post(client, params, query="message_id=not-a-uuid")

    # A 500 makes Twilio retry the callback, failing the same way each time; the SID still finds the message.
    assert response.status_code == 200
    assert response.json() == {"results": ["applied"]}


def test_a_replayed_callback_counts_once(client):
    message = MessageFactory(status=S.SENT, gateway_message_id="SM0001")
    params = status_callback(message, "delivered")

    post(client, params, query=ours(message))
    response = post(client, params, query=ours(message))

    assert response.json() == {"results": ["duplicate"]}
    assert MessageEvent.objects.count() == 1


@pytest.mark.parametrize(
    "signature", ["", "not-a-signature", "wrong-token"], ids=["missing", "garbage", "signed-with-another-token"]
)
def test_a_bad_or_missing_signature_is_refused(client, signature):
    message = MessageFactory(status=S.SENT, gateway_message_id="SM0001")
    params = status_callback(message, "delivered")
    if signature == "wrong-token":
        signature = RequestValidator("another-token").compute_signature(f"{BASE}{PATH}?{ours(message)}", params)

    response = post(client, params, query=ours(message), signature=signature)

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "bad_signature"
    message.refresh_from_db()
    assert message.status == S.SENT
    assert not MessageEvent.objects.exists()


def test_a_callback_whose_url_was_changed_after_signing_is_refused(client):
    message = MessageFactory(status=S.SENT, gateway_message_id="SM0001")
    victim = MessageFactory(status=S.SENT)
    params = status_callback(message, "failed")
    signature = RequestValidator(TOKEN).compute_signature(f"{BASE}{PATH}?{ours(message)}", params)

    response = post(client, params, query=ours(victim), signature=signature)

    assert response.status_code == 403
    victim.refresh_from_db()
    assert victim.status == S.SENT


def test_every_callback_is_refused_when_no_auth_token_is_configured(client, settings):
    settings.TWILIO_AUTH_TOKEN = ""
    message = MessageFactory(status=S.SENT, gateway_message_id="SM0001")

    response = post(client, status_callback(message, "delivered"), query=ours(message), token="")

    assert response.status_code == 403
    message.refresh_from_db()
    assert message.status == S.SENT


def inbound(body: str, sid: str = "SM-in-1") -> dict:
    return {
        "AccountSid": "AC123",
        "MessageSid": sid,
        "SmsSid": sid,
        "From": PHONE,
        "To": "+15005550006",
        "Body": body,
        "NumMedia": "0",
        "ApiVersion": "2010-04-01",
    }


def assert_empty_twiml(response) -> None:
    """Twilio reads the answer to an inbound SMS as TwiML: an empty Response, so it sends nothing back."""
    assert response.status_code == 200
    assert response["Content-Type"].split(";")[0] == "text/xml"
    assert response.content.decode() == '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def test_an_inbound_stop_opts_the_number_out_of_every_sender(client, user, other_user):
    MessageFactory(owner=other_user, phone=PHONE, status=S.SENT, sent_at=EARLIER)
    MessageFactory(owner=user, phone=PHONE, status=S.SENT, sent_at=LATER)

    response = post(client, inbound("Stop"))

    assert response.status_code == 200
    assert_empty_twiml(response)
    assert list(OptOut.objects.values_list("owner", "phone", "keyword")) == [(None, PHONE, "Stop")]
    assert MessageEvent.objects.get().external_id == "SM-in-1:received"
    received = InboundMessage.objects.get()
    assert (received.owner, received.phone, received.text, received.gateway_number) == (
        user,
        PHONE,
        "Stop",
        "+15005550006",
    )
    assert (received.keyword, received.gateway_message_id) == ("stop", "SM-in-1")


def test_an_inbound_sms_that_twilio_marks_received_is_read_as_a_reply(client, user):
    MessageFactory(owner=user, phone=PHONE, status=S.SENT, sent_at=LATER)

    response = post(client, {**inbound("STOP"), "SmsStatus": "received"})

    assert_empty_twiml(response)
    assert OptOut.objects.filter(owner=None, phone=PHONE).exists()


def test_an_inbound_mms_is_an_inbound_message_of_its_kind(client, user):
    MessageFactory(owner=user, phone=PHONE, status=S.SENT, sent_at=LATER)

    post(client, {**inbound("Here is the photo"), "NumMedia": "1", "MediaUrl0": "https://api.twilio.com/m/1"})

    assert InboundMessage.objects.get().kind == "mms"


def test_an_inbound_start_opts_back_in(client, user):
    MessageFactory(owner=user, phone=PHONE, status=S.SENT, sent_at=LATER)
    OptOut.objects.create(owner=user, phone=PHONE, source="twilio", keyword="STOP")

    response = post(client, inbound("START", sid="SM-in-2"))

    assert_empty_twiml(response)
    assert not OptOut.objects.exists()


def test_an_inbound_sms_that_is_not_a_keyword_goes_to_its_senders_inbox(client, user):
    MessageFactory(owner=user, phone=PHONE, status=S.SENT, sent_at=LATER)

    response = post(client, inbound("Is my parcel coming today?"))

    assert_empty_twiml(response)
    assert not OptOut.objects.exists()
    assert list(InboundMessage.objects.values_list("owner", "text", "keyword")) == [
        (user.pk, "Is my parcel coming today?", "")
    ]


def test_a_forged_inbound_stop_is_refused(client, user):
    MessageFactory(owner=user, phone=PHONE, status=S.SENT, sent_at=LATER)

    response = post(client, inbound("STOP"), signature="forged")

    assert response.status_code == 403
    assert not OptOut.objects.exists()


def test_a_status_callback_is_still_answered_with_json_results(client):
    message = MessageFactory(status=S.SENT, gateway_message_id="SM0001")

    response = post(client, status_callback(message, "delivered"), query=ours(message))

    assert response["Content-Type"] == "application/json"
    assert response.json() == {"results": ["applied"]}
