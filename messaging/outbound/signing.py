"""How our deliveries are signed, as the README documents it for receivers.

X-Inboxerr-Signature is `v1=` and the lowercase hex HMAC-SHA256, keyed with the endpoint's secret (its
UTF-8 bytes, `whsec_` included), of the X-Inboxerr-Timestamp value (Unix seconds), a full stop, and the
raw body as sent. Signing the timestamp lets a receiver refuse a replay: we refuse theirs, the gateway's,
beyond MAX_SKEW_SECONDS, and tell receivers to do the same.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

from messaging.signing import MAX_SKEW_SECONDS

SCHEME = "v1"
SECRET_PREFIX = "whsec_"

__all__ = ["MAX_SKEW_SECONDS", "new_secret", "sign", "signed_headers", "verify"]


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def sign(*, secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"{SCHEME}={digest}"


def signed_headers(
    *, secret: str, body: bytes, event: str, delivery_id: str, now: float | None = None
) -> dict[str, str]:
    timestamp = str(int(time.time() if now is None else now))
    return {
        "Content-Type": "application/json",
        "User-Agent": "Inboxerr-Webhooks/1",
        "X-Inboxerr-Event": event,
        "X-Inboxerr-Delivery": delivery_id,
        "X-Inboxerr-Timestamp": timestamp,
        "X-Inboxerr-Signature": sign(secret=secret, timestamp=timestamp, body=body),
    }


def verify(*, secret: str, body: bytes, timestamp: str, signature: str, now: float | None = None) -> bool:
    """What a receiver does (the README's ten lines, in our own code): a matching signature, recent enough."""
    if not timestamp.isdigit():
        return False
    if abs((time.time() if now is None else now) - int(timestamp)) > MAX_SKEW_SECONDS:
        return False
    return hmac.compare_digest(sign(secret=secret, timestamp=timestamp, body=body).encode(), signature.encode())
