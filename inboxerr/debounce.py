"""At most one of something a period, across every process sharing the cache (Redis, where REDIS_URL is set):
the wake-ups of the dispatcher and of webhook delivery, which every send or event asks for."""

from __future__ import annotations

import math
import time

from django.core.cache import cache

# When this process last took each key (time.monotonic()).
_taken_at: dict[str, float] = {}


def first_in(key: str, seconds: int) -> bool:
    """True for the first call in `seconds` across the processes sharing the cache, which then holds `key` for
    that long. Within `seconds` of this process's own True the key is still held, so the answer is False without
    asking the cache: no round trip to Redis for the many calls of a busy second."""
    now = time.monotonic()
    if now - _taken_at.get(key, -math.inf) < seconds:
        return False
    if not cache.add(key, 1, timeout=seconds):
        return False
    _taken_at[key] = now  # before the cache set the key's expiry, so it expires no sooner than this says
    return True


def reset() -> None:
    """Forget what this process took (tests, whose cache is emptied between them)."""
    _taken_at.clear()
