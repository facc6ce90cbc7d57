"""A local stand-in for the SMS Gateway for Android's third-party API: it accepts sends and posts signed webhooks back.

Served at the root of its own port, so `SMS_GATEWAY_URL=http://127.0.0.1:PORT` replaces the cloud base URL.
`GET /stats` (no auth) tells a test or a benchmark what it received, including ids sent twice.

config: how it behaves; state: what it remembers; handlers: its HTTP API; webhooks: the signed
posts back; runner: serving it in a loop, in a command or in a thread beside a synchronous test.
"""

from messaging.simulator.config import SMS_EVENTS, WEBHOOK_ATTEMPTS, SimulatorConfig
from messaging.simulator.handlers import GATEWAY, Gateway, build_app
from messaging.simulator.runner import Running, SimulatorThread, run, serving
from messaging.simulator.state import GatewayState, SimMessage

__all__ = [
    "GATEWAY",
    "SMS_EVENTS",
    "WEBHOOK_ATTEMPTS",
    "Gateway",
    "GatewayState",
    "Running",
    "SimMessage",
    "SimulatorConfig",
    "SimulatorThread",
    "build_app",
    "run",
    "serving",
]
