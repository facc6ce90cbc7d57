"""How the simulated gateway behaves, and the limits it keeps."""

from __future__ import annotations

from dataclasses import dataclass, field

from android_sms_gateway.enums import WebhookEvent

SMS_EVENTS = ("sms:sent", "sms:delivered", "sms:failed", "sms:received")
KNOWN_EVENTS = frozenset(event.value for event in WebhookEvent)
# A UUID's length, the gateway API's limit for a message id as we read its schema.
MAX_ID_LENGTH = 36
# Webhook posts in flight at once (one courier task each), so a burst of sends cannot open thousands of
# sockets to the receiver; the rest wait in a queue, in order.
WEBHOOK_CONCURRENCY = 50
WEBHOOK_ATTEMPTS = 4
WEBHOOK_BACKOFF_SECONDS = 0.5
WEBHOOK_TIMEOUT_SECONDS = 10
DUPLICATES_SHOWN = 100
FAILURE_REASON = "RESULT_ERROR_GENERIC_FAILURE (simulated)"
OPEN_PATHS = frozenset(
    {"/stats", "/stats/reset", "/health", "/health/live", "/health/ready", "/health/startup", "/simulate/received"}
)


@dataclass
class SimulatorConfig:
    """How the simulated gateway behaves; rates are fractions from 0 to 1, delays in milliseconds."""

    login: str = "sim"
    password: str = "sim"
    latency_ms: float = 50
    send_failure_rate: float = 0.0
    delivery_failure_rate: float = 0.0
    webhook_delay_ms: float = 20
    signing_key: str = "sim-signing-key"
    seed: int | None = None
    # Posted every sms:* event, as if registered through the API (they show in GET /webhooks).
    webhook_urls: list[str] = field(default_factory=list)
    host: str = "127.0.0.1"
    port: int = 9090
    device_id: str = "simulated-device"
    # The simulated phone's own number: the `sender` of what it sends, the `recipient` of what it receives.
    device_number: str = "+447700900000"

    def __post_init__(self):
        for name in ("send_failure_rate", "delivery_failure_rate"):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"{name} must be between 0 and 1, not {getattr(self, name)}.")
        if self.latency_ms < 0 or self.webhook_delay_ms < 0:
            raise ValueError("latency_ms and webhook_delay_ms cannot be negative.")
