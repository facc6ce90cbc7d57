"""Staff's decision on a burst held for review (messaging.bursts)."""

from __future__ import annotations

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from messaging.bursts import BURST_REJECTED
from messaging.models import EventKind, EventSource, Message, SendingReview, Waiting
from messaging.services import cancel_queued
from messaging.tasks import kick_dispatcher

Status = SendingReview.Status


def held_for(review: SendingReview) -> QuerySet[Message]:
    """The messages a review holds: its owner's to its calling code, waiting for the decision."""
    return Message.objects.filter(
        owner_id=review.owner_id,
        status=Message.Status.QUEUED,
        waiting=Waiting.REVIEW,
        phone__startswith=f"+{review.calling_code}",
    )


def review_decide(*, review: SendingReview, approve: bool, by_id: int | None) -> int:
    """Approve a held burst (its messages go at once, and the rest of that day's to the code too) or reject it
    (they are cancelled, and so is the rest of that day's). Returns how many messages it moved; 0 for a review
    already decided."""
    now = timezone.now()
    status = Status.APPROVED if approve else Status.REJECTED
    with transaction.atomic():
        if not SendingReview.objects.filter(pk=review.pk, status=Status.OPEN).update(
            status=status, decided_by_id=by_id, decided_at=now, day=timezone.localdate()
        ):
            return 0
        held = held_for(review)
        if approve:
            moved = held.update(waiting="", next_attempt_at=now, updated_at=now)
            kick_dispatcher()
        else:
            moved = cancel_queued(held, source=EventSource.ADMIN, error=BURST_REJECTED, kind=EventKind.CANCELLED)
    review.refresh_from_db()
    return moved
