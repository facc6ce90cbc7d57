from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse

from campaigns import admin_display, exports, selectors, services
from campaigns.audit import campaign_act
from campaigns.lifecycle import USER_ACTIONS, Action, available_actions, can, illegal
from campaigns.models import Campaign
from inboxerr.admin import ModelAdmin
from inboxerr.exceptions import InboxerrException
from templates.limits import check_literal_text

PAST = {Action.START: "Started", Action.PAUSE: "Paused", Action.RESUME: "Resumed", Action.CANCEL: "Cancelled"}
REFRESH_SECONDS = 5
ACTIVE_OR_BEFORE = {Campaign.Status.DRAFT, Campaign.Status.SCHEDULED, Campaign.Status.RUNNING, Campaign.Status.PAUSED}


def _lifecycle_action(action: Action) -> Callable[..., None]:
    """An admin action calling the same service as the API, one campaign at a time."""

    def act(modeladmin, request, queryset):
        done = sum(modeladmin.run_action(request, campaign, action) for campaign in queryset)
        if done:
            modeladmin.message_user(request, f"{PAST[action]} {done} campaign(s).", messages.SUCCESS)

    act.__name__ = f"{PAST[action].lower()}_campaigns"
    act.allowed_permissions = ("change",)  # type: ignore[attr-defined]
    act.short_description = f"{action.capitalize()} the selected campaigns"  # type: ignore[attr-defined]
    return act


