"""Prints each message instead of sending it: for development."""

from __future__ import annotations

import sys

from messaging.backends.base import BaseBackend, GatewayState, GatewayStatus, OutgoingSMS


class ConsoleBackend(BaseBackend):
    name = "console"
    reuses_our_ids = True

    async def send_one(self, message: OutgoingSMS) -> str:
        sys.stdout.write(f"SMS {message.id} to {message.phone} ({message.parts} part(s)): {message.text}\n")
        return str(message.id)

    async def get_state(self, message_id, gateway_id: str = "") -> GatewayState:
        # Whatever was printed counts as accepted; nothing is ever resent after a crash.
        return GatewayState(GatewayStatus.ACCEPTED, gateway_id=str(message_id))
