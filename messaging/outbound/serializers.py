from __future__ import annotations

from rest_framework import serializers
from rest_framework.reverse import reverse

from messaging.models import WebhookDelivery, WebhookEndpoint
from messaging.outbound.events import SUBSCRIBABLE


class WebhookEndpointSerializer(serializers.ModelSerializer):
    # Checked by messaging.outbound.targets, not Django's URLValidator, which refuses names without a dot
    # (http://crm:8080/, where WEBHOOK_ALLOW_PRIVATE lets a deployment call its own network).
    url = serializers.CharField(max_length=2000, help_text="An http(s) URL on a public address; called with POST.")
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=SUBSCRIBABLE), allow_empty=False, help_text="What to tell it of."
    )
    active = serializers.BooleanField(
        required=False, help_text="false switches it off (waiting deliveries are given up); true enables it again."
    )
    disabled_reason = serializers.CharField(
        read_only=True, help_text="Why it is off: by its owner, or automatically after a run of failed deliveries."
    )
    deliveries_url = serializers.SerializerMethodField()

    class Meta:
        model = WebhookEndpoint
        fields = [
            "id",
            "url",
            "description",
            "events",
            "active",
            "disabled_reason",
            "disabled_at",
            "consecutive_failures",
            "failing_since",
            "retry_after",
            "created_at",
            "updated_at",
            "deliveries_url",
        ]
        read_only_fields = [
            "id",
            "disabled_at",
            "consecutive_failures",
            "failing_since",
            "retry_after",
            "created_at",
            "updated_at",
        ]
        extra_kwargs = {
            "disabled_at": {"help_text": "When it was switched off."},
            "consecutive_failures": {"help_text": "Failed attempts in a row, since its last success."},
            "failing_since": {"help_text": "When that run of failures began."},
            "retry_after": {"help_text": "While it fails: when it is tried again (its deliveries wait until then)."},
        }

    def get_deliveries_url(self, endpoint: WebhookEndpoint) -> str:
        return reverse("webhook-deliveries", args=[endpoint.pk], request=self.context.get("request"))


class WebhookEndpointCreatedSerializer(WebhookEndpointSerializer):
    secret = serializers.CharField(
        read_only=True, help_text="The signing secret: shown now, never again. Keep it with your receiver."
    )

    class Meta(WebhookEndpointSerializer.Meta):
        fields = [*WebhookEndpointSerializer.Meta.fields, "secret"]


class WebhookDeliverySerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "event_id",
            "event",
            "status",
            "attempts",
            "next_attempt_at",
            "first_attempt_at",
            "last_attempt_at",
            "last_response_code",
            "last_error",
            "last_latency_ms",
            "delivered_at",
            "created_at",
            "payload",
        ]
        read_only_fields = fields
