from __future__ import annotations

from collections.abc import Callable

from django.contrib import admin, messages
from django.utils.html import format_html, format_html_join

from campaigns import selectors, services
from campaigns.lifecycle import USER_ACTIONS, Action
from campaigns.models import Campaign
from inboxerr.admin import ModelAdmin
from inboxerr.exceptions import InboxerrException

# The lifecycle's user actions (campaigns.lifecycle), each with the service the API calls for it.
SERVICES: dict[Action, Callable[..., Campaign]] = {
    Action.START: services.campaign_start,
    Action.PAUSE: services.campaign_pause,
    Action.RESUME: services.campaign_resume,
    Action.CANCEL: services.campaign_cancel,
}
PAST = {Action.START: "Started", Action.PAUSE: "Paused", Action.RESUME: "Resumed", Action.CANCEL: "Cancelled"}


def _lifecycle_action(action: Action) -> Callable[..., None]:
    """An admin action calling the same service as the API, one campaign at a time."""

    def act(modeladmin, request, queryset):
        done = 0
        for campaign in queryset:
            try:
                SERVICES[action](campaign=campaign)
                done += 1
            except InboxerrException as exc:
                modeladmin.message_user(request, f"{campaign}: {exc.message}", messages.ERROR)
        if done:
            modeladmin.message_user(request, f"{PAST[action]} {done} campaign(s).", messages.SUCCESS)

    act.__name__ = f"{PAST[action].lower()}_campaigns"
    act.short_description = f"{action.capitalize()} the selected campaigns"  # type: ignore[attr-defined]
    return act


@admin.register(Campaign)
class CampaignAdmin(ModelAdmin):
    list_display = ["name", "owner", "status", "template", "import_job", "scheduled_at", "started_at", "completed_at"]
    list_filter = ["status", ("owner", admin.RelatedOnlyFieldListFilter), "scheduled_at", "created_at"]
    search_fields = ["name", "description"]
    list_select_related = ["owner", "template", "import_job"]
    raw_id_fields = ["owner", "template", "import_job"]
    date_hierarchy = "created_at"
    # Written by the lifecycle and the fan-out only: an edit here would change what a running campaign sends
    # (frozen_content) or make its fan-out look finished or stalled.
    readonly_fields = [
        "status",
        "frozen_content",
        "fanout_heartbeat_at",
        "fanout_completed_at",
        "progress",
        "breakdown",
        "failure_reason",
        "recipients_count",
        "skipped_opted_out",
        "skipped_missing_variables",
        "skipped_too_long",
        "started_at",
        "completed_at",
        "created_at",
        "updated_at",
    ]
    actions = [_lifecycle_action(action) for action in USER_ACTIONS]

    @admin.display(description="Progress")
    def progress(self, campaign: Campaign) -> str:
        if not campaign.pk:
            return "-"
        stats = selectors.campaign_stats(campaign=campaign)
        return format_html(
            '<progress max="100" value="{}" style="width: 20em"></progress> {}% of {} messages, {}/s',
            stats["progress_percent"],
            stats["progress_percent"],
            f"{stats['messages']:,}",
            stats["send_rate_per_second"],
        )

    @admin.display(description="Messages by status")
    def breakdown(self, campaign: Campaign) -> str:
        if not campaign.pk:
            return "-"
        stats = selectors.campaign_stats(campaign=campaign)
        rows = format_html_join(
            "", "<tr><td>{}</td><td>{}</td></tr>", ((s, f"{n:,}") for s, n in stats["by_status"].items())
        )
        return format_html("<table><tbody>{}</tbody></table>", rows)
