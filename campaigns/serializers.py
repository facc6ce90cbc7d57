from __future__ import annotations

from typing import Any

from rest_framework import serializers
from rest_framework.fields import empty
from rest_framework.reverse import reverse

from campaigns.lifecycle import available_actions
from campaigns.models import Campaign
from imports.models import ImportJob
from imports.serializers import ImportJobSerializer, ImportOptionsSerializer
from messaging.serializers import QuietHoursField
from templates.serializers import ContentOrTemplateSerializer

ADD_OPT_OUT_LINE_HELP = (
    'End the first message each recipient gets from you with your opt-out line ("Reply STOP to opt out" unless '
    "set in /api/v1/inbox-settings); counted in the parts estimate and the preview."
)
QUIET_HOURS_HELP = (
    'Send only inside this window of each recipient\'s own day, e.g. "08:00-21:00" (their time zone read from '
    "the number; where it spans several, the hours inside the window in all of them). Empty: the deployment's "
    'SMS_QUIET_HOURS if set; "00:00-24:00": any hour.'
)
INCLUDE_NON_MOBILE_HELP = (
    "Also send to numbers that are not mobile (fixed line, toll-free, premium rate, ...); off, they are skipped "
    "and counted in skipped_not_mobile."
)


class UnchangedWhenLeftOut(serializers.BooleanField):
    """A box an edit leaves out of a form (multipart) body is unchanged, not turned off as DRF reads a form's
    missing checkbox; a JSON body that leaves it out means the same."""

    default_empty_html = empty


