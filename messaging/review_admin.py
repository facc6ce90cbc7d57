"""Staff's side of the safeguards: bursts held for review (approve or reject) and every user's quota usage."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet

from inboxerr import audit
from inboxerr.admin import HistoryAdminMixin, ModelAdmin
from messaging.models import Message, QuotaUsage, SendingReview, Waiting
from messaging.reviews import review_decide


@admin.register(SendingReview)
class SendingReviewAdmin(HistoryAdminMixin, ModelAdmin):
    """A burst of one user's sends to one country, held until staff approve (they go) or reject it (they are
    cancelled); each decision is in the audit log. messaging.bursts says what opens one."""

    list_display = ["opened_at", "owner", "code", "status", "held", "decided_by", "decided_at", "reason"]
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
    def held(self, review: SendingReview) -> int:
        # On message_owner_waiting_idx, which holds only waiting messages.
        return Message.objects.filter(
            owner_id=review.owner_id,
            status=Message.Status.QUEUED,
            waiting=Waiting.REVIEW,
            phone__startswith=f"+{review.calling_code}",
        ).count()

    @admin.action(description="Approve: send the held messages")
    def approve(self, request, queryset: QuerySet[SendingReview]) -> None:
        self._decide(request, queryset, approve=True)

    @admin.action(description="Reject: cancel the held messages")
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

    list_display = ["owner", "period", "starts", "parts"]
    list_filter = ["period", "starts"]
    list_select_related = ["owner"]
    search_fields = ["owner__username"]
    sortable_by = ["starts", "parts"]
