"""The local SMS Gateway for Android simulator, driven through the official client as the android backend drives it."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from android_sms_gateway import client, domain, errors
from android_sms_gateway.ahttp import AiohttpAsyncHttpClient
from android_sms_gateway.enums import ProcessState, WebhookEvent

from messaging import signing, simulator
from messaging.management.commands import fake_gateway
from messaging.simulator import Gateway, SimulatorConfig, SimulatorThread, serving

KEY = "test-signing-key"
SIM_AUTH = {"Authorization": aiohttp.encode_basic_auth("sim", "sim")}
WAIT = 5  # seconds a test waits for a webhook before failing


def config(**overrides) -> SimulatorConfig:
    values = {"port": 0, "latency_ms": 0, "webhook_delay_ms": 1, "signing_key": KEY, "seed": 7, **overrides}
    return SimulatorConfig(**values)


def sms(message_id: str | None = None, text: str = "Hello from the test") -> domain.Message:
    return domain.Message(
        phone_numbers=["+447700900001"], text_message=domain.TextMessage(text=text), id=message_id or str(uuid.uuid4())
    )


@asynccontextmanager
async def official_client(url: str, login: str = "sim", password: str = "sim") -> AsyncIterator[client.AsyncAPIClient]:
    async with aiohttp.ClientSession() as session:
        yield client.AsyncAPIClient(login, password, base_url=url, http_client=AiohttpAsyncHttpClient(session))


@dataclass
class Receiver:
    """A tiny webhook endpoint that records what it is sent, answering `statuses` in turn, then 200."""

    url: str = ""
    events: asyncio.Queue = field(default_factory=asyncio.Queue)
    statuses: list[int] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        if self.statuses:
            return web.Response(status=self.statuses.pop(0))
        await self.events.put((body, dict(request.headers)))
        return web.Response(status=200)

    async def next(self) -> tuple[dict, bytes, dict[str, str]]:
        body, headers = await asyncio.wait_for(self.events.get(), WAIT)
        return json.loads(body), body, headers


@asynccontextmanager
async def receiver(statuses: list[int] | None = None) -> AsyncIterator[Receiver]:
    hook = Receiver(statuses=list(statuses or []))
    app = web.Application()
    app.router.add_post("/hook", hook.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        hook.url = str(server.make_url("/hook"))
        yield hook
    finally:
        await server.close()


async def get_json(url: str, method: str = "GET") -> dict:
    async with aiohttp.ClientSession() as session, session.request(method, url) as response:
        return await response.json()


async def state_once(api, message_id: str, wanted: ProcessState):
    """The message's state as soon as it is `wanted` (or the last one read, after WAIT seconds)."""
    for _ in range(WAIT * 100):
        state = await api.get_state(message_id)
        if state.state is wanted:
            return state
        await asyncio.sleep(0.01)
    return state


async def settled(gateway: Gateway) -> dict:
    """The stats once every accepted message has had its webhooks posted or given up."""
    for _ in range(WAIT * 100):
        if gateway.stats_json()["messages_in_progress"] == 0:
            return gateway.stats_json()
        await asyncio.sleep(0.01)
    raise AssertionError("webhooks still in progress")


def test_the_official_client_sends_through_it_and_gets_a_pending_state():
    async def scenario():
        async with serving(config()) as sim, official_client(sim.url) as api:
            return await api.send(sms("0190b7e0-0000-7000-8000-000000000001"))

    state = asyncio.run(scenario())

    assert state.id == "0190b7e0-0000-7000-8000-000000000001"
    assert state.state is ProcessState.Pending
    assert [(r.phone_number, r.state) for r in state.recipients] == [("+447700900001", ProcessState.Pending)]
    assert (state.is_hashed, state.is_encrypted) == (False, False)


def test_the_state_of_an_accepted_message_can_be_read_back_and_moves_on_to_delivered():
    async def scenario():
        async with serving(config()) as sim, official_client(sim.url) as api:
            sent = await api.send(sms())
            first = await api.get_state(sent.id)
            return sent, first, await state_once(api, sent.id, ProcessState.Delivered)

    sent, first, later = asyncio.run(scenario())

    assert first.id == sent.id
    assert later.state is ProcessState.Delivered
    assert set(later.states) == {"Pending", "Sent", "Delivered"}