EDITABLE = ["name", "description", "message_content", "template", "import_job", "include_non_mobile",
            "add_opt_out_line", "send_window", "scheduled_at"]  # fmt: skip


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
    # Searchable selects; the template and import offer only the owner's usable ones (owner_choices.js).
    autocomplete_fields = ["owner", "template", "import_job"]
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
        "before_start",
        "test_sends",
        "replies",
        "failure_reason",
        "recipients_count",
        "skipped_opted_out",
        "skipped_missing_variables",
        "skipped_too_long",
        "skipped_not_mobile",
        "skipped_not_allowed",
        "skipped_quiet_hours",
        "pause_reason",
        "resume_at",
        "started_at",
        "completed_at",
        "created_at",
        "updated_at",
    ]
    actions = [_lifecycle_action(action) for action in USER_ACTIONS]
    change_form_template = "admin/campaigns/campaign/change_form.html"

    class Media:
        # After Django's own autocomplete set-up, which owner_choices.js extends.
        js = ["admin/js/jquery.init.js", "admin/js/autocomplete.js", "inboxerr/owner_choices.js"]

    def get_form(self, request: HttpRequest, obj: Campaign | None = None, change: bool = False, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, change, **kwargs)
        owner = {"data-owner": str(obj.owner_id)} if obj is not None else {"data-owner-from": "id_owner"}
        for name in ("template", "import_job"):
            if name in form.base_fields:
                form.base_fields[name].widget.attrs.update(owner)
        return form

    def get_urls(self) -> list[Any]:
        return [
            *self.page_urls(
                ("<path:object_id>/lifecycle/<str:action>/", "lifecycle", self.lifecycle_view),
                ("<path:object_id>/results.csv", "results", self.results_view),
                ("<path:object_id>/test-send/", "test_send", self.test_send_view),
            ),
            *super().get_urls(),
        ]

    def results_view(self, request: HttpRequest, object_id: str) -> HttpResponseBase:
        """Export results: every message of the campaign as a CSV row, streamed."""
        campaign = self.get_object(request, unquote(object_id))
        if campaign is None:
            raise Http404(f"No campaign with id {object_id}.")
        if not self.has_view_permission(request, campaign):
            raise PermissionDenied
        return exports.results_csv(campaign)

    def test_send_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """The page's "Send a test": this campaign's message to the phone typed, shown among its test sends."""
        campaign = self.get_object(request, unquote(object_id))
        if campaign is None:
            raise Http404(f"No campaign with id {object_id}.")
        if not self.may_act(request):
            raise PermissionDenied
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        phone = request.POST.get("phone", "")
        try:
            sent = services.campaign_test_send(campaign=campaign, phone=phone, requested_by_id=request.user.pk)
        except InboxerrException as error:
            self.message_user(request, f"Test send not sent: {admin_display.in_words(error)}", messages.ERROR)
        else:
            self.log_change(request, campaign, f"Test send to {sent.message.phone}")
            self.message_user(request, f"Test message queued for {sent.message.phone}.", messages.SUCCESS)
        return redirect(reverse("admin:campaigns_campaign_change", args=[campaign.pk]))

    def may_act(self, request: HttpRequest) -> bool:
        """Start, pause, resume and cancel need permission to change campaigns (any campaign's, not this one's:
        a campaign out of DRAFT is read-only, and still paused, resumed and cancelled)."""
        return super().has_change_permission(request)

    def run_action(self, request: HttpRequest, campaign: Campaign, action: Action) -> bool:
        """The API's service for `action`, recorded in the campaign's History and the audit log; a refusal is
        shown, not raised."""
        try:
            campaign_act(campaign=campaign, action=action, request=request, via="admin")
        except InboxerrException as exc:
            self.message_user(request, f"{campaign}: {exc.message}", messages.ERROR)
            return False
        self.log_change(request, campaign, PAST[action])
        return True

    def lifecycle_view(self, request: HttpRequest, object_id: str, action: str) -> HttpResponse:
        """A button on the campaign's page. Cancel asks first (GET shows what it will stop); the rest act on POST."""
        campaign = self.get_object(request, unquote(object_id))
        if campaign is None:
            raise Http404(f"No campaign with id {object_id}.")
        if action not in USER_ACTIONS or not self.may_act(request):
            raise PermissionDenied
        chosen = Action(action)
        if request.method == "GET" and chosen == Action.CANCEL and can(campaign.status, chosen):
            context = {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "title": f"Cancel {campaign.name}?",
                "campaign": campaign,
                "stats": selectors.campaign_stats(campaign=campaign),
            }
            request.current_app = self.admin_site.name
            return TemplateResponse(request, "admin/campaigns/campaign/confirm_cancel.html", context)
        if request.method != "POST" and chosen != Action.CANCEL:
            return HttpResponseNotAllowed(["POST"])
        if request.method != "POST":  # asked to cancel what can no longer be cancelled: say why
            self.message_user(request, illegal(campaign.status, chosen).message, messages.ERROR)
            return redirect(reverse("admin:campaigns_campaign_change", args=[campaign.pk]))
        if self.run_action(request, campaign, chosen):
            self.message_user(request, f"{PAST[chosen]} {campaign.name}.", messages.SUCCESS)
        return redirect(reverse("admin:campaigns_campaign_change", args=[campaign.pk]))

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context["lifecycle_actions"] = available_actions(obj.status) if self.may_act(request) else []
            context["can_export"] = obj.status != Campaign.Status.DRAFT
            # A test shows the message as it will arrive: useful until the campaign has sent it for real.
            context["can_test_send"] = self.may_act(request) and obj.status in ACTIVE_OR_BEFORE
            # Read-only while it runs, so reloading loses nothing.
            context["refresh_seconds"] = REFRESH_SECONDS if obj.status == Campaign.Status.RUNNING else None
        return super().render_change_form(request, context, add, change, form_url, obj)

    def get_fieldsets(self, request: HttpRequest, obj: Campaign | None = None) -> list[Any]:
        if obj is None:
            return [(None, {"fields": ["owner", *EDITABLE]})]
        what = (None, {"fields": ["name", "owner", "status", *EDITABLE[1:], "failure_reason"]})
        if obj.status in (Campaign.Status.DRAFT, Campaign.Status.SCHEDULED):
            return [what, ("Before you start", {"fields": ["before_start", "test_sends"]})]
        sending = ("Sending", {"fields": ["progress", "breakdown", "started_at", "completed_at"]})
        tests = [("Test sends", {"fields": ["test_sends"]})] if obj.status in ACTIVE_OR_BEFORE else []
        replies = ("Replies", {"fields": ["replies"]})
        recorded_fields = ["frozen_content", "recipients_count", "created_at"]
        recorded = ("Recorded", {"fields": recorded_fields, "classes": ["collapse"]})
        return [sending, replies, what, *tests, recorded]

    def get_readonly_fields(self, request: HttpRequest, obj: Campaign | None = None) -> list[str]:
        # A campaign stays with its owner.
        return self.readonly_fields if obj is None else [*self.readonly_fields, "owner"]

    def has_change_permission(self, request: HttpRequest, obj: Campaign | None = None) -> bool:
        # Once out of DRAFT, what a campaign sends and to whom is settled: its page is for reading.
        if obj is not None and obj.status != Campaign.Status.DRAFT:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Campaign | None = None) -> bool:
        # Only a draft goes (the lifecycle's DELETE); a campaign that sent anything is its messages' record.
        if obj is not None and not can(obj.status, Action.DELETE):
            return False
        return super().has_delete_permission(request, obj)

    def delete_model(self, request: HttpRequest, obj: Campaign) -> None:
        services.campaign_delete(campaign=obj)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for campaign in queryset:
            try:
                services.campaign_delete(campaign=campaign)
            except InboxerrException as exc:
                self.message_user(request, f"{campaign}: {exc.message}", messages.ERROR)

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
        return admin_display.progress(self._stats(campaign)) if campaign.pk else "-"

    @admin.display(description="Messages by status")
    def breakdown(self, campaign: Campaign) -> str:
        return admin_display.breakdown(campaign, self._stats(campaign)) if campaign.pk else "-"

    @admin.display(description="Replies")
    def replies(self, campaign: Campaign) -> str:
        return admin_display.replies(campaign, self._stats(campaign)) if campaign.pk else "-"

    @admin.display(description="What it will send")
    def before_start(self, campaign: Campaign) -> str:
        return admin_display.before_start(campaign) if campaign.pk else "-"

    @admin.display(description="Test sends")
    def test_sends(self, campaign: Campaign) -> str:
        return admin_display.test_sends(campaign) if campaign.pk else "-"

    def _stats(self, campaign: Campaign) -> dict[str, Any]:
        # Read once per page: progress and breakdown show the same figures.
        cached: dict[str, Any] | None = getattr(campaign, "_admin_stats", None)
        if cached is None:
            cached = selectors.campaign_stats(campaign=campaign)
            campaign._admin_stats = cached  # type: ignore[attr-defined]
        return cached
