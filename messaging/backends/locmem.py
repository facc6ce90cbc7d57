"""Keeps sent messages in memory, for tests: `LocmemBackend.outbox`, like Django's mail.outbox."""

from __future__ import annotations

from collections import Counter

from messaging.backends.base import (
    BaseBackend,
    GatewayState,
    GatewayStatus,
    OutgoingSMS,
    SendError,
)


class LocmemBackend(BaseBackend):
    name = "locmem"
    reuses_our_ids = True
    outbox: list[OutgoingSMS] = []
    # Test hooks: phone -> the SendError its next sends raise (set, then read back what happened).
    failures: dict[str, SendError] = {}

    @classmethod
    def reset(cls) -> None:
        cls.outbox = []
        cls.failures = {}

    @classmethod
    def receipts(cls) -> Counter:
        """How many times each message id reached the gateway: more than one is a double send."""
        return Counter(str(message.id) for message in cls.outbox)

    async def send_one(self, message: OutgoingSMS) -> str:
        if message.phone in self.failures:
            raise self.failures[message.phone]
        self.outbox.append(message)
        return str(message.id)

    async def get_state(self, message_id, gateway_id: str = "") -> GatewayState:
        known = any(message.id == message_id for message in self.outbox)
        return GatewayState(
            GatewayStatus.ACCEPTED if known else GatewayStatus.UNKNOWN, gateway_id=str(message_id) if known else ""
        )
