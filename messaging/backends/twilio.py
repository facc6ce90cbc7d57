"""Twilio, through its official client; status callbacks are checked with its RequestValidator.

Twilio chooses its own message ids (SIDs), so we put our id in the status
callback URL. A crash between Twilio accepting a message and us recording its
SID cannot be checked afterwards: that message may be sent twice. The android
backend, which takes our ids, has no such gap.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit
from uuid import UUID

import aiohttp
from django.conf import settings
from twilio.base.exceptions import TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from messaging.backends.base import (
    BaseBackend,
    GatewayAuthError,
    GatewayState,
    GatewayStatus,
    OutgoingSMS,
    PermanentError,
    RetryableError,
    SendError,
    WebhookEvent,
    WebhookRejected,
)
from messaging.models import EventKind, InboundKind

STATUSES = {
    "accepted": GatewayStatus.ACCEPTED,
    "queued": GatewayStatus.ACCEPTED,
    "sending": GatewayStatus.ACCEPTED,
    "scheduled": GatewayStatus.ACCEPTED,
    "sent": GatewayStatus.SENT,
    "delivered": GatewayStatus.DELIVERED,
    "failed": GatewayStatus.FAILED,
    "undelivered": GatewayStatus.FAILED,
    "canceled": GatewayStatus.FAILED,
}
KINDS = {
    "sent": EventKind.SENT,
    "delivered": EventKind.DELIVERED,
    "failed": EventKind.FAILED,
    "undelivered": EventKind.FAILED,
}
CALLBACK_PATH = "/api/v1/webhooks/twilio"


# Twilio reads the answer to an inbound SMS as TwiML instructions; an empty Response sends no reply.
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


class TwilioBackend(BaseBackend):
    name = "twilio"
    reuses_our_ids = False

    def __init__(self) -> None:
        self._client: Client | None = None

    async def open(self) -> None:
        self._client = Client(
            settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN, http_client=AsyncTwilioHttpClient()
        )

    async def close(self) -> None:
        if self._client is not None:
            await self._client.http_client.close()
        self._client = None

    @property
    def client(self) -> Client:
        assert self._client is not None, "use the backend inside `async with backend:`"
        return self._client

    async def send_one(self, message: OutgoingSMS) -> str:
        callback = f"{settings.PUBLIC_BASE_URL.rstrip('/')}{CALLBACK_PATH}?{urlencode({'message_id': message.id})}"
        try:
            sent = await self.client.messages.create_async(
                to=message.phone, from_=settings.TWILIO_FROM, body=message.text, status_callback=callback
            )
        except Exception as exc:
            raise classify(exc) from exc
        return sent.sid

    async def get_state(self, message_id: UUID, gateway_id: str = "") -> GatewayState:
        if not gateway_id:
            return GatewayState(GatewayStatus.UNKNOWN)
        async with self:
            try:
                fetched = await self.client.messages(gateway_id).fetch_async()
            except TwilioRestException as exc:
                if exc.status == 404:
                    return GatewayState(GatewayStatus.UNKNOWN)
                raise classify(exc) from exc
        return GatewayState(
            STATUSES.get(fetched.status, GatewayStatus.ACCEPTED),
            gateway_id=fetched.sid,
            error=fetched.error_message or "",
        )

    def parse_webhook(self, *, body: bytes, headers: dict[str, str], url: str) -> list[WebhookEvent]:
        # Twilio sends UTF-8; other bytes cannot carry a valid signature, so they are read leniently and refused below.
        text = body.decode(errors="replace")
        params = {key: values[0] for key, values in parse_qs(text, keep_blank_values=True).items()}
        validator = RequestValidator(settings.TWILIO_AUTH_TOKEN)
        if not settings.TWILIO_AUTH_TOKEN or not validator.validate(url, params, headers.get("X-Twilio-Signature", "")):
            raise WebhookRejected("X-Twilio-Signature does not match.")
        # Signed as sent; stored without NUL, which PostgreSQL cannot keep (an SMS never means one).
        params = {key.replace("\x00", ""): value.replace("\x00", "") for key, value in params.items()}
        our_id = (parse_qs(urlsplit(url).query).get("message_id") or [""])[0]
        sid = params.get("MessageSid") or params.get("SmsSid") or ""
        status = params.get("MessageStatus") or params.get("SmsStatus") or ""
        if status == "received" or ("Body" in params and not our_id):
            media = params.get("NumMedia", "0")
            return [
                WebhookEvent(
                    event_id=f"{sid}:received",
                    kind=EventKind.RECEIVED,
                    gateway_id=sid,
                    gateway_message_id=sid,
                    phone=params.get("From", ""),
                    text=params.get("Body", ""),
                    payload=params,
                    inbound_kind=InboundKind.MMS if media.isdigit() and int(media) > 0 else InboundKind.SMS,
                    gateway_number=params.get("To", ""),
                )
            ]
        return [
            WebhookEvent(
                event_id=f"{sid}:{status}",
                kind=KINDS.get(status, status),
                message_id=our_id,
                gateway_id=sid,
                phone=params.get("To", ""),
                error=params.get("ErrorCode", ""),
                payload=params,
            )
        ]

    def webhook_answer(self, events: list[WebhookEvent]) -> tuple[str, str] | None:
        if events and all(event.kind == EventKind.RECEIVED for event in events):
            return EMPTY_TWIML, "text/xml"
        return None  # a status callback: Twilio ignores the body


def classify(exc: Exception) -> SendError:
    if isinstance(exc, TwilioRestException):
        if exc.status in (401, 403):
            return GatewayAuthError(f"Twilio refused our credentials ({exc.status}).")
        if exc.status == 429 or exc.status >= 500:
            return RetryableError(f"Twilio answered {exc.status}: {exc.msg}")
        return PermanentError(f"Twilio refused the message ({exc.status}, code {exc.code}): {exc.msg}")
    if isinstance(exc, aiohttp.ClientError | OSError | TimeoutError):
        return RetryableError(f"Twilio unreachable: {type(exc).__name__}: {exc}")
    raise exc
