"""Staff's side of the safeguards: bursts held for review (approve or reject) and every user's quota usage."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth import get_permission_codename
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponseBase, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.urls import reverse

from inboxerr import audit
from inboxerr.admin import HistoryAdminMixin, ModelAdmin, short_time
from messaging.models import QuotaUsage, SendingReview
from messaging.reviews import held_for, review_decide


@admin.register(SendingReview)
class SendingReviewAdmin(HistoryAdminMixin, ModelAdmin):
    """A burst of one user's sends to one country, held until staff approve (they go) or reject it (they are
    cancelled); each decision is in the audit log. messaging.bursts says what opens one."""

    # One line a review; the figures that opened it are on its page.
    list_display = ["opened", "owner", "code", "held", "decision"]
    list_filter = ["status"]
    list_select_related = ["owner", "decided_by"]
    search_fields = ["owner__username", "calling_code"]
    actions = ["approve", "reject"]
    fields = ["owner", "calling_code", "day", "status", "reason", "opened_at", "decided_by", "decided_at"]
    readonly_fields = ["owner", "calling_code", "day", "status", "reason", "opened_at", "decided_by", "decided_at"]

    @admin.display(description="Country code")
    def code(self, review: SendingReview) -> str:
        return f"+{review.calling_code}"

    @admin.display(description="Messages held")
    def held(self, review: SendingReview) -> str:
        return f"{held_for(review).count():,}"  # on message_owner_waiting_idx, which holds only waiting messages

    @admin.display(description="Opened", ordering="opened_at")
    def opened(self, review: SendingReview) -> str:
        return short_time(review.opened_at)

    @admin.display(description="Status", ordering="status")
    def decision(self, review: SendingReview) -> str:
        """ "Open", or "Approved by alice, 5 Dec 11:13"."""
        if review.decided_at is None:
            return review.get_status_display()
        who = review.decided_by.get_username() if review.decided_by else "a user since removed"
        return f"{review.get_status_display()} by {who}, {short_time(review.decided_at)}"

    def get_urls(self) -> list[Any]:
        return [
            *self.page_urls(("<path:object_id>/decide/<str:decision>/", "decide", self.decide_view)),
            *super().get_urls(),
        ]

    def decide_view(self, request: HttpRequest, object_id: str, decision: str) -> HttpResponseBase:
        """The Approve and Reject buttons on an open review's page (POST); the list's actions do the same."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        review = self.get_object(request, unquote(object_id))
        if review is None:
            raise Http404(f"No review with id {object_id}.")
        if decision not in ("approve", "reject") or not self.has_decide_permission(request):
            raise PermissionDenied
        self._decide(request, SendingReview.objects.filter(pk=review.pk), approve=decision == "approve")
        return redirect(reverse("admin:messaging_sendingreview_change", args=[review.pk]))

    def has_decide_permission(self, request: HttpRequest) -> bool:
        """Approving or rejecting takes permission to change reviews; the page itself stays read-only."""
        return request.user.has_perm(f"{self.opts.app_label}.{get_permission_codename('change', self.opts)}")

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context["can_decide"] = obj.status == SendingReview.Status.OPEN and self.has_decide_permission(request)
            context["held"] = self.held(obj)
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)

    @admin.action(description="Approve: send the held messages", permissions=["decide"])
    def approve(self, request, queryset: QuerySet[SendingReview]) -> None:
        self._decide(request, queryset, approve=True)

    @admin.action(description="Reject: cancel the held messages", permissions=["decide"])
    def reject(self, request, queryset: QuerySet[SendingReview]) -> None:
        self._decide(request, queryset, approve=False)

    def _decide(self, request, queryset: QuerySet[SendingReview], *, approve: bool) -> None:
        moved, decided = 0, 0
        for review in queryset.filter(status=SendingReview.Status.OPEN):
            count = review_decide(review=review, approve=approve, by_id=request.user.pk)
            decided += 1
            moved += count
            audit.record(
                action="review.approve" if approve else "review.reject",
                target=str(review),
                request=request,
                via="admin",
                detail={"messages": count},
            )
        verb = "sent" if approve else "cancelled"
        self.message_user(request, f"{decided} review(s) decided; {moved:,} held message(s) {verb}.", messages.SUCCESS)


@admin.register(QuotaUsage)
class QuotaUsageAdmin(HistoryAdminMixin, ModelAdmin):
    """Every user's SMS parts per day and month, as the quotas count them."""

    list_display = ["owner", "period", "starts", "sms_parts"]
    list_filter = ["period", "starts"]
    list_select_related = ["owner"]
    search_fields = ["owner__username"]
    sortable_by = ["starts", "sms_parts"]

    @admin.display(description="SMS parts", ordering="parts")
    def sms_parts(self, usage: QuotaUsage) -> str:
        return f"{usage.parts:,}"
