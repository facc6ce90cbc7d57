from rest_framework import serializers

from campaigns.models import Campaign


class CampaignSerializer(serializers.ModelSerializer):
    template_id = serializers.PrimaryKeyRelatedField(source="template", read_only=True)
    import_id = serializers.PrimaryKeyRelatedField(source="import_job", read_only=True)

    class Meta:
        model = Campaign
        fields = [
            "id",
            "name",
            "description",
            "status",
            "message_content",
            "template_id",
            "import_id",
            "failure_reason",
            "scheduled_at",
            "started_at",
            "completed_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields
