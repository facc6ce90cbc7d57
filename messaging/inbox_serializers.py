"""What the inbox API reads and writes."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers
from rest_framework.reverse import reverse

from messaging.models import InboundMessage, InboxSettings, Keyword, Message


class InboundMessageSerializer(serializers.ModelSerializer):
    campaign_id: serializers.PrimaryKeyRelatedField[Any] = serializers.PrimaryKeyRelatedField(
        source="campaign", read_only=True, allow_null=True
    )
    in_reply_to: serializers.PrimaryKeyRelatedField[Any] = serializers.PrimaryKeyRelatedField(
        read_only=True, allow_null=True, help_text="The message of yours it most likely answers."
    )
    contact_id: serializers.PrimaryKeyRelatedField[Any] = serializers.PrimaryKeyRelatedField(
        source="contact", read_only=True, allow_null=True
    )
    auto_reply: serializers.PrimaryKeyRelatedField[Any] = serializers.PrimaryKeyRelatedField(
        read_only=True, allow_null=True, help_text="The automatic answer it got (a HELP text)."
    )
    keyword = serializers.ChoiceField(
        choices=[("", "none"), *Keyword.choices], read_only=True, help_text="stop, start or help; empty otherwise."
    )
    read = serializers.SerializerMethodField()
    archived = serializers.SerializerMethodField()
    conversation_url = serializers.SerializerMethodField()

    class Meta:
        model = InboundMessage
        fields = [
            "id", "phone", "text", "kind", "received_at", "source", "gateway_number", "device_id", "sim_number",
            "campaign_id", "in_reply_to", "contact_id", "keyword", "keyword_result", "auto_reply", "read", "read_at",
            "archived", "archived_at", "conversation_url",
        ]  # fmt: skip
        read_only_fields = fields

    def get_read(self, inbound: InboundMessage) -> bool:
        return inbound.read_at is not None

    def get_archived(self, inbound: InboundMessage) -> bool:
        return inbound.archived_at is not None

    def get_conversation_url(self, inbound: InboundMessage) -> str:
        return reverse("conversation", args=[inbound.phone], request=self.context.get("request"))


class MarkSerializer(serializers.Serializer):
    """Mark one or many of your inbound messages."""

    ids = serializers.ListField(child=serializers.IntegerField(min_value=1), min_length=1, max_length=1000)
    read = serializers.BooleanField(required=False, allow_null=True, default=None)
    archived = serializers.BooleanField(required=False, allow_null=True, default=None)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("read") is None and attrs.get("archived") is None:
            raise serializers.ValidationError("Say what to mark: read, archived, or both.")
        return attrs


class MarkedSerializer(serializers.Serializer):
    marked = serializers.IntegerField(help_text="How many of the ids given are yours and were marked.")


class ReplySerializer(serializers.Serializer):
    content = serializers.CharField(max_length=10_000, trim_whitespace=False)


class ThreadItemSerializer(serializers.Serializer):
    direction = serializers.ChoiceField(choices=["in", "out"], help_text="in: they wrote; out: you sent.")
    at = serializers.DateTimeField(help_text="Received, or sent (queued, if not sent yet).")
    id = serializers.CharField(help_text="The inbound message's id, or the message's.")
    text = serializers.CharField()
    status = serializers.CharField(help_text="Of a message you sent; empty for theirs.")
    campaign_id = serializers.IntegerField(allow_null=True)
    keyword = serializers.CharField(help_text="What a keyword they sent did, when it was one.")

    def to_representation(self, item: Any) -> dict[str, Any]:
        message = item.item
        outbound = isinstance(message, Message)
        return {
            "direction": item.direction,
            "at": serializers.DateTimeField().to_representation(item.at),
            "id": str(message.pk),
            "text": message.content if outbound else message.text,
            "status": message.status if outbound else "",
            "campaign_id": message.campaign_id,
            "keyword": "" if outbound else message.keyword_result,
        }


class ConversationSerializer(serializers.Serializer):
    phone = serializers.CharField()
    messages = ThreadItemSerializer(many=True, help_text="Both ways, oldest first.")


class InboxSettingsSerializer(serializers.ModelSerializer):
    class Meta:
        model = InboxSettings
        fields = ["help_text", "opt_out_line", "updated_at"]
        read_only_fields = ["updated_at"]