def test_an_unknown_id_is_not_found():
    async def scenario():
        async with serving(config()) as sim, official_client(sim.url) as api:
            await api.get_state(str(uuid.uuid4()))

    with pytest.raises(errors.NotFoundError) as caught:
        asyncio.run(scenario())

    assert caught.value.status_code == 404
    assert caught.value.response == {"message": "Message not found."}


def test_wrong_credentials_are_refused_with_401():
    async def scenario():
        async with serving(config()) as sim, official_client(sim.url, password="wrong") as api:
            await api.send(sms())

    with pytest.raises(errors.UnauthorizedError) as caught:
        asyncio.run(scenario())

    assert caught.value.response == {"message": "Unauthorized"}


def test_a_request_without_credentials_is_refused_with_a_json_401_but_stats_are_open():
    async def scenario():
        async with serving(config()) as sim, aiohttp.ClientSession() as session:
            async with session.post(f"{sim.url}/messages", json={"phoneNumbers": ["+447700900001"]}) as response:
                refused = response.status, await response.json()
            async with session.get(f"{sim.url}/stats") as response:
                return refused, response.status

    (status, body), stats_status = asyncio.run(scenario())

    assert (status, body) == (401, {"message": "Unauthorized"})
    assert stats_status == 200


def test_a_registered_webhook_receives_signed_sms_sent_then_sms_delivered():
    async def scenario():
        async with receiver() as hook, serving(config()) as sim, official_client(sim.url) as api:
            for event in (WebhookEvent.SMS_SENT, WebhookEvent.SMS_DELIVERED):
                await api.create_webhook(domain.Webhook(id=None, url=hook.url, event=event))
            sent = await api.send(sms(text="x" * 161))
            return sent, [await hook.next(), await hook.next()]

    sent, received = asyncio.run(scenario())

    (first, first_body, first_headers), (second, second_body, second_headers) = received
    assert [first["event"], second["event"]] == ["sms:sent", "sms:delivered"]
    assert first["payload"]["messageId"] == second["payload"]["messageId"] == sent.id
    assert (first["payload"]["recipient"], first["payload"]["sender"]) == ("+447700900001", "+447700900000")
    assert first["payload"]["partsCount"] == 2
    assert "sentAt" in first["payload"]
    assert "deliveredAt" in second["payload"]
    assert first["id"] != second["id"] != sent.id
    assert first["webhookId"]
    assert first["deviceId"]
    assert first_headers["Content-Type"] == "application/json"
    for body, headers in ((first_body, first_headers), (second_body, second_headers)):
        signing.verify(body, headers["X-Timestamp"], headers["X-Signature"], KEY)


def test_a_delivery_failure_rate_of_one_ends_every_message_in_sms_failed_with_a_reason():
    async def scenario():
        async with receiver() as hook, serving(config(delivery_failure_rate=1)) as sim, official_client(sim.url) as api:
            await api.create_webhook(domain.Webhook(id=None, url=hook.url, event=WebhookEvent.SMS_FAILED))
            sent = await api.send(sms())
            event = (await hook.next())[0]
            return event, await api.get_state(sent.id)

    event, state = asyncio.run(scenario())

    assert event["event"] == "sms:failed"
    assert event["payload"]["reason"]
    assert event["payload"]["failedAt"]
    assert state.state is ProcessState.Failed
    assert state.recipients[0].error == event["payload"]["reason"]


def test_a_send_failure_rate_of_one_answers_503_and_records_nothing():
    async def scenario():
        async with serving(config(send_failure_rate=1)) as sim, official_client(sim.url) as api:
            with pytest.raises(errors.ServiceUnavailableError):
                await api.send(sms("0190b7e0-0000-7000-8000-000000000002"))
            with pytest.raises(errors.NotFoundError):
                await api.get_state("0190b7e0-0000-7000-8000-000000000002")
            return await get_json(f"{sim.url}/stats")

    stats = asyncio.run(scenario())

    assert (stats["received"], stats["unavailable"], stats["accepted"]) == (1, 1, 0)


