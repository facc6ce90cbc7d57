from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers
from rest_framework.reverse import reverse

from inboxerr.fields import VariablesField
from messaging.models import EventKind, Message, MessageEvent, OptOut, TaskRecord
from messaging.send_windows import effective_window, parse_window
from messaging.services import MAX_BATCH, Recipient
from templates.serializers import ContentOrTemplateSerializer


class MessageEventSerializer(serializers.ModelSerializer):
    # Not an enum: a gateway event we do not act on keeps the gateway's own name.
    kind = serializers.CharField(
        read_only=True, help_text=f"One of {', '.join(EventKind.values)}, or the gateway's own name for an event."
    )

    class Meta:
        model = MessageEvent
        fields = ["created_at", "source", "kind", "status", "detail"]
        read_only_fields = fields


class MessageSerializer(serializers.ModelSerializer):
    # Text, not an enum: empty for a message nothing holds back, and a client's enum would refuse the empty value.
    waiting = serializers.CharField(
        read_only=True,
        help_text="Why a QUEUED message is not going out yet: quiet_hours (until next_attempt_at, when the window "
        "opens where the recipient is), quota (until the owner's quota resets), review (a burst staff must "
        "approve); empty otherwise.",
    )
    send_window = serializers.CharField(read_only=True, help_text='Its quiet hours ("08:00-21:00"); empty: any hour.')
    # A campaign's messages have no task, and a send's or a batch's have no campaign.
    campaign_id: serializers.PrimaryKeyRelatedField[Any] = serializers.PrimaryKeyRelatedField(
        source="campaign", read_only=True, allow_null=True
    )
    task_id: serializers.PrimaryKeyRelatedField[Any] = serializers.PrimaryKeyRelatedField(
        source="task", read_only=True, allow_null=True
    )

    class Meta:
        model = Message
        fields = [
            "id",
            "campaign_id",
            "task_id",
            "phone",
            "content",
            "variables",
            "status",
            "attempts",
            "parts_count",
            "error",
            "next_attempt_at",
            "send_window",
            "waiting",
            "created_at",
            "sent_at",
            "delivered_at",
            "failed_at",
        ]
        read_only_fields = fields


class MessageDetailSerializer(MessageSerializer):
    events = MessageEventSerializer(many=True, read_only=True)

    class Meta(MessageSerializer.Meta):
        fields = [*MessageSerializer.Meta.fields, "events"]
        read_only_fields = fields


class QuietHoursField(serializers.CharField):
    """A window of the recipient's day, "08:00-21:00", kept in its normal form; empty for none. With
    `allow_default`, "default" stands for the deployment's SMS_QUIET_HOURS."""

    def __init__(self, *, allow_default: bool = False, **kwargs: Any):
        self.allow_default = allow_default
        super().__init__(allow_blank=True, max_length=11, **kwargs)

    def to_internal_value(self, data: Any) -> str:
        text = super().to_internal_value(data)
        if self.allow_default and text == "default":
            if not settings.SMS_QUIET_HOURS:
                raise serializers.ValidationError("This deployment sets no default quiet hours (SMS_QUIET_HOURS).")
            return effective_window("")
        try:
            return str(parse_window(text)) if text else ""
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from None


class _Outgoing(ContentOrTemplateSerializer):
    """The text of a send or a batch, and when to send it; `to_recipients()` says to whom."""

    content = serializers.CharField(required=False, allow_blank=True, default="", trim_whitespace=False)
    scheduled_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    quiet_hours = QuietHoursField(
        required=False,
        default="",
        allow_default=True,
        help_text='Send only inside this window of the recipient\'s own day, e.g. "08:00-21:00", or "default" for '
        "the deployment's SMS_QUIET_HOURS. Empty: at once.",
    )

    def to_recipients(self) -> list[Recipient]:
        raise NotImplementedError

    def message_fields(self) -> dict:
        data = self.validated_data
        return {
            "content": data["content"],
            "template": data["template_id"],
            "scheduled_at": data["scheduled_at"],
            "send_window": data["quiet_hours"],
        }


class RecipientSerializer(serializers.Serializer):
    phone = serializers.CharField(max_length=40)
    variables = VariablesField(child=serializers.CharField(allow_blank=True), required=False, default=dict)


class SendSerializer(RecipientSerializer, _Outgoing):
    def to_recipients(self) -> list[Recipient]:
        return [Recipient(self.validated_data["phone"], self.validated_data["variables"])]


class BatchSerializer(_Outgoing):
    recipients: serializers.ListSerializer[Any] = serializers.ListSerializer(
        child=RecipientSerializer(), allow_empty=False, max_length=MAX_BATCH
    )

    def to_recipients(self) -> list[Recipient]:
        return [Recipient(r["phone"], r["variables"]) for r in self.validated_data["recipients"]]


class QueuedSerializer(serializers.Serializer):
    task_id = serializers.UUIDField(source="task.pk")
    task_url = serializers.SerializerMethodField()
    message_ids = serializers.ListField(child=serializers.UUIDField())
    skipped = serializers.ListField(child=serializers.DictField())

    def get_task_url(self, queued) -> str:
        return reverse("task-detail", args=[queued.task.pk], request=self.context.get("request"))

    def to_representation(self, queued) -> dict[str, Any]:
        # What the fields above make of it (they document the answer), built directly: every send answers with
        # it, and going through the fields (a deep copy of each, then each child) took 89 µs against 25 µs.
        return {
            "task_id": str(queued.task.pk),
            "task_url": self.get_task_url(queued),
            "message_ids": [str(message_id) for message_id in queued.message_ids],
            "skipped": [{str(key): value for key, value in skip.items()} for skip in queued.skipped],
        }


class TaskErrorSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    phone = serializers.CharField()
    error = serializers.CharField()


class TaskSerializer(serializers.Serializer):
    """A task the API handed out; status and counts are derived from its messages (messaging.services.task_status)."""

    id = serializers.UUIDField()
    kind = serializers.CharField()
    status = serializers.ChoiceField(choices=TaskRecord.Status.choices)
    total = serializers.IntegerField()
    done = serializers.IntegerField()
    counts = serializers.DictField(child=serializers.IntegerField())
    # The field shadows Serializer.errors only on the class: DRF moves declared fields off it.
    errors = TaskErrorSerializer(many=True)  # type: ignore[assignment]
    created_at = serializers.DateTimeField()


class OptOutSerializer(serializers.ModelSerializer):
    class Meta:
        model = OptOut
        fields = ["id", "phone", "source", "keyword", "created_at"]
        read_only_fields = ["id", "source", "keyword", "created_at"]
