"""The dispatcher: claim due messages, send them through the backend, record what happened.

Any number of dispatchers, on any number of nodes, run at once; they share
nothing but the database. Its parts, each owning one job:

- `claims`: taking due messages with FOR UPDATE SKIP LOCKED, the leases on
  them, and giving them back (released, or requeued when a lease expired);
- `loop`: one dispatch run, batch after batch: check doubtful messages with
  the gateway, respect the rate limit, send;
- `outcomes`: recording what the gateway answered (SENT, a retry after a
  backoff, FAILED) and the events that say so;
- `gateway_health`: a refusal of our credentials, which pauses all sending;
- `outage`: riding out a lost database in the middle of a run;
- `slots`: how many dispatchers run at once, across every node.
"""

from __future__ import annotations

from messaging.dispatcher.claims import Claimed, claim_due, release_expired_leases, worker_name
from messaging.dispatcher.loop import DispatchReport, StopReason, dispatch
from messaging.dispatcher.outcomes import backoff_seconds

__all__ = [
    "Claimed",
    "DispatchReport",
    "StopReason",
    "backoff_seconds",
    "claim_due",
    "dispatch",
    "release_expired_leases",
    "worker_name",
]