def test_a_repeated_post_of_one_id_answers_its_state_and_shows_in_the_duplicates():
    async def scenario():
        async with serving(config()) as sim, official_client(sim.url) as api:
            states = [await api.send(sms("0190b7e0-0000-7000-8000-000000000003")) for _ in range(3)]
            await api.send(sms())
            return states, await get_json(f"{sim.url}/stats")

    states, stats = asyncio.run(scenario())

    assert {state.id for state in states} == {"0190b7e0-0000-7000-8000-000000000003"}
    assert (stats["received"], stats["accepted"], stats["duplicate_ids"], stats["duplicate_receipts"]) == (4, 2, 1, 2)
    assert stats["duplicates"] == [{"id": "0190b7e0-0000-7000-8000-000000000003", "receipts": 3}]


def test_resetting_the_stats_forgets_messages_but_keeps_webhooks():
    async def scenario():
        async with serving(config()) as sim, official_client(sim.url) as api:
            await api.create_webhook(domain.Webhook(id="w1", url="http://127.0.0.1:9/x", event=WebhookEvent.SMS_SENT))
            await api.send(sms())
            after = await get_json(f"{sim.url}/stats/reset", method="POST")
            return after, await api.get_webhooks()

    after, hooks = asyncio.run(scenario())

    assert (after["received"], after["accepted"]) == (0, 0)
    assert [hook.id for hook in hooks] == ["w1"]


def test_the_latency_is_honoured():
    async def scenario():
        async with serving(config(latency_ms=200)) as sim, official_client(sim.url) as api:
            started = time.perf_counter()
            await api.send(sms())
            return time.perf_counter() - started

    assert 0.2 <= asyncio.run(scenario()) < 0.6


def test_webhooks_are_listed_replaced_by_id_and_deleted():
    async def scenario():
        async with serving(config()) as sim, official_client(sim.url) as api:
            created = await api.create_webhook(
                domain.Webhook(id=None, url="http://127.0.0.1:9/a", event=WebhookEvent.SMS_SENT)
            )
            await api.create_webhook(
                domain.Webhook(id=created.id, url="http://127.0.0.1:9/b", event=WebhookEvent.SMS_DELIVERED)
            )
            listed = await api.get_webhooks()
            await api.delete_webhook(created.id)
            return created, listed, await api.get_webhooks()

    created, listed, remaining = asyncio.run(scenario())

    assert created.id
    assert [(hook.id, hook.url, hook.event) for hook in listed] == [
        (created.id, "http://127.0.0.1:9/b", WebhookEvent.SMS_DELIVERED)
    ]
    assert remaining == []


def test_a_webhook_answered_with_a_5xx_is_posted_again():
    async def scenario():
        async with (
            receiver(statuses=[503]) as hook,
            serving(config(webhook_urls=[hook.url])) as sim,
            official_client(sim.url) as api,
        ):
            await api.send(sms())
            event = (await hook.next())[0]
            await hook.next()
            return event, sim.gateway.stats_json()

    event, stats = asyncio.run(scenario())

    assert event["event"] == "sms:sent"
    assert (stats["webhooks_delivered"], stats["webhooks_failed"]) == (2, 0)


def test_a_webhook_failing_every_attempt_is_given_up_and_counted(monkeypatch):
    monkeypatch.setattr(simulator.webhooks, "WEBHOOK_BACKOFF_SECONDS", 0.01)

    async def scenario():
        async with (
            receiver(statuses=[500] * simulator.WEBHOOK_ATTEMPTS + [404]) as hook,
            serving(config(webhook_urls=[hook.url])) as sim,
            official_client(sim.url) as api,
        ):
            await api.send(sms())
            return await settled(sim.gateway), hook.statuses

    stats, unanswered = asyncio.run(scenario())

    # The sent event used up every attempt; the delivered one met a 404, which is not worth retrying.
    assert (stats["webhooks_delivered"], stats["webhooks_failed"]) == (0, 2)
    assert unanswered == []
    assert stats["states"] == {"Delivered": 1}


