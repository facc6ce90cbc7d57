"""Which owners have active endpoints for which events: read once every few seconds per process, so an
event nobody subscribed to costs a dictionary lookup, however many messages it is about.

An endpoint's change (created, edited, disabled, deleted) is seen at once by the process that made it
and within REFRESH_SECONDS by every other; a delivery written meanwhile for an endpoint just switched
off is given up by the worker, one for an endpoint deleted is dropped.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict

from django.db import transaction

from messaging.models import WebhookEndpoint

REFRESH_SECONDS = 5.0

# event -> owner id -> that owner's active endpoints for it.
Snapshot = dict[str, dict[int, tuple[int, ...]]]

_lock = threading.Lock()
_snapshot: Snapshot | None = None
_loaded_at = 0.0


def endpoints_for(event: str) -> dict[int, tuple[int, ...]]:
    """owner id -> ids of their active endpoints subscribed to `event` (often empty: then no query at all)."""
    return _current().get(event, {})


def forget() -> None:
    """Read the endpoints again at the next event: now, and again once the current transaction commits
    (another process's events may come from before it did)."""
    reset()
    transaction.on_commit(reset)


def reset() -> None:
    """Read the endpoints again at the next event."""
    global _snapshot
    _snapshot = None


def _current() -> Snapshot:
    global _snapshot, _loaded_at
    snapshot = _snapshot
    if snapshot is not None and time.monotonic() - _loaded_at < REFRESH_SECONDS:
        return snapshot
    with _lock:
        loaded: defaultdict[str, defaultdict[int, list[int]]] = defaultdict(lambda: defaultdict(list))
        for endpoint_id, owner_id, events in WebhookEndpoint.objects.filter(active=True).values_list(
            "id", "owner_id", "events"
        ):
            for event in events if isinstance(events, list) else []:
                loaded[str(event)][owner_id].append(endpoint_id)
        snapshot = {event: {owner: tuple(ids) for owner, ids in owners.items()} for event, owners in loaded.items()}
        _snapshot, _loaded_at = snapshot, time.monotonic()
    return snapshot
