"""The line that tells a recipient how to stop ("Reply STOP to opt out"), added to the first message each
recipient gets from a user by the campaigns that ask for it."""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings

from messaging.models import InboxSettings, Message


def opt_out_line_of(owner_id: int) -> str:
    """The user's own wording, else SMS_OPT_OUT_LINE."""
    own = InboxSettings.objects.filter(owner_id=owner_id).values_list("opt_out_line", flat=True).first()
    return own or settings.SMS_OPT_OUT_LINE


def with_opt_out_line(text: str, line: str) -> str:
    return f"{text}\n{line}"


def already_messaged(*, owner_id: int, phones: Iterable[str], campaign_id: int | None = None) -> set[str]:
    """Of these phones, those the user has messaged before (any message but this campaign's own), on
    message_phone_idx: the line goes to the others, who hear from the user for the first time."""
    messages = Message.objects.filter(owner_id=owner_id, phone__in=set(phones))
    if campaign_id is not None:
        messages = messages.exclude(campaign_id=campaign_id)
    return set(messages.values_list("phone", flat=True).distinct())