class CampaignSerializer(serializers.ModelSerializer):
    # Null for a campaign that sends its own message_content, and for a draft with no import yet.
    template_id: serializers.PrimaryKeyRelatedField[Any] = serializers.PrimaryKeyRelatedField(
        source="template", read_only=True, allow_null=True
    )
    import_id: serializers.PrimaryKeyRelatedField[Any] = serializers.PrimaryKeyRelatedField(
        source="import_job", read_only=True, allow_null=True
    )
    stats_url = serializers.SerializerMethodField()
    quiet_hours = serializers.CharField(source="send_window", read_only=True, help_text=QUIET_HOURS_HELP)
    actions = serializers.SerializerMethodField(help_text="What may be done with the campaign in its status now.")

    class Meta:
        model = Campaign
        fields = [
            "id",
            "name",
            "description",
            "status",
            "actions",
            "message_content",
            "template_id",
            "import_id",
            "include_non_mobile",
            "add_opt_out_line",
            "quiet_hours",
            "failure_reason",
            "pause_reason",
            "resume_at",
            "recipients_count",
            "skipped_opted_out",
            "skipped_missing_variables",
            "skipped_too_long",
            "skipped_not_mobile",
            "skipped_not_allowed",
            "skipped_quiet_hours",
            "stats_url",
            "scheduled_at",
            "started_at",
            "completed_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_actions(self, campaign: Campaign) -> list[str]:
        return [str(action) for action in available_actions(campaign.status)]

    def get_stats_url(self, campaign) -> str:
        return reverse("campaign-stats", args=[campaign.pk], request=self.context.get("request"))


class CampaignWriteSerializer(ContentOrTemplateSerializer):
    """Creation and DRAFT edits. References resolve among the user's own objects only."""

    content_field = "message_content"
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    message_content = serializers.CharField(required=False, allow_blank=True, default="", trim_whitespace=False)
    import_id = serializers.IntegerField(required=False, allow_null=True, default=None)
    scheduled_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    include_non_mobile = serializers.BooleanField(required=False, default=False, help_text=INCLUDE_NON_MOBILE_HELP)
    add_opt_out_line = serializers.BooleanField(required=False, default=False, help_text=ADD_OPT_OUT_LINE_HELP)
    quiet_hours = QuietHoursField(required=False, default="", help_text=QUIET_HOURS_HELP)

    def validate_import_id(self, value: int | None) -> ImportJob | None:
        if value is None:
            return None
        job = ImportJob.objects.filter(pk=value, owner=self.context["request"].user).first()
        if job is None:
            raise serializers.ValidationError("No import of yours has this id.")
        if job.status != ImportJob.Status.SUCCESS:
            raise serializers.ValidationError(f"This import is {job.status}; a campaign needs one that succeeded.")
        return job

    def to_service_kwargs(self) -> dict:
        data = dict(self.validated_data)
        renamed = {"template_id": "template", "import_id": "import_job", "quiet_hours": "send_window"}
        return {renamed.get(key, key): value for key, value in data.items()}


class CampaignUpdateSerializer(CampaignWriteSerializer):
    """A PATCH/PUT changes only the fields it names."""

    name = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    message_content = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    template_id = serializers.IntegerField(required=False, allow_null=True)
    import_id = serializers.IntegerField(required=False, allow_null=True)
    scheduled_at = serializers.DateTimeField(required=False, allow_null=True)
    include_non_mobile = UnchangedWhenLeftOut(required=False, help_text=INCLUDE_NON_MOBILE_HELP)
    add_opt_out_line = UnchangedWhenLeftOut(required=False, help_text=ADD_OPT_OUT_LINE_HELP)
    quiet_hours = QuietHoursField(required=False, help_text=QUIET_HOURS_HELP)


class CampaignFromCSVSerializer(ImportOptionsSerializer, ContentOrTemplateSerializer):
    """A campaign and its contacts in one multipart request."""

    content_field = "message_content"
    file = serializers.FileField(help_text="A contact file: .csv or .xlsx, as POST /api/v1/imports/ takes it.")
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    message_content = serializers.CharField(required=False, allow_blank=True, default="", trim_whitespace=False)
    scheduled_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    include_non_mobile = serializers.BooleanField(required=False, default=False, help_text=INCLUDE_NON_MOBILE_HELP)
    add_opt_out_line = serializers.BooleanField(required=False, default=False, help_text=ADD_OPT_OUT_LINE_HELP)
    quiet_hours = QuietHoursField(required=False, default="", help_text=QUIET_HOURS_HELP)


class CampaignFromCSVResultSerializer(serializers.Serializer):
    campaign = CampaignSerializer()
    import_job = ImportJobSerializer(source="campaign.import_job")


class CampaignStatsSerializer(serializers.Serializer):
    status = serializers.CharField()
    messages = serializers.IntegerField()
    by_status = serializers.DictField(child=serializers.IntegerField())
    total_parts = serializers.IntegerField()
    progress_percent = serializers.FloatField()
    send_rate_per_second = serializers.FloatField(
        help_text="Messages sent per second over the last send_rate_window_seconds (0 unless RUNNING)."
    )
    send_rate_window_seconds = serializers.IntegerField()
    estimated_completion_at = serializers.DateTimeField(allow_null=True)
    recipients = serializers.IntegerField()
    skipped_opted_out = serializers.IntegerField()
    skipped_missing_variables = serializers.IntegerField()
    skipped_too_long = serializers.IntegerField(help_text="Recipients whose message would be over SMS_MAX_PARTS.")
    skipped_not_mobile = serializers.IntegerField(
        help_text="Recipients whose number is not on a mobile line (fixed line, toll-free, premium rate, ...), "
        "skipped because include_non_mobile is off."
    )
    skipped_not_allowed = serializers.IntegerField(
        help_text="Recipients in a country, or on a premium-rate or shared-cost number, the owner may not send to."
    )
    skipped_quiet_hours = serializers.IntegerField(
        help_text="Recipients whose time zones share no time inside the campaign's quiet hours."
    )
    waiting = serializers.DictField(
        child=serializers.IntegerField(),
        help_text="QUEUED messages a safeguard holds back, by why: quiet_hours (until the window opens in the "
        "recipient's time zones), quota (until the owner's quota resets), review (a burst staff must approve).",
    )
    pause_reason = serializers.CharField(help_text="Why the system paused it (a quota), empty otherwise.")
    resume_at = serializers.DateTimeField(allow_null=True, help_text="When it resumes by itself.")
    fan_out_complete = serializers.BooleanField()
    replies = serializers.IntegerField(help_text="Messages people sent back that answer this campaign's.")
    unread_replies = serializers.IntegerField(help_text="Of those, the ones not read nor archived yet.")


class PreviewMessageSerializer(serializers.Serializer):
    phone = serializers.CharField()
    rendered = serializers.CharField(allow_null=True)
    missing = serializers.ListField(child=serializers.CharField())
    encoding = serializers.CharField(allow_null=True)
    parts = serializers.IntegerField()


class CampaignPreviewSerializer(serializers.Serializer):
    messages = PreviewMessageSerializer(many=True)
    recipients = serializers.IntegerField(help_text="The contacts it will be sent to, before opt-outs.")
    skipped_not_mobile = serializers.IntegerField(
        help_text="The contacts it will skip as not mobile (0 with include_non_mobile)."
    )
    estimated_total_parts = serializers.IntegerField()
