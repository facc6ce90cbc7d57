"""The simulated gateway's webhooks: signed posts to every registered URL, retried with a backoff."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from aiohttp import ClientError, ClientSession, ClientTimeout, DummyCookieJar, TCPConnector

from messaging.signing import signed_headers
from messaging.simulator.config import (
    WEBHOOK_ATTEMPTS,
    WEBHOOK_BACKOFF_SECONDS,
    WEBHOOK_CONCURRENCY,
    WEBHOOK_TIMEOUT_SECONDS,
    SimulatorConfig,
)
from messaging.simulator.state import GatewayState, SimMessage

logger = logging.getLogger("messaging.simulator")


@dataclass(slots=True)
class Delivery:
    """One webhook event for one URL, and the future its sender waits on."""

    url: str
    body: bytes
    done: asyncio.Future[None]
    attempts: int = 0


class WebhookPoster:
    """A queue of deliveries and the couriers that post them through one client session."""

    def __init__(self, config: SimulatorConfig, state: GatewayState) -> None:
        self.config = config
        self.state = state
        self._outbox: asyncio.Queue[Delivery] = asyncio.Queue()
        self._session: ClientSession | None = None

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        self._session = ClientSession(
            timeout=ClientTimeout(total=WEBHOOK_TIMEOUT_SECONDS),
            connector=TCPConnector(limit=WEBHOOK_CONCURRENCY),
            cookie_jar=DummyCookieJar(),
        )
        couriers = [asyncio.create_task(self._courier()) for _ in range(WEBHOOK_CONCURRENCY)]
        try:
            yield
        finally:
            for task in couriers:
                task.cancel()
            await asyncio.gather(*couriers, return_exceptions=True)
            await self._session.close()

    async def emit(self, event: str, message: SimMessage, details: dict[str, Any]) -> None:
        """Queue the event for every matching webhook and recipient, and wait until each is posted or given up."""
        loop = asyncio.get_running_loop()
        waiting = []
        for hook in self.state.webhooks.values():
            if hook["event"] != event or hook.get("deviceId", self.config.device_id) != self.config.device_id:
                continue
            for phone in message.phone_numbers:
                # The gateway's current shape: the other party is the `recipient` ("phoneNumber" before).
                party = {"sender": self.config.device_number, "recipient": phone, "simNumber": 1}
                payload = {"messageId": message.id, **party, **details}
                delivery = Delivery(hook["url"], self._envelope(hook["id"], event, payload), loop.create_future())
                self._outbox.put_nowait(delivery)
                waiting.append(delivery.done)
        if waiting:
            await asyncio.wait(waiting)

    async def emit_received(self, sender: str, text: str, received_at: str) -> int:
        """Post an sms:received, as the phone does when someone texts it; answers how many hooks it went to."""
        loop = asyncio.get_running_loop()
        payload = {"messageId": uuid.uuid4().hex[:12], "message": text, "sender": sender,
                   "recipient": self.config.device_number, "simNumber": 1, "receivedAt": received_at}  # fmt: skip
        waiting = []
        for hook in self.state.webhooks.values():
            if hook["event"] == "sms:received":
                delivery = Delivery(
                    hook["url"], self._envelope(hook["id"], "sms:received", payload), loop.create_future()
                )
                self._outbox.put_nowait(delivery)
                waiting.append(delivery.done)
        if waiting:
            await asyncio.wait(waiting)
        return len(waiting)

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
        assert self._session is not None, "the courier is started"
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
