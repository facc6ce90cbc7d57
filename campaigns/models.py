from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from messaging.send_windows import validate_window


class CampaignStatus(models.TextChoices):
    DRAFT = "DRAFT"
    SCHEDULED = "SCHEDULED"
    RUNNING = "RUNNING"
    PAUSED = "PAUSED"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"
    FAILED = "FAILED"


class Campaign(models.Model):
    """One message (raw text or a template) sent to every contact of one import."""

    Status = CampaignStatus

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="campaigns")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    # Exactly one of message_content and template is set (checked by the database).
    message_content = models.TextField(blank=True, default="")
    template = models.ForeignKey(
        "message_templates.MessageTemplate",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="campaigns",
    )
    # PROTECT: an import a campaign uses outlives the retention clean-up.
    import_job = models.ForeignKey(
        "imports.ImportJob", on_delete=models.PROTECT, null=True, blank=True, related_name="campaigns"
    )
    failure_reason = models.TextField(blank=True, default="")
    # The text as it was when the campaign started running: editing its template afterwards
    # cannot change messages not yet written by the fan-out.
    frozen_content = models.TextField(blank=True, default="")
    # Created with its own upload (from-csv): starts, or fails, when that import finishes.
    start_when_imported = models.BooleanField(default=False)
    # Off: contacts on fixed lines, toll-free, premium-rate and other lines that are not mobile are skipped
    # (skipped_not_mobile); most cannot receive an SMS, and a gateway reports some of them delivered anyway.
    include_non_mobile = models.BooleanField(
        "include non-mobile numbers",
        default=False,
        help_text="Also send to fixed-line, toll-free, premium-rate and other numbers that are not mobile.",
    )
    add_opt_out_line = models.BooleanField(
        "add an opt-out line",
        default=False,
        help_text="End the first message each recipient gets from its owner with the owner's opt-out line "
        '("Reply STOP to opt out" unless set otherwise).',
    )
    send_window = models.CharField(
        "quiet hours",
        max_length=11,
        blank=True,
        default="",
        help_text='Send only between these times of the recipient\'s own day, e.g. "08:00-21:00". Empty: '
        'SMS_QUIET_HOURS, if the deployment sets it; "00:00-24:00": at any hour.',
        validators=[validate_window],
    )
    # Fan-out: one Message per contact, written by a worker in batches.
    recipients_count = models.PositiveIntegerField(default=0)
    skipped_opted_out = models.PositiveIntegerField(default=0)
    skipped_missing_variables = models.PositiveIntegerField(default=0)
    # Recipients whose message came out longer than SMS_MAX_PARTS (long values in the merge fields).
    skipped_too_long = models.PositiveIntegerField(default=0)
    # Recipients whose number is not on a mobile line, left out unless include_non_mobile.
    skipped_not_mobile = models.PositiveIntegerField(default=0)
    # Recipients in a country, or on a kind of number (premium rate), its owner may not send to.
    skipped_not_allowed = models.PositiveIntegerField(default=0)
    # Recipients whose number's time zones share no hour inside the campaign's quiet hours (send_window).
    skipped_quiet_hours = models.PositiveIntegerField(default=0)
    # Why the system paused it (its owner's quota ran out), and when it resumes by itself; empty after a person's
    # pause, which only a person undoes.
    pause_reason = models.CharField(max_length=200, blank=True, default="")
    resume_at = models.DateTimeField(null=True, blank=True)
    fanout_heartbeat_at = models.DateTimeField(null=True, blank=True)
    fanout_completed_at = models.DateTimeField(null=True, blank=True)
    scheduled_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["owner", "status"], name="campaign_owner_status_idx"),
            # The scheduler's question, "which scheduled campaigns are due?"
            models.Index(fields=["scheduled_at"], condition=Q(status="SCHEDULED"), name="campaign_due_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=CampaignStatus.values), name="campaign_status_valid"),
            models.CheckConstraint(
                condition=(~Q(message_content="") & Q(template__isnull=True))
                | (Q(message_content="") & Q(template__isnull=False)),
                name="campaign_content_xor_template",
                violation_error_message="A campaign needs exactly one of message_content and template.",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class CampaignTestSend(models.Model):
    """A campaign's message sent to one phone the staff member typed, to see it arrive before the real send.

    Its message goes through the normal send path but belongs to no campaign, so it is never counted in the
    campaign's statistics; this row is what links it back to the campaign's page."""

    # Indexed by testsend_campaign_idx below, newest first as the page lists them.
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="test_sends", db_index=False)
    message = models.ForeignKey("messaging.Message", on_delete=models.CASCADE, related_name="+")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["campaign", "-id"], name="testsend_campaign_idx")]

    def __str__(self) -> str:
        return f"Test of {self.campaign} to {self.message.phone}"
