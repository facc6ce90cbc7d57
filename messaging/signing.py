"""The SMS Gateway for Android's webhook signature: hex HMAC-SHA256 of the raw body followed by X-Timestamp."""

from __future__ import annotations

import hashlib
import hmac
import time

# A signed request whose timestamp is further than this from our clock is refused (replays, skew).
MAX_SKEW_SECONDS = 300


class BadSignature(Exception):
    """The request is unsigned, badly signed, or signed too long ago."""


def sign(body: bytes, timestamp: str, key: str) -> str:
    return hmac.new(key.encode(), body + timestamp.encode(), hashlib.sha256).hexdigest()


def signed_headers(body: bytes, key: str, now: float | None = None) -> dict[str, str]:
    """The headers a signed webhook request carries."""
    timestamp = str(int(now if now is not None else time.time()))
    return {"X-Timestamp": timestamp, "X-Signature": sign(body, timestamp, key)}


def verify(body: bytes, timestamp: str | None, signature: str | None, key: str, now: float | None = None) -> None:
    """Raise BadSignature unless `signature` signs body + timestamp with `key`, within the allowed skew."""
    if not key:
        raise BadSignature("No signing key is configured (SMS_WEBHOOK_SIGNING_KEY); unsigned webhooks are refused.")
    if not timestamp or not signature:
        raise BadSignature("X-Timestamp and X-Signature are required.")
    try:
        skew = abs((now if now is not None else time.time()) - int(timestamp))
    except (ValueError, OverflowError):  # OverflowError: an integer too large to subtract from a float clock
        raise BadSignature("X-Timestamp is not a Unix time in seconds.") from None
    if skew > MAX_SKEW_SECONDS:
        raise BadSignature(f"X-Timestamp is {int(skew)} s from our clock; at most {MAX_SKEW_SECONDS} s is allowed.")
    # As bytes: compare_digest refuses a str with non-ASCII characters, which a header may carry.
    if not hmac.compare_digest(sign(body, timestamp, key).encode(), signature.strip().lower().encode()):
        raise BadSignature("X-Signature does not match.")
