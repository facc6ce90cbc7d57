from __future__ import annotations

from django.db.models import BooleanField
from rest_framework import serializers

from inboxerr.fields import OptionalBooleanField, VariablesField
from templates.models import MessageTemplate
from templates.segments import GSM_7, UCS_2


class MessageTemplateSerializer(serializers.ModelSerializer):
    """Reads, and the fields a write may give; the services check content and name."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        BooleanField: OptionalBooleanField,
    }

    class Meta:
        model = MessageTemplate
        fields = ["id", "name", "content", "description", "is_active", "variables", "created_at", "updated_at"]
        read_only_fields = ["id", "variables", "created_at", "updated_at"]
        extra_kwargs = {
            # The text is sent as written: leading and trailing whitespace is part of the message.
            "content": {"trim_whitespace": False},
            "variables": {"help_text": "Merge-field names the content uses, in order of first use."},
        }


class TemplatePreviewRequestSerializer(serializers.Serializer):
    variables = VariablesField(
        child=serializers.CharField(allow_blank=True, trim_whitespace=False),
        required=False,
        default=dict,
        help_text='Values by variable name, e.g. {"name": "Ann"}. An empty value counts as missing.',
    )
    phone = serializers.CharField(
        required=False, max_length=32, help_text="The recipient's phone, for templates that use {{ phone }}."
    )


class TemplatePreviewSerializer(serializers.Serializer):
    """The rendered text and its SMS size; with missing variables, rendered and the size are null."""

    rendered = serializers.CharField(allow_null=True)
    encoding = serializers.ChoiceField(choices=[GSM_7, UCS_2], allow_null=True)
    characters = serializers.IntegerField(allow_null=True)
    units = serializers.IntegerField(allow_null=True, help_text="GSM-7 septets or UCS-2 code units.")
    parts = serializers.IntegerField(allow_null=True, help_text="SMS parts (segments) the text is sent in.")
    missing = serializers.ListField(child=serializers.CharField(), help_text="Variables without a value or default.")
    variables = serializers.ListField(child=serializers.CharField())


def own_active_template(user, template_id: int | None) -> MessageTemplate | None:
    """Resolve a template_id given by `user` (for campaigns and sends): theirs and active, or a 400."""
    if template_id is None:
        return None
    template = MessageTemplate.objects.filter(pk=template_id, owner=user).first()
    # The same answer for another user's template as for none: nothing about it is revealed.
    if template is None:
        raise serializers.ValidationError("No template of yours has this id.")
    if not template.is_active:
        raise serializers.ValidationError("This template is inactive; activate it or choose another.")
    return template


class ContentOrTemplateSerializer(serializers.Serializer):
    """Exactly one of a text of its own (the field `content_field` names) and one of the user's active
    templates (`template_id`): the rule campaigns and sends share. An edit counts what the object has."""

    content_field = "content"
    template_id = serializers.IntegerField(required=False, allow_null=True, default=None)

    def validate_template_id(self, value: int | None) -> MessageTemplate | None:
        return own_active_template(self.context["request"].user, value)

    def validate(self, attrs: dict) -> dict:
        attrs = super().validate(attrs)
        content = attrs.get(self.content_field, getattr(self.instance, self.content_field, ""))
        template = attrs.get("template_id", getattr(self.instance, "template", None))
        if bool(content) == bool(template):
            one_of = f"Give exactly one of {self.content_field} and template_id."
            raise serializers.ValidationError({self.content_field: [one_of], "template_id": [one_of]})
        return attrs
