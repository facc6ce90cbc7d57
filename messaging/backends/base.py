"""What every gateway backend offers: send a batch, fetch a state, verify and parse a webhook.

Backends follow Django's email-backend pattern: SMS_BACKEND names one, and
`messaging.backends.get_backend()` builds it. Sending is async so that one
worker keeps many requests in flight; everything else is plain code.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

log = logging.getLogger(__name__)


class SendError(Exception):
    """A send the gateway did not accept. `retryable` says whether trying again later may work."""

    retryable = False

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class RetryableError(SendError):
    """Timeouts, connection errors, 429 and 5xx: worth another attempt after a backoff."""

    retryable = True


class PermanentError(SendError):
    """An invalid number or another 4xx: another attempt would fail the same way."""


class GatewayAuthError(SendError):
    """The gateway refused our credentials: nothing will send until an operator fixes them."""

    retryable = True


class WebhookRejected(Exception):
    """A webhook request not signed by the gateway (403)."""

    status_code = 403


class MalformedWebhook(WebhookRejected):
    """A correctly signed webhook request we cannot read (400)."""

    status_code = 400


# Gateways' events nest a few levels; anything deeper is not one of theirs.
MAX_WEBHOOK_DEPTH = 32


def read_json_object(body: bytes) -> dict[str, Any]:
    """A webhook body as a JSON object the database can store, or MalformedWebhook saying what is wrong."""
    try:
        data = json.loads(body)
    except RecursionError:
        raise MalformedWebhook("The body is nested too deeply to be an event.") from None
    except ValueError as exc:  # not JSON, or not UTF-8
        raise MalformedWebhook(f"The body is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise MalformedWebhook("The body is not a JSON object.")
    check_storable(data)
    return data


def check_storable(value: Any, where: str = "the body", depth: int = 0) -> None:
    """Refuse what PostgreSQL cannot store or would choke on: NUL, unpaired surrogates, deep nesting."""
    if depth > MAX_WEBHOOK_DEPTH:
        raise _unstorable(where, f"is nested more than {MAX_WEBHOOK_DEPTH} levels deep")
    if isinstance(value, dict):
        for key, item in value.items():
            named = f"{where}[{key[:40]!a}]"
            check_storable(key, f"a key of {where}", depth + 1)
            check_storable(item, named, depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            check_storable(item, f"{where}[{index}]", depth + 1)
    elif isinstance(value, str):
        if "\x00" in value:
            raise _unstorable(where, "holds a NUL character")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise _unstorable(where, "holds an unpaired UTF-16 surrogate") from None


def _unstorable(where: str, what: str) -> MalformedWebhook:
    return MalformedWebhook(f"{where[:1].upper()}{where[1:]} {what}.")


@dataclass(frozen=True)
class OutgoingSMS:
    id: UUID
    phone: str
    text: str
    parts: int = 1


@dataclass(frozen=True)
class SendResult:
    message_id: UUID
    gateway_id: str = ""
    error: SendError | None = None

    @property
    def accepted(self) -> bool:
        return self.error is None


class GatewayStatus(StrEnum):
    """What a gateway says of a message it was asked about."""

    UNKNOWN = "UNKNOWN"  # it never accepted this id
    ACCEPTED = "ACCEPTED"
    SENT = "SENT"
    DELIVERED = "DELIVERED"
    FAILED = "FAILED"


@dataclass(frozen=True)
class GatewayState:
    state: GatewayStatus
    gateway_id: str = ""
    error: str = ""


@dataclass(frozen=True)
class WebhookEvent:
    """One event from a gateway, in our terms."""

    event_id: str  # unique per gateway: a retried webhook repeats it
    kind: str  # "sent", "delivered", "failed", "received", "ping", or the gateway's own name when unknown
    message_id: str = ""  # our Message id, where the gateway echoes it
    gateway_id: str = ""  # the gateway's id, where it has its own (Twilio)
    phone: str = ""
    text: str = ""  # of a received SMS
    error: str = ""
    occurred_at: datetime | None = None
    payload: dict[str, Any] = field(default_factory=dict)
    # Of a received message: sms, mms or data (InboundKind), and where it arrived: the gateway's own number,
    # the android device and its SIM.
    inbound_kind: str = "sms"
    gateway_number: str = ""
    device_id: str = ""
    sim_number: int | None = None
    # The gateway's own id for the message it reports on (android: payload.messageId of an inbound message).
    gateway_message_id: str = ""
    # Of a sent message: how many parts the gateway split it into, when it says.
    parts_count: int | None = None


class BaseBackend:
    name = "base"
    # Whether a message's own id is the gateway's id (so a resend after a crash can be detected).
    reuses_our_ids = False

    async def send_batch(
        self, messages: Sequence[OutgoingSMS], *, concurrency: int | asyncio.Semaphore
    ) -> list[SendResult]:
        """Send every message, at most `concurrency` at once (a number, or a semaphore the batches in flight
        together share); one result per message, in order."""
        semaphore = concurrency if isinstance(concurrency, asyncio.Semaphore) else asyncio.Semaphore(concurrency)

        async def one(message: OutgoingSMS) -> SendResult:
            async with semaphore:
                try:
                    return SendResult(message.id, gateway_id=await self.send_one(message))
                except SendError as exc:
                    return SendResult(message.id, error=exc)
                except Exception as exc:  # one odd answer must not lose the whole batch's results
                    log.exception("backend %s: unexpected error sending %s", self.name, message.id)
                    return SendResult(message.id, error=RetryableError(f"Unexpected error: {exc!r}"))

        async with self:
            return list(await asyncio.gather(*(one(message) for message in messages)))

    async def send_one(self, message: OutgoingSMS) -> str:
        """Send one message; return the gateway's id for it, or raise a SendError."""
        raise NotImplementedError

    async def get_state(self, message_id: UUID, gateway_id: str = "") -> GatewayState:
        """What the gateway knows of a message; UNKNOWN when it never accepted it."""
        return GatewayState(GatewayStatus.UNKNOWN)

    def parse_webhook(self, *, body: bytes, headers: dict[str, str], url: str) -> list[WebhookEvent]:
        """Verify the request comes from the gateway and read its events; raises WebhookRejected."""
        raise WebhookRejected(f"The {self.name} backend takes no webhooks.")

    def webhook_answer(self, events: list[WebhookEvent]) -> tuple[str, str] | None:
        """(body, content type) to answer a webhook with when the gateway reads the answer; None: our JSON."""
        return None

    # Backends that hold a connection pool open it in open() and close it in close(); nested
    # `async with backend:` blocks (a batch of state checks inside a dispatch) share one pool.
    _users = 0

    async def open(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def __aenter__(self) -> BaseBackend:
        if self._users == 0:
            await self.open()
        self._users += 1
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._users -= 1
        if self._users == 0:
            await self.close()
