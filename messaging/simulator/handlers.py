"""The simulated gateway's HTTP API: sends, message states, webhook registration, stats and health."""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
import random
import uuid
from collections.abc import AsyncIterator, Coroutine
from datetime import UTC, datetime
from typing import Any

from aiohttp import encode_basic_auth, web

from messaging.simulator.config import (
    FAILURE_REASON,
    KNOWN_EVENTS,
    MAX_ID_LENGTH,
    OPEN_PATHS,
    SMS_EVENTS,
    SimulatorConfig,
)
from messaging.simulator.state import GatewayState, SimMessage, now_iso
from messaging.simulator.webhooks import WebhookPoster
from templates.segments import analyse

logger = logging.getLogger("messaging.simulator")


class Gateway:
    """The request handlers and the background work that moves messages on and posts their webhooks."""

    def __init__(self, config: SimulatorConfig) -> None:
        self.config = config
        self.state = GatewayState()
        self._rng = random.Random(config.seed)
        self._latency = config.latency_ms / 1000
        self._step = config.webhook_delay_ms / 1000
        self._expected_auth = encode_basic_auth(config.login, config.password)
        self._webhooks = WebhookPoster(config, self.state)
        self._tasks: set[asyncio.Task] = set()
        for index, url in enumerate(config.webhook_urls):
            for event in SMS_EVENTS:
                hook_id = f"preset-{index}-{event.removeprefix('sms:')}"
                self.state.webhooks[hook_id] = {"id": hook_id, "url": url, "event": event}

    async def lifecycle(self, app: web.Application) -> AsyncIterator[None]:
        """aiohttp cleanup context: the webhook poster runs as long as the app; progress stops with it."""
        async with self._webhooks.running():
            yield
            for task in self._tasks:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)

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
        emit = self._webhooks.emit
        await asyncio.sleep(self._step)
        self.state.move(message, "Sent")
        await emit("sms:sent", message, {"partsCount": message.parts, "sentAt": message.states["Sent"]})
        if message.fails:
            await asyncio.sleep(self._step)
            self.state.move(message, "Failed", FAILURE_REASON)
            await emit("sms:failed", message, {"failedAt": message.states["Failed"], "reason": FAILURE_REASON})
        elif message.with_delivery_report:
            await asyncio.sleep(self._step)
            self.state.move(message, "Delivered")
            await emit("sms:delivered", message, {"deliveredAt": message.states["Delivered"]})

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

    # --- the simulator's own endpoints ------------------------------------------

    def stats_json(self) -> dict[str, Any]:
        return self.state.stats(in_progress=len(self._tasks))

    async def stats(self, request: web.Request) -> web.Response:
        return web.json_response(self.stats_json())

    async def reset_stats(self, request: web.Request) -> web.Response:
        self.state.reset()
        return web.json_response(self.stats_json())

    async def simulate_received(self, request: web.Request) -> web.Response:
        """Someone texts the simulated phone: {"sender": "+447400123456", "message": "STOP"} is posted as an
        sms:received to the webhooks registered for it."""
        try:
            body = await request.json()
            sender, text = str(body["sender"]), str(body["message"])
        except (ValueError, KeyError, TypeError):
            return error(400, 'Send {"sender": "+447400123456", "message": "..."}.')
        received_at = datetime.now(UTC).isoformat(timespec="milliseconds")
        posted = await self._webhooks.emit_received(sender, text, received_at)
        return web.json_response({"posted_to": posted, "receivedAt": received_at})

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
    app.router.add_post("/simulate/received", gateway.simulate_received)
    for path in ("/health", "/health/live", "/health/ready", "/health/startup"):
        app.router.add_get(path, gateway.health)
    return app


def error(status: int, message: str) -> web.Response:
    return web.json_response({"message": message}, status=status)


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
    hook = {"id": str(body.get("id") or uuid.uuid4().hex), "url": url, "event": str(event)}
    if body.get("deviceId"):
        hook["deviceId"] = str(body["deviceId"])
    return hook
