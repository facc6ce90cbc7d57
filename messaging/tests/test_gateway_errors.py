"""Gateway errors say whether to retry; the android backend speaks the gateway's HTTP API, faked here."""

from __future__ import annotations

import asyncio
import base64
import socket
import uuid
from dataclasses import dataclass, field

import aiohttp
import pytest
from aiohttp import web
from android_sms_gateway import errors
from twilio.base.exceptions import TwilioRestException

from messaging.backends import android, twilio
from messaging.backends.android import AndroidGatewayBackend
from messaging.backends.base import (
    GatewayAuthError,
    GatewayStatus,
    OutgoingSMS,
    PermanentError,
    RetryableError,
)

# --- Classifying the android client's errors ----------------------------------------


@pytest.mark.parametrize("status", [401, 403])
def test_android_refused_credentials_are_an_auth_error(status):
    error = android.classify(errors.error_from_status("refused", status, {"message": "Unauthorized"}))

    assert type(error) is GatewayAuthError
    assert error.retryable


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_android_overload_and_server_errors_are_retryable(status):
    error = android.classify(errors.error_from_status("busy", status, {"message": "try later"}))

    assert type(error) is RetryableError
    assert str(status) in error.reason


def test_an_android_api_error_without_a_status_is_retryable():
    assert type(android.classify(errors.APIError("no answer"))) is RetryableError


@pytest.mark.parametrize("status", [400, 404, 422])
def test_android_client_errors_are_permanent_and_keep_the_gateways_message(status):
    error = android.classify(errors.error_from_status("bad", status, {"message": "invalid phone number"}))

    assert type(error) is PermanentError
    assert not error.retryable
    assert "invalid phone number" in error.reason


@pytest.mark.parametrize(
    "exc",
    [
        aiohttp.ClientConnectionError("refused"),
        aiohttp.ServerDisconnectedError(),
        TimeoutError(),  # asyncio.TimeoutError is this builtin since Python 3.11
    ],
    ids=["connection", "disconnected", "timeout"],
)
def test_android_connection_errors_and_timeouts_are_retryable(exc):
    assert type(android.classify(exc)) is RetryableError


def test_an_android_error_that_is_not_the_gateways_is_raised_not_classified():
    with pytest.raises(KeyError):
        android.classify(KeyError("our own bug"))


# --- Classifying Twilio's errors ----------------------------------------------------


def rest_error(status: int, code: int | None = None) -> TwilioRestException:
    return TwilioRestException(status, "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json", "nope", code)


@pytest.mark.parametrize("status", [401, 403])
def test_twilio_refused_credentials_are_an_auth_error(status):
    assert type(twilio.classify(rest_error(status, 20003))) is GatewayAuthError


@pytest.mark.parametrize("status", [429, 500, 503])
def test_twilio_overload_and_server_errors_are_retryable(status):
    assert type(twilio.classify(rest_error(status, 20429))) is RetryableError


def test_a_twilio_invalid_number_is_permanent_and_names_the_code():
    error = twilio.classify(rest_error(400, 21211))

    assert type(error) is PermanentError
    assert "21211" in error.reason


def test_twilio_connection_errors_are_retryable():
    assert type(twilio.classify(aiohttp.ClientConnectionError("refused"))) is RetryableError


# --- The android backend against a fake of the gateway's HTTP API ------------------

LOGIN, PASSWORD = "inboxerr", "s3cret"


