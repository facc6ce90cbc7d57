from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "messaging"

    def ready(self) -> None:
        from inboxerr.health import register_check
        from inboxerr.metrics import MESSAGES, WEBHOOK_EVENTS, start_at_zero
        from inboxerr.metrics_view import register_gauges
        from messaging.gauges import queue_gauges
        from messaging.health import gateway_check
        from messaging.models import EventKind
        from messaging.receipts import Result

        register_check("gateway", gateway_check)
        register_gauges(queue_gauges)
        start_at_zero(MESSAGES, [(status,) for status in ("sent", "retry", "failed", "cancelled", "delivered")])
        acted_on = (EventKind.SENT, EventKind.DELIVERED, EventKind.FAILED, EventKind.RECEIVED)
        start_at_zero(
            WEBHOOK_EVENTS,
            [(source, kind, result) for source in ("android", "twilio") for kind in acted_on for result in Result],
        )
