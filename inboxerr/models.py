from __future__ import annotations

from django.db import models


class TokenUse(models.Model):
    """When an API token was last used: knox's token keeps no such time. Written at most once a minute
    per token and process (inboxerr.tokens.note_use), so using a token costs no write per request."""

    token = models.OneToOneField("knox.AuthToken", primary_key=True, on_delete=models.CASCADE, related_name="use")
    last_used_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.token_id[:8]}… used {self.last_used_at:%Y-%m-%d %H:%M}"
