"""A local stand-in for the SMS Gateway for Android's third-party API: it accepts sends and posts signed webhooks back.

Served at the root of its own port, so `SMS_GATEWAY_URL=http://127.0.0.1:PORT` replaces the cloud base URL.
`GET /stats` (no auth) tells a test or a benchmark what it received, including ids sent twice.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import concurrent.futures
import contextlib
import json
import logging
import random
import signal
import threading
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import ClientError, ClientSession, ClientTimeout, DummyCookieJar, TCPConnector, encode_basic_auth, web
from android_sms_gateway.enums import WebhookEvent

from messaging.signing import signed_headers
from templates.segments import analyse

logger = logging.getLogger(__name__)

SMS_EVENTS = ("sms:sent", "sms:delivered", "sms:failed")
KNOWN_EVENTS = frozenset(event.value for event in WebhookEvent)
# A UUID's length, the gateway API's limit for a message id as we read its schema.
MAX_ID_LENGTH = 36
# Webhook posts in flight at once (one courier task each), so a burst of sends cannot open thousands of
# sockets to the receiver; the rest wait in a queue, in order.
WEBHOOK_CONCURRENCY = 50
WEBHOOK_ATTEMPTS = 4
WEBHOOK_BACKOFF_SECONDS = 0.5
WEBHOOK_TIMEOUT_SECONDS = 10
DUPLICATES_SHOWN = 100
FAILURE_REASON = "RESULT_ERROR_GENERIC_FAILURE (simulated)"
OPEN_PATHS = frozenset({"/stats", "/stats/reset", "/health", "/health/live", "/health/ready", "/health/startup"})


@dataclass
class SimulatorConfig:
    """How the simulated gateway behaves; rates are fractions from 0 to 1, delays in milliseconds."""

    login: str = "sim"
    password: str = "sim"
    latency_ms: float = 50
    send_failure_rate: float = 0.0
    delivery_failure_rate: float = 0.0
    webhook_delay_ms: float = 20
    signing_key: str = "sim-signing-key"
    seed: int | None = None
    # Posted every sms:* event, as if registered through the API (they show in GET /webhooks).
    webhook_urls: list[str] = field(default_factory=list)
    host: str = "127.0.0.1"
    port: int = 9090
    device_id: str = "simulated-device"

    def __post_init__(self):
        for name in ("send_failure_rate", "delivery_failure_rate"):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"{name} must be between 0 and 1, not {getattr(self, name)}.")
        if self.latency_ms < 0 or self.webhook_delay_ms < 0:
            raise ValueError("latency_ms and webhook_delay_ms cannot be negative.")


@dataclass(slots=True)
class SimMessage:
    """What the gateway remembers of an accepted message (not its text)."""

    id: str
    phone_numbers: list[str]
    parts: int
    with_delivery_report: bool
    is_encrypted: bool
    fails: bool
    state: str = "Pending"
    error: str | None = None
    states: dict[str, str] = field(default_factory=dict)

    def as_json(self, device_id: str) -> dict[str, Any]:
        recipient = {"state": self.state, "error": self.error} if self.error else {"state": self.state}
        return {
            "id": self.id,
            "deviceId": device_id,
            "state": self.state,
            "isHashed": False,
            "isEncrypted": self.is_encrypted,
            "recipients": [{"phoneNumber": phone, **recipient} for phone in self.phone_numbers],
            "states": self.states,
        }


@dataclass(slots=True)
class Delivery:
    """One webhook event for one URL, and the future its sender waits on."""

    url: str
    body: bytes
    done: asyncio.Future[None]
    attempts: int = 0


class GatewayState:
    """Messages, webhooks and counters; reset clears all but the webhooks."""

    def __init__(self) -> None:
        self.webhooks: dict[str, dict[str, str]] = {}
        self.reset()

    def reset(self) -> None:
        self.messages: dict[str, SimMessage] = {}
        self.received = 0  # authenticated POST /messages, whatever the answer
        self.unavailable = 0  # answered 503, not recorded
        self.invalid = 0  # answered 400
        self.receipts: dict[str, int] = {}  # only ids received more than once
        self.by_state: Counter[str] = Counter()
        self.webhooks_delivered = 0
        self.webhooks_failed = 0

    def accept(self, message: SimMessage) -> None:
        self.messages[message.id] = message
        self.by_state[message.state] += 1

    def move(self, message: SimMessage, state: str, error: str | None = None) -> None:
        if self.messages.get(message.id) is message:  # not forgotten by a reset meanwhile
            self.by_state[message.state] -= 1
            self.by_state[state] += 1
        message.state, message.error = state, error
        message.states[state] = now_iso()

    def count_duplicate(self, message_id: str) -> None:
        self.receipts[message_id] = self.receipts.get(message_id, 1) + 1

    def stats(self, *, in_progress: int) -> dict[str, Any]:
        top = sorted(self.receipts.items(), key=lambda item: -item[1])[:DUPLICATES_SHOWN]
        return {
            "received": self.received,
            "accepted": len(self.messages),
            "unavailable": self.unavailable,
            "invalid": self.invalid,
            "duplicate_ids": len(self.receipts),
            "duplicate_receipts": sum(count - 1 for count in self.receipts.values()),  # all of them, not just the list
            "duplicates": [{"id": message_id, "receipts": count} for message_id, count in top],
            "states": {state: count for state, count in self.by_state.items() if count},
            "webhooks_delivered": self.webhooks_delivered,
            "webhooks_failed": self.webhooks_failed,
            "messages_in_progress": in_progress,
        }


class Gateway:
    """The request handlers and the background work that moves messages on and posts their webhooks."""

    def __init__(self, config: SimulatorConfig) -> None:
        self.config = config
        self.state = GatewayState()
        self._rng = random.Random(config.seed)
        self._latency = config.latency_ms / 1000
        self._step = config.webhook_delay_ms / 1000
        self._expected_auth = encode_basic_auth(config.login, config.password)
        self._outbox: asyncio.Queue[Delivery] = asyncio.Queue()
        self._session: ClientSession | None = None
        self._tasks: set[asyncio.Task] = set()
        for index, url in enumerate(config.webhook_urls):
            for event in SMS_EVENTS:
                hook_id = f"preset-{index}-{event.removeprefix('sms:')}"
                self.state.webhooks[hook_id] = {"id": hook_id, "url": url, "event": event}

    async def lifecycle(self, app: web.Application) -> AsyncIterator[None]:
        """aiohttp cleanup context: one client session and the couriers that post webhooks through it."""
        self._session = ClientSession(
            timeout=ClientTimeout(total=WEBHOOK_TIMEOUT_SECONDS),
            connector=TCPConnector(limit=WEBHOOK_CONCURRENCY),
            cookie_jar=DummyCookieJar(),
        )
        couriers = [asyncio.create_task(self._courier()) for _ in range(WEBHOOK_CONCURRENCY)]
        yield
        for task in [*couriers, *self._tasks]:
            task.cancel()
        await asyncio.gather(*couriers, *self._tasks, return_exceptions=True)
        await self._session.close()

    @web.middleware
    async def authenticate(self, request: web.Request, handler) -> web.StreamResponse:
        if request.path in OPEN_PATHS or self._authorised(request.headers.get("Authorization")):
            return await handler(request)
        return web.json_response(
            {"message": "Unauthorized"}, status=401, headers={"WWW-Authenticate": 'Basic realm="sms-gateway"'}
        )

    def _authorised(self, header: str | None) -> bool:
        if header == self._expected_auth:  # the common case, without decoding
            return True
        scheme, _, encoded = (header or "").partition(" ")
        try:
            login, _, password = base64.b64decode(encoded.strip(), validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return scheme.lower() == "basic" and (login, password) == (self.config.login, self.config.password)

    # --- messages ---------------------------------------------------------------

    async def send(self, request: web.Request) -> web.Response:
        self.state.received += 1
        try:
            message = self._parse_message(await request.json())
        except ValueError as exc:
            self.state.invalid += 1
            return error(400, str(exc))
        await asyncio.sleep(self._latency)
        known = self.state.messages.get(message.id)
        if known is not None:
            self.state.count_duplicate(known.id)
            return web.json_response(known.as_json(self.config.device_id), status=202)
        if self._rng.random() < self.config.send_failure_rate:
            self.state.unavailable += 1
            return error(503, "Service temporarily unavailable (simulated); try again.")
        self.state.accept(message)
        self._spawn(self._progress(message))
        return web.json_response(message.as_json(self.config.device_id), status=202)

    def _parse_message(self, body: Any) -> SimMessage:
        if not isinstance(body, dict):
            raise ValueError("The body must be a JSON object.")
        phones = body.get("phoneNumbers")
        if not isinstance(phones, list) or not phones or not all(isinstance(p, str) and p for p in phones):
            raise ValueError("phoneNumbers must be a non-empty list of phone numbers.")
        message_id = body.get("id") or str(uuid.uuid4())
        if not isinstance(message_id, str) or len(message_id) > MAX_ID_LENGTH:
            raise ValueError(f"id must be a string of at most {MAX_ID_LENGTH} characters.")
        return SimMessage(
            id=message_id,
            phone_numbers=phones,
            parts=_parts(body),
            with_delivery_report=body.get("withDeliveryReport", True) is not False,
            is_encrypted=bool(body.get("isEncrypted", False)),
            # Drawn at acceptance, in request order, so a seeded sequential run is reproducible.
            fails=self._rng.random() < self.config.delivery_failure_rate,
            states={"Pending": now_iso()},
        )

    async def message_state(self, request: web.Request) -> web.Response:
        message = self.state.messages.get(request.match_info["id"])
        if message is None:
            return error(404, "Message not found.")
        return web.json_response(message.as_json(self.config.device_id))

    async def _progress(self, message: SimMessage) -> None:
        """Pending → Sent → Delivered or Failed, with the webhook of each step posted before the next."""
        await asyncio.sleep(self._step)
        self.state.move(message, "Sent")
        await self._emit("sms:sent", message, {"partsCount": message.parts, "sentAt": message.states["Sent"]})
        if message.fails:
            await asyncio.sleep(self._step)
            self.state.move(message, "Failed", FAILURE_REASON)
            await self._emit("sms:failed", message, {"failedAt": message.states["Failed"], "reason": FAILURE_REASON})
        elif message.with_delivery_report:
            await asyncio.sleep(self._step)
            self.state.move(message, "Delivered")
            await self._emit("sms:delivered", message, {"deliveredAt": message.states["Delivered"]})

    # --- webhooks ---------------------------------------------------------------

    async def list_webhooks(self, request: web.Request) -> web.Response:
        return web.json_response(list(self.state.webhooks.values()))

    async def register_webhook(self, request: web.Request) -> web.Response:
        try:
            hook = _parse_webhook(await request.json())
        except ValueError as exc:
            return error(400, str(exc))
        self.state.webhooks[hook["id"]] = hook
        return web.json_response(hook, status=201)

    async def delete_webhook(self, request: web.Request) -> web.Response:
        self.state.webhooks.pop(request.match_info["id"], None)
        return web.Response(status=204)

    async def _emit(self, event: str, message: SimMessage, details: dict[str, Any]) -> None:
        """Queue the event for every matching webhook and recipient, and wait until each is posted or given up."""
        loop = asyncio.get_running_loop()
        waiting = []
        for hook in self.state.webhooks.values():
            if hook["event"] != event or hook.get("deviceId", self.config.device_id) != self.config.device_id:
                continue
            for phone in message.phone_numbers:
                payload = {"messageId": message.id, "phoneNumber": phone, **details}
                delivery = Delivery(hook["url"], self._envelope(hook["id"], event, payload), loop.create_future())
                self._outbox.put_nowait(delivery)
                waiting.append(delivery.done)
        if waiting:
            await asyncio.wait(waiting)

    def _envelope(self, hook_id: str, event: str, payload: dict[str, Any]) -> bytes:
        return json.dumps(
            {
                "id": uuid.uuid4().hex,
                "webhookId": hook_id,
                "deviceId": self.config.device_id,
                "event": event,
                "payload": payload,
            }
        ).encode()

    async def _courier(self) -> None:
        """Post queued events one at a time; a retry goes back in the queue after its backoff, freeing the courier."""
        loop = asyncio.get_running_loop()
        while True:
            delivery = await self._outbox.get()
            delivery.attempts += 1
            problem, retryable = await self._post(delivery)
            if problem and retryable and delivery.attempts < WEBHOOK_ATTEMPTS:
                backoff = WEBHOOK_BACKOFF_SECONDS * 2 ** (delivery.attempts - 1)
                loop.call_later(backoff, self._outbox.put_nowait, delivery)
                continue
            if problem:
                self.state.webhooks_failed += 1
                logger.warning(
                    "Gave up posting a webhook to %s after %d attempt(s): %s", delivery.url, delivery.attempts, problem
                )
            else:
                self.state.webhooks_delivered += 1
            if not delivery.done.done():
                delivery.done.set_result(None)

    async def _post(self, delivery: Delivery) -> tuple[str, bool]:
        """POST once; answer what went wrong ("" if nothing) and whether it is worth another try."""
        # Signed per attempt: the receiver checks the timestamp against its clock.
        headers = {"Content-Type": "application/json", **signed_headers(delivery.body, self.config.signing_key)}
        try:
            async with self._session.post(
                delivery.url, data=delivery.body, headers=headers, allow_redirects=False
            ) as response:
                status = response.status
        except (ClientError, TimeoutError) as exc:
            return f"{type(exc).__name__}: {exc}", True
        except Exception as exc:  # a bad URL, say: count it and keep the courier alive
            return f"{type(exc).__name__}: {exc}", False
        if status < 300:
            return "", False
        return f"HTTP {status}", status >= 500 or status == 429

    # --- the simulator's own endpoints ------------------------------------------

    def stats_json(self) -> dict[str, Any]:
        return self.state.stats(in_progress=len(self._tasks))

    async def stats(self, request: web.Request) -> web.Response:
        return web.json_response(self.stats_json())

    async def reset_stats(self, request: web.Request) -> web.Response:
        self.state.reset()
        return web.json_response(self.stats_json())

    async def health(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "pass", "version": "simulator", "checks": {}})

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        # The loop keeps only weak references to tasks: hold them until they finish.
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("A simulated message failed to progress", exc_info=task.exception())


GATEWAY = web.AppKey("gateway", Gateway)


def build_app(config: SimulatorConfig) -> web.Application:
    """The simulator as an aiohttp application; its Gateway is `app[GATEWAY]`."""
    gateway = Gateway(config)
    app = web.Application(middlewares=[gateway.authenticate])
    app[GATEWAY] = gateway
    app.cleanup_ctx.append(gateway.lifecycle)
    app.router.add_post("/messages", gateway.send)
    app.router.add_get("/messages/{id}", gateway.message_state)
    app.router.add_get("/webhooks", gateway.list_webhooks)
    app.router.add_post("/webhooks", gateway.register_webhook)
    app.router.add_delete("/webhooks/{id}", gateway.delete_webhook)
    app.router.add_get("/stats", gateway.stats)
    app.router.add_post("/stats/reset", gateway.reset_stats)
    for path in ("/health", "/health/live", "/health/ready", "/health/startup"):
        app.router.add_get(path, gateway.health)
    return app


@dataclass
class Running:
    url: str
    gateway: Gateway


@contextlib.asynccontextmanager
async def serving(config: SimulatorConfig) -> AsyncIterator[Running]:
    """Serve the simulator inside the current event loop; port 0 picks a free port."""
    app = build_app(config)
    runner = web.AppRunner(app, access_log=None)  # a line per request, thousands a second, is noise and CPU
    await runner.setup()
    try:
        await web.TCPSite(runner, config.host, config.port).start()
        host, port = runner.addresses[0][:2]
        yield Running(url=f"http://{host}:{port}", gateway=app[GATEWAY])
    finally:
        await runner.cleanup()


def run(config: SimulatorConfig, announce: Callable[[str], None] = print) -> None:
    """Serve until interrupted (Ctrl+C or SIGTERM), calling `announce` with the base URL once listening."""
    asyncio.run(_serve_until_stopped(config, announce))


async def _serve_until_stopped(config: SimulatorConfig, announce: Callable[[str], None]) -> None:
    stop = asyncio.Event()
    with contextlib.suppress(NotImplementedError):  # no signal handlers on Windows' event loop
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    async with serving(config) as running:
        announce(running.url)
        await stop.wait()


class SimulatorThread:
    """The simulator on its own loop in a daemon thread, for synchronous tests: `with SimulatorThread(cfg) as sim:`."""

    def __init__(self, config: SimulatorConfig) -> None:
        self.config = config
        self.url = ""
        self.gateway: Gateway | None = None
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="fake-gateway", daemon=True)
        self._stop: asyncio.Event | None = None

    def __enter__(self) -> SimulatorThread:
        self._thread.start()
        ready: concurrent.futures.Future[Running] = concurrent.futures.Future()
        self._served = asyncio.run_coroutine_threadsafe(self._serve(ready), self._loop)
        try:
            running = ready.result(timeout=10)
        except BaseException:
            self._close()
            raise
        self.url, self.gateway = running.url, running.gateway
        return self

    def __exit__(self, *exc) -> None:
        self._loop.call_soon_threadsafe(self._stop.set)
        self._served.result(timeout=30)
        self._close()

    def _close(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    def stats(self) -> dict[str, Any]:
        """What GET /stats answers, read on the simulator's loop so no counter moves while it is copied."""

        async def read() -> dict[str, Any]:
            return self.gateway.stats_json()

        return asyncio.run_coroutine_threadsafe(read(), self._loop).result(timeout=10)

    async def _serve(self, ready: concurrent.futures.Future[Running]) -> None:
        self._stop = asyncio.Event()
        try:
            async with serving(self.config) as running:
                ready.set_result(running)
                await self._stop.wait()
        except BaseException as exc:
            if not ready.done():  # failed to start (port taken): tell __enter__ rather than time out
                ready.set_exception(exc)
            raise


def error(status: int, message: str) -> web.Response:
    return web.json_response({"message": message}, status=status)


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _parts(body: dict[str, Any]) -> int:
    """Parts the phone would send the text in; raise ValueError when there is nothing to send."""
    text_message = body.get("textMessage")
    text = text_message.get("text") if isinstance(text_message, dict) else body.get("message")  # legacy field
    if isinstance(text, str) and text:
        return analyse(text).parts
    if body.get("dataMessage") or body.get("mmsMessage"):
        return 1
    raise ValueError("The message needs content: textMessage.text, message, dataMessage or mmsMessage.")


def _parse_webhook(body: Any) -> dict[str, str]:
    if not isinstance(body, dict):
        raise ValueError("The body must be a JSON object.")
    url, event = body.get("url"), body.get("event")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise ValueError("url must be an http:// or https:// URL.")
    if event not in KNOWN_EVENTS:
        raise ValueError(f"event must be one of {', '.join(sorted(KNOWN_EVENTS))}.")
    hook = {"id": body.get("id") or uuid.uuid4().hex, "url": url, "event": event}
    if body.get("deviceId"):
        hook["deviceId"] = str(body["deviceId"])
    return hook