def test_fixed_webhook_urls_get_every_sms_event_without_registering():
    async def scenario():
        async with receiver() as hook, serving(config(webhook_urls=[hook.url])) as sim, official_client(sim.url) as api:
            await api.send(sms())
            return [(await hook.next())[0]["event"] for _ in range(2)], await api.get_webhooks()

    events, hooks = asyncio.run(scenario())

    assert events == ["sms:sent", "sms:delivered"]
    assert {hook.event.value for hook in hooks} == {"sms:sent", "sms:delivered", "sms:failed", "sms:received"}


def test_a_send_without_phone_numbers_is_a_400_naming_the_field():
    async def scenario():
        body = {"textMessage": {"text": "hi"}}
        async with (
            serving(config()) as sim,
            aiohttp.ClientSession(headers=SIM_AUTH) as session,
            session.post(f"{sim.url}/messages", json=body) as response,
        ):
            return response.status, await response.json()

    status, body = asyncio.run(scenario())

    assert status == 400
    assert "phoneNumbers" in body["message"]


def test_a_legacy_message_without_an_id_is_given_one():
    async def scenario():
        async with serving(config()) as sim, aiohttp.ClientSession(headers=SIM_AUTH) as session:
            body = {"message": "hi", "phoneNumbers": ["+447700900001"]}
            async with session.post(f"{sim.url}/messages", json=body) as response:
                return response.status, domain.MessageState.from_dict(await response.json())

    status, state = asyncio.run(scenario())

    assert status == 202
    assert uuid.UUID(state.id)


def test_it_runs_in_a_background_thread_for_synchronous_tests():
    with SimulatorThread(config()) as sim, urllib.request.urlopen(f"{sim.url}/health") as response:
        assert response.status == 200
        assert sim.stats()["received"] == 0


def test_a_background_simulator_on_a_taken_port_fails_at_once():
    with SimulatorThread(config()) as first:
        port = int(first.url.rsplit(":", 1)[1])
        with pytest.raises(OSError, match="address already in use"), SimulatorThread(config(port=port)):
            pass


def test_the_command_defaults_to_the_django_settings_and_the_public_webhook(settings):
    settings.SMS_GATEWAY_LOGIN, settings.SMS_GATEWAY_PASSWORD = "me", "secret"
    settings.SMS_WEBHOOK_SIGNING_KEY, settings.PUBLIC_BASE_URL = "key", "https://inboxerr.example/"

    cfg = fake_gateway.simulator_config(parse_command_line("--webhook-url", "http://127.0.0.1:9/extra"))

    assert (cfg.login, cfg.password, cfg.signing_key, cfg.port, cfg.latency_ms) == ("me", "secret", "key", 9090, 50)
    assert cfg.webhook_urls == ["https://inboxerr.example/api/v1/webhooks/android", "http://127.0.0.1:9/extra"]


def test_the_command_falls_back_to_sim_credentials_and_can_skip_the_default_webhook(settings):
    settings.SMS_GATEWAY_LOGIN = settings.SMS_GATEWAY_PASSWORD = settings.SMS_WEBHOOK_SIGNING_KEY = ""

    cfg = fake_gateway.simulator_config(parse_command_line("--no-default-webhooks", "--send-failure-rate", "0.1"))

    assert (cfg.login, cfg.password, cfg.signing_key) == ("sim", "sim", "sim-signing-key")
    assert (cfg.webhook_urls, cfg.send_failure_rate) == ([], 0.1)
    assert "SMS_GATEWAY_URL=http://127.0.0.1:9090" in fake_gateway.announcement("http://127.0.0.1:9090", cfg)


def parse_command_line(*argv: str) -> dict:
    return vars(fake_gateway.Command().create_parser("manage.py", "fake_gateway").parse_args(argv))