@dataclass
class FakeGateway:
    """The gateway's /messages endpoints as far as we use them; it records every request it gets."""

    listener: socket.socket  # bound to a free port; served only while `run` runs
    requests: list[dict] = field(default_factory=list)
    states: dict[str, dict] = field(default_factory=dict)  # id -> MessageState JSON for GET /messages/{id}
    answer_with: dict[str, int] = field(default_factory=dict)  # phone -> status to refuse it with
    html_for: set[str] = field(default_factory=set)  # phones answered 200 with a web page, as a wrong URL would
    fail_all_with: int = 0
    delays: dict[str, float] = field(default_factory=dict)  # phone or id -> seconds before answering
    in_flight: int = 0
    most_in_flight: int = 0  # sends being answered at the same time, at most

    async def post_message(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.requests.append(
            {"method": "POST", "path": request.path, "auth": request.headers.get("Authorization"), "json": body}
        )
        phone = body["phoneNumbers"][0]
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await asyncio.sleep(self.delays.get(phone, 0))
        finally:
            self.in_flight -= 1
        status = self.fail_all_with or self.answer_with.get(phone)
        if status:
            return web.json_response({"message": f"refused with {status}"}, status=status)
        if phone in self.html_for:
            return web.Response(text="<html>Sign in</html>", content_type="text/html")
        state = {"id": body["id"], "state": "Pending", "recipients": [{"phoneNumber": phone, "state": "Pending"}]}
        self.states[body["id"]] = state
        return web.json_response(state, status=202)

    async def get_message(self, request: web.Request) -> web.Response:
        message_id = request.match_info["id"]
        self.requests.append({"method": "GET", "path": request.path, "auth": request.headers.get("Authorization")})
        await asyncio.sleep(self.delays.get(message_id, 0))
        if self.fail_all_with:
            return web.json_response({"message": "refused"}, status=self.fail_all_with)
        if message_id not in self.states:
            return web.json_response({"message": "message not found"}, status=404)
        return web.json_response(self.states[message_id])

    def run(self, scenario):
        """Serve the fake while `scenario()` runs in a new event loop; return what it returns."""

        async def main():
            app = web.Application()
            app.router.add_post("/3rdparty/v1/messages", self.post_message)
            app.router.add_get("/3rdparty/v1/messages/{id}", self.get_message)
            runner = web.AppRunner(app)
            await runner.setup()
            await web.SockSite(runner, self.listener.dup()).start()  # the dup is closed at cleanup; ours stays bound
            try:
                return await scenario()
            finally:
                await runner.cleanup()

        return asyncio.run(main())


@pytest.fixture
def gateway(settings):
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        settings.SMS_GATEWAY_URL = f"http://127.0.0.1:{listener.getsockname()[1]}/3rdparty/v1"
        settings.SMS_GATEWAY_LOGIN = LOGIN
        settings.SMS_GATEWAY_PASSWORD = PASSWORD
        yield FakeGateway(listener)


def sms(phone: str = "+447400000001", text: str = "Your code is 1234") -> OutgoingSMS:
    return OutgoingSMS(id=uuid.uuid4(), phone=phone, text=text)


def send_one(gateway: FakeGateway, message: OutgoingSMS) -> str:
    async def scenario():
        async with AndroidGatewayBackend() as backend:
            return await backend.send_one(message)

    return gateway.run(scenario)


def test_send_one_posts_our_id_text_and_delivery_report_with_basic_auth(gateway):
    message = sms(text="Hi Ann, your order A-1 ships today")

    gateway_id = send_one(gateway, message)

    assert gateway_id == str(message.id)
    [request] = gateway.requests
    assert (request["method"], request["path"]) == ("POST", "/3rdparty/v1/messages")
    assert request["auth"] == "Basic " + base64.b64encode(f"{LOGIN}:{PASSWORD}".encode()).decode()
    assert request["json"]["id"] == str(message.id)
    assert request["json"]["phoneNumbers"] == ["+447400000001"]
    assert request["json"]["textMessage"] == {"text": "Hi Ann, your order A-1 ships today"}
    assert request["json"]["withDeliveryReport"] is True


@pytest.mark.parametrize(
    ("status", "error"), [(503, RetryableError), (500, RetryableError), (401, GatewayAuthError), (400, PermanentError)]
)
def test_send_one_raises_what_the_gateways_answer_means(gateway, status, error):
    gateway.fail_all_with = status

    with pytest.raises(error) as raised:
        send_one(gateway, sms())

    assert type(raised.value) is error
    assert str(status) in raised.value.reason


def test_send_one_to_a_port_nobody_listens_on_is_retryable(gateway, settings):
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        settings.SMS_GATEWAY_URL = f"http://127.0.0.1:{unused.getsockname()[1]}/3rdparty/v1"

        with pytest.raises(RetryableError, match="unreachable"):
            send_one(gateway, sms())


def get_state(gateway: FakeGateway, message_id: uuid.UUID, gateway_id: str = ""):
    async def scenario():
        return await AndroidGatewayBackend().get_state(message_id, gateway_id)

    return gateway.run(scenario)


def test_get_state_of_a_message_the_gateway_never_got_is_unknown(gateway):
    message_id = uuid.uuid4()

    state = get_state(gateway, message_id)

    assert state.state == GatewayStatus.UNKNOWN
    assert gateway.requests[0]["path"] == f"/3rdparty/v1/messages/{message_id}"


def test_get_state_of_a_pending_message_is_accepted(gateway):
    message = sms()
    send_one(gateway, message)

    state = get_state(gateway, message.id)

    assert (state.state, state.gateway_id, state.error) == (GatewayStatus.ACCEPTED, str(message.id), "")


@pytest.mark.parametrize(
    ("gateway_state", "ours", "error"),
    [
        ("Processed", GatewayStatus.ACCEPTED, ""),
        ("Sent", GatewayStatus.SENT, ""),
        ("Delivered", GatewayStatus.DELIVERED, ""),
        ("Failed", GatewayStatus.FAILED, "no signal"),
    ],
)
def test_get_state_maps_the_gateways_states_to_ours(gateway, gateway_state, ours, error):
    message_id = uuid.uuid4()
    recipient = {"phoneNumber": "+447400000001", "state": gateway_state, **({"error": error} if error else {})}
    gateway.states[str(message_id)] = {"id": str(message_id), "state": gateway_state, "recipients": [recipient]}

    state = get_state(gateway, message_id)

    assert (state.state, state.error) == (ours, error)


def test_get_state_asks_by_the_gateway_id_when_there_is_one(gateway):
    gateway.states["gw-7"] = {"id": "gw-7", "state": "Delivered", "recipients": []}

    state = get_state(gateway, uuid.uuid4(), gateway_id="gw-7")

    assert (state.state, state.gateway_id) == (GatewayStatus.DELIVERED, "gw-7")
    assert gateway.requests[0]["path"] == "/3rdparty/v1/messages/gw-7"


@pytest.mark.parametrize(("status", "error"), [(503, RetryableError), (401, GatewayAuthError)])
def test_get_state_raises_what_the_gateways_answer_means(gateway, status, error):
    gateway.fail_all_with = status

    with pytest.raises(error):
        get_state(gateway, uuid.uuid4())


def test_states_asked_at_once_on_one_backend_are_all_answered(gateway):
    """The dispatcher asks about every doubtful message at once, on one backend instance."""
    ids = [uuid.uuid4() for _ in range(3)]
    for index, message_id in enumerate(ids):
        gateway.states[str(message_id)] = {"id": str(message_id), "state": "Sent", "recipients": []}
        gateway.delays[str(message_id)] = 0.05 * index  # answered in the order asked

    async def scenario():
        backend = AndroidGatewayBackend()
        return await asyncio.gather(*(backend.get_state(i) for i in ids), return_exceptions=True)

    states = gateway.run(scenario)

    answers = [s if isinstance(s, Exception) else (s.state, s.gateway_id) for s in states]
    assert answers == [(GatewayStatus.SENT, str(i)) for i in ids]


def test_send_batch_returns_one_result_per_message_in_order_with_errors_attached(gateway):
    messages = [sms("+447400000001"), sms("+447400000002"), sms("+447400000003"), sms("+447400000004")]
    gateway.answer_with = {"+447400000002": 400, "+447400000004": 503}
    gateway.delays = {"+447400000001": 0.1}  # answered last, listed first

    results = gateway.run(lambda: AndroidGatewayBackend().send_batch(messages, concurrency=4))

    assert [r.message_id for r in results] == [m.id for m in messages]
    assert [r.accepted for r in results] == [True, False, True, False]
    assert [type(r.error) for r in results] == [type(None), PermanentError, type(None), RetryableError]
    assert [r.gateway_id for r in results] == [str(messages[0].id), "", str(messages[2].id), ""]


def test_send_batch_keeps_at_most_concurrency_requests_in_flight(gateway):
    messages = [sms(f"+4474000000{n:02d}") for n in range(6)]
    gateway.delays = {m.phone: 0.05 for m in messages}

    results = gateway.run(lambda: AndroidGatewayBackend().send_batch(messages, concurrency=2))

    assert [r.accepted for r in results] == [True] * 6
    assert len(gateway.requests) == 6
    assert gateway.most_in_flight == 2


def test_send_batch_attaches_an_error_for_an_answer_that_is_not_a_message_state(gateway):
    # A wrong SMS_GATEWAY_URL (a web page, a proxy) answers 200 with HTML: that send failed, the batch goes on.
    messages = [sms("+447400000001"), sms("+447400000002")]
    gateway.html_for = {"+447400000002"}

    try:
        results = gateway.run(lambda: AndroidGatewayBackend().send_batch(messages, concurrency=2))
    except Exception as exc:
        pytest.fail(f"send_batch raised {exc!r} instead of attaching an error to that message's result")

    assert [r.message_id for r in results] == [m.id for m in messages]
    assert results[0].accepted
    assert type(results[1].error) is RetryableError
