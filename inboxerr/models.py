from __future__ import annotations

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models


class TokenUse(models.Model):
    """When an API token was last used: knox's token keeps no such time. Written at most once a minute
    per token and process (inboxerr.tokens.note_use), so using a token costs no write per request."""

    token = models.OneToOneField("knox.AuthToken", primary_key=True, on_delete=models.CASCADE, related_name="use")
    last_used_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.token_id[:8]}… used {self.last_used_at:%Y-%m-%d %H:%M}"


class AuditEntry(models.Model):
    """Who did what to which object, when and from where: written by inboxerr.audit.record, never edited."""

    class Action(models.TextChoices):
        CAMPAIGN_START = "campaign.start", "Campaign started"
        CAMPAIGN_PAUSE = "campaign.pause", "Campaign paused"
        CAMPAIGN_RESUME = "campaign.resume", "Campaign resumed"
        CAMPAIGN_CANCEL = "campaign.cancel", "Campaign cancelled"
        LIMITS_CHANGE = "limits.change", "Sending limits changed"
        PRIVACY_ERASE = "privacy.erase", "Personal data erased"
        PRIVACY_EXPORT = "privacy.export", "Personal data exported"
        REVIEW_APPROVE = "review.approve", "Burst approved"
        REVIEW_REJECT = "review.reject", "Burst rejected"

    class Via(models.TextChoices):
        API = "api", "API"
        ADMIN = "admin", "Admin"
        COMMAND = "command", "Command"

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_entries"
    )
    # Kept as text: the entry still says who it was once the user is deleted. Empty: the system.
    actor_name = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=32, choices=Action.choices)
    target = models.TextField(help_text='What it was done to: "campaign 12 Spring sale", "+447400123456".')
    detail = models.JSONField(
        default=dict, blank=True, encoder=DjangoJSONEncoder, help_text="What changed: [before, after], or counts."
    )
    # As inboxerr.addresses reads it; empty for a command.
    address = models.CharField(max_length=64, blank=True)
    via = models.CharField(max_length=16, choices=Via.choices, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "audit entry"
        verbose_name_plural = "audit log"
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["-at", "-id"], name="inboxerr_audit_newest_first")]

    def __str__(self) -> str:
        return f"{self.actor_name or 'system'} {self.action} {self.target}"
