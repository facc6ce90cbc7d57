"""What the simulated gateway remembers: accepted messages, registered webhooks and counters."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from messaging.simulator.config import DUPLICATES_SHOWN


@dataclass(slots=True)
class SimMessage:
    """What the gateway remembers of an accepted message (not its text)."""

    id: str
    phone_numbers: list[str]
    parts: int
    with_delivery_report: bool
    is_encrypted: bool
    fails: bool
    state: str = "Pending"
    error: str | None = None
    states: dict[str, str] = field(default_factory=dict)

    def as_json(self, device_id: str) -> dict[str, Any]:
        recipient = {"state": self.state, "error": self.error} if self.error else {"state": self.state}
        return {
            "id": self.id,
            "deviceId": device_id,
            "state": self.state,
            "isHashed": False,
            "isEncrypted": self.is_encrypted,
            "recipients": [{"phoneNumber": phone, **recipient} for phone in self.phone_numbers],
            "states": self.states,
        }


class GatewayState:
    """Messages, webhooks and counters; reset clears all but the webhooks."""

    def __init__(self) -> None:
        self.webhooks: dict[str, dict[str, str]] = {}
        self.reset()

    def reset(self) -> None:
        self.messages: dict[str, SimMessage] = {}
        self.received = 0  # authenticated POST /messages, whatever the answer
        self.unavailable = 0  # answered 503, not recorded
        self.invalid = 0  # answered 400
        self.receipts: dict[str, int] = {}  # only ids received more than once
        self.by_state: Counter[str] = Counter()
        self.webhooks_delivered = 0
        self.webhooks_failed = 0

    def accept(self, message: SimMessage) -> None:
        self.messages[message.id] = message
        self.by_state[message.state] += 1

    def move(self, message: SimMessage, state: str, error: str | None = None) -> None:
        if self.messages.get(message.id) is message:  # not forgotten by a reset meanwhile
            self.by_state[message.state] -= 1
            self.by_state[state] += 1
        message.state, message.error = state, error
        message.states[state] = now_iso()

    def count_duplicate(self, message_id: str) -> None:
        self.receipts[message_id] = self.receipts.get(message_id, 1) + 1

    def stats(self, *, in_progress: int) -> dict[str, Any]:
        top = sorted(self.receipts.items(), key=lambda item: -item[1])[:DUPLICATES_SHOWN]
        return {
            "received": self.received,
            "accepted": len(self.messages),
            "unavailable": self.unavailable,
            "invalid": self.invalid,
            "duplicate_ids": len(self.receipts),
            "duplicate_receipts": sum(count - 1 for count in self.receipts.values()),  # all of them, not just the list
            "duplicates": [{"id": message_id, "receipts": count} for message_id, count in top],
            "states": {state: count for state, count in self.by_state.items() if count},
            "webhooks_delivered": self.webhooks_delivered,
            "webhooks_failed": self.webhooks_failed,
            "messages_in_progress": in_progress,
        }


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")
