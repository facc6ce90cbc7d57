from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "messaging"

    def ready(self) -> None:
        from imports.signals import import_finished
        from inboxerr.admin_site import Panel, register_panel
        from inboxerr.health import register_check
        from inboxerr.metrics import MESSAGES, OUTBOUND_DELIVERIES, WEBHOOK_EVENTS, start_at_zero
        from inboxerr.metrics_view import register_gauges
        from messaging import dashboard
        from messaging.gauges import queue_gauges
        from messaging.health import gateway_check
        from messaging.models import EventKind
        from messaging.outbound import receivers as outbound_receivers
        from messaging.receipts import Result

        register_check("gateway", gateway_check)
        import_finished.connect(outbound_receivers.import_finished, dispatch_uid="messaging.outbound.import_finished")
        register_panel(Panel("admin/messaging/panels/figures.html", dashboard.figures, order=10))
        register_panel(Panel("admin/messaging/panels/queue.html", dashboard.queue, order=20))
        register_panel(Panel("admin/messaging/panels/chart.html", dashboard.chart, order=30, wide=True))
        register_gauges(queue_gauges)
        start_at_zero(MESSAGES, [(status,) for status in ("sent", "retry", "failed", "cancelled", "delivered")])
        acted_on = (EventKind.SENT, EventKind.DELIVERED, EventKind.FAILED, EventKind.RECEIVED)
        start_at_zero(
            WEBHOOK_EVENTS,
            [(source, kind, result) for source in ("android", "twilio") for kind in acted_on for result in Result],
        )
        start_at_zero(OUTBOUND_DELIVERIES, [("delivered",), ("retry",), ("given_up",)])
