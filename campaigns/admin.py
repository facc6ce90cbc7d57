from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join

from campaigns import selectors, services
from campaigns.lifecycle import USER_ACTIONS, Action, illegal
from campaigns.models import Campaign
from inboxerr.admin import ModelAdmin
from inboxerr.exceptions import InboxerrException
from templates.limits import check_literal_text

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
    act.allowed_permissions = ("change",)  # type: ignore[attr-defined]
    act.short_description = f"{action.capitalize()} the selected campaigns"  # type: ignore[attr-defined]
    return act


EDITABLE = ["name", "description", "message_content", "template", "import_job", "scheduled_at"]


class CampaignForm(forms.ModelForm):
    """The checks the API makes, through the same services: the owner's own active template and finished
    import, exactly one of a text and a template, the variables the import has, the parts limit."""

    class Meta:
        model = Campaign
        fields = ["owner", *EDITABLE]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.instance.pk is not None:
            # Read afresh: the owner may have started it since this page was opened.
            status = Campaign.objects.filter(pk=self.instance.pk).values_list("status", flat=True).first()
            if status != Campaign.Status.DRAFT:
                self.add_error(None, illegal(str(status), Action.EDIT).message)
                return cleaned
        owner = cleaned.get("owner") if self.instance.pk is None else self.instance.owner
        if owner is None or self.errors:
            return cleaned
        draft = Campaign(owner=owner, **{name: cleaned.get(name) for name in EDITABLE})
        draft.message_content = draft.message_content or ""
        try:
            services.check_references(owner_id=owner.pk, template=draft.template, import_job=draft.import_job)
            services.check_usable(template=draft.template, import_job=draft.import_job)
            if bool(draft.message_content) == bool(draft.template):
                raise services.CampaignFieldError("message_content", "Give exactly one of a message and a template.")
            compiled = services.campaign_compile(draft)
            check_literal_text(compiled, field="template" if draft.template else "message_content")
            if draft.import_job is not None:
                services.check_variables(compiled=compiled, import_job=draft.import_job)
        except services.CampaignFieldError as error:
            self.add_error(FIELD_NAMES.get(error.field, error.field), error.details[error.field])
        except InboxerrException as error:
            self.add_error(None, error.message)
        return cleaned


# Service field names as the form calls them.
FIELD_NAMES = {"template_id": "template", "import_id": "import_job"}


@admin.register(Campaign)
class CampaignAdmin(ModelAdmin):
    form = CampaignForm
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

    def get_readonly_fields(self, request: HttpRequest, obj: Campaign | None = None) -> list[str]:
        # A campaign stays with its owner.
        return self.readonly_fields if obj is None else [*self.readonly_fields, "owner"]

    def has_change_permission(self, request: HttpRequest, obj: Campaign | None = None) -> bool:
        # Once out of DRAFT, what a campaign sends and to whom is settled: its page is for reading.
        if obj is not None and obj.status != Campaign.Status.DRAFT:
            return False
        return super().has_change_permission(request, obj)

    def save_model(self, request: HttpRequest, obj: Campaign, form: forms.ModelForm, change: bool) -> None:
        """Through the services the API calls, so the admin can write nothing the API would refuse."""
        fields = {name: form.cleaned_data[name] for name in EDITABLE if name in form.cleaned_data}
        fields["message_content"] = fields.get("message_content") or ""
        saved = (
            services.campaign_update(campaign=obj, **fields)
            if change
            else services.campaign_create(owner_id=form.cleaned_data["owner"].pk, **fields)
        )
        obj.pk = saved.pk
        obj.refresh_from_db()

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
