"""A rate limit shared by every dispatcher on every node, kept in the database they all use.

Fixed windows: a window of `window_seconds` holds `capacity` units (messages or
segments). A worker takes what it needs, or what is left, under a row lock; when
nothing is left it sleeps until the next window. Workers share nothing but the
database, so nothing but the database keeps the count.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator

from django.conf import settings
from django.db import transaction

from messaging.backends import backend_path
from messaging.dispatcher.claims import Claimed
from messaging.models import RateLimitWindow


class SharedRateLimit:
    def __init__(self, key: str, per_second: float):
        self.key = key[:64]
        # At least one unit per window: a limit under 1/s becomes one unit every 1/limit seconds.
        self.window_seconds = max(1.0, 1.0 / per_second)
        self.capacity = max(1, math.floor(per_second * self.window_seconds))

    def take(self, wanted: int, now: float | None = None) -> int:
        """Take up to `wanted` units from the current window; returns how many were granted (maybe 0)."""
        window = int((now if now is not None else time.time()) // self.window_seconds)
        with transaction.atomic():
            row, _ = RateLimitWindow.objects.select_for_update().get_or_create(key=self.key)
            if row.window != window:
                row.window, row.used = window, 0
            granted = min(wanted, self.capacity - row.used)
            if granted <= 0:
                return 0
            row.used += granted
            row.save(update_fields=["window", "used"])
            return granted

    def acquire(self, wanted: int) -> int:
        """Take at least one unit (at most `wanted`), sleeping until a window has room."""
        while True:
            granted = self.take(wanted)
            if granted:
                return granted
            time.sleep(self.window_seconds - time.time() % self.window_seconds + 0.001)


def dispatch_rate_limit() -> SharedRateLimit | None:
    """The limit SMS_RATE_LIMIT sets on the backend in use, or None when there is none."""
    if settings.SMS_RATE_LIMIT <= 0:
        return None
    return SharedRateLimit(f"sms:{settings.SMS_RATE_LIMIT_UNIT}:{backend_path()}", settings.SMS_RATE_LIMIT)


def within_rate_limit(
    claims: list[Claimed], limiter: SharedRateLimit | None
) -> Iterator[tuple[list[Claimed], list[Claimed]]]:
    """(chunk, what is left after it): as much as the shared rate limit allows each time, until all is sent."""
    if not claims:
        return
    if limiter is None:
        yield claims, []
        return
    units = [c.parts if settings.SMS_RATE_LIMIT_UNIT == "segments" else 1 for c in claims]
    banked = 0  # units taken from the limit and not yet spent
    while claims:
        while banked < units[0]:
            banked += limiter.acquire(sum(units) - banked)
        fit = 0
        while fit < len(claims) and sum(units[: fit + 1]) <= banked:
            fit += 1
        banked -= sum(units[:fit])
        chunk, claims, units = claims[:fit], claims[fit:], units[fit:]
        yield chunk, claims
