from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "messaging"

    def ready(self) -> None:
        from inboxerr.health import register_check
        from inboxerr.metrics_view import register_gauges
        from messaging.gauges import queue_gauges
        from messaging.health import gateway_check

        register_check("gateway", gateway_check)
        register_gauges(queue_gauges)
