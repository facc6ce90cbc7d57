from rest_framework import serializers

from templates.models import MessageTemplate


class MessageTemplateSerializer(serializers.ModelSerializer):
    class Meta:
        model = MessageTemplate
        fields = ["id", "name", "content", "description", "is_active", "variables", "created_at", "updated_at"]
        read_only_fields = fields
