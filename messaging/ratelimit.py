"""A rate limit shared by every dispatcher on every node, kept in the database they all use.

Fixed windows: a window of `window_seconds` holds `capacity` units (messages or
segments). A worker takes what it needs, or what is left, under a row lock; when
nothing is left it sleeps until the next window. Workers share nothing but the
database, so nothing but the database keeps the count.
"""

from __future__ import annotations

import math
import time

from django.db import transaction

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
