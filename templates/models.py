from __future__ import annotations

from django.conf import settings
from django.db import models


class MessageTemplate(models.Model):
    """Reusable message text with `{{ variable }}` merge fields."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="message_templates")
    name = models.CharField(max_length=200)
    content = models.TextField()
    description = models.TextField(blank=True, default="")
    is_active = models.BooleanField(default=True)
    # Merge-field names the content uses, kept in step with `content` by the services.
    variables = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="template_name_unique_per_owner"),
            models.CheckConstraint(condition=~models.Q(content=""), name="template_content_not_empty"),
        ]

    def __str__(self) -> str:
        return self.name
