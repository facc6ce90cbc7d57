from rest_framework import serializers

from messaging.models import Message


class MessageSerializer(serializers.ModelSerializer):
    campaign_id = serializers.PrimaryKeyRelatedField(source="campaign", read_only=True)

    class Meta:
        model = Message
        fields = [
            "id",
            "campaign_id",
            "phone",
            "content",
            "variables",
            "status",
            "attempts",
            "parts_count",
            "error",
            "next_attempt_at",
            "created_at",
            "sent_at",
            "delivered_at",
            "failed_at",
        ]
        read_only_fields = fields
