"""Bursts: many sends to a country a user seldom sends to are held until staff approve or reject them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from inboxerr.models import AuditEntry
from messaging import bursts, dispatcher
from messaging.models import CountryUsage, Message, MessageEvent, SendingReview, Waiting
from messaging.tests.factories import MessageFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def small_threshold(settings):
    settings.SMS_BURST_MIN_PARTS = 5
    settings.SMS_BURST_USUAL_SHARE = 0.05
    settings.PHONE_DEFAULT_REGION = "GB"
    bursts._history.cache_clear()
    yield
    bursts._history.cache_clear()


def queue(user, prefix: str, count: int) -> list[Message]:
    return [MessageFactory(owner=user, phone=f"{prefix}{i:04d}") for i in range(count)]


@pytest.mark.parametrize(("phone", "code"), [("+447400123456", "44"), ("+12015550123", "1"), ("+2348031234567", "234")])
def test_the_calling_code_is_read_from_the_number(phone, code):
    assert bursts.calling_code(phone) == code


def test_many_sends_to_a_country_never_sent_to_before_are_held_for_review(user, locmem_gateway):
    queue(user, "+23480312", 8)  # Nigeria, never messaged by this user

    dispatcher.dispatch(worker="test-worker", seconds=30)

    assert len(locmem_gateway.outbox) == 5  # up to SMS_BURST_MIN_PARTS go
    held = Message.objects.filter(status="QUEUED")
    assert set(held.values_list("waiting", "attempts")) == {(Waiting.REVIEW, 0)}
    assert held.count() == 3
    review = SendingReview.objects.get()
    assert (review.calling_code, review.status) == ("234", "open")
    assert "6 SMS parts to +234 today, over 5" in review.reason


def test_the_deployments_own_country_is_never_a_burst(user, locmem_gateway):
    queue(user, "+4474001", 8)

    dispatcher.dispatch(worker="test-worker", seconds=30)

    assert len(locmem_gateway.outbox) == 8
    assert not SendingReview.objects.exists()


def test_a_country_that_is_part_of_the_users_usual_mix_is_not_a_burst(user, locmem_gateway):
    yesterday = timezone.localdate() - timedelta(days=1)
    CountryUsage.objects.create(owner=user, day=yesterday, calling_code="44", parts=900)
    CountryUsage.objects.create(owner=user, day=yesterday, calling_code="234", parts=100)  # 10% of the mix
    queue(user, "+23480312", 8)

    dispatcher.dispatch(worker="test-worker", seconds=30)

    assert len(locmem_gateway.outbox) == 8
    assert CountryUsage.objects.get(day=timezone.localdate(), calling_code="234").parts == 8


def test_approving_a_review_sends_the_held_messages_and_the_rest_of_the_day(staff_client, user, locmem_gateway):
    queue(user, "+23480312", 8)
    dispatcher.dispatch(worker="test-worker", seconds=30)
    review = SendingReview.objects.get()

    response = staff_client.post(
        reverse("admin:messaging_sendingreview_changelist"), {"action": "approve", "_selected_action": [review.pk]}
    )
    dispatcher.dispatch(worker="test-worker", seconds=30)
    queue(user, "+23480399", 3)
    dispatcher.dispatch(worker="test-worker", seconds=30)

    assert response.status_code == 302
    assert len(locmem_gateway.outbox) == 11
    review.refresh_from_db()
    assert (review.status, review.decided_by) == ("approved", user)
    entry = AuditEntry.objects.get(action="review.approve")
    assert entry.detail == {"messages": 3}


def test_rejecting_a_review_cancels_the_held_messages(staff_client, user, locmem_gateway):
    queue(user, "+23480312", 8)
    dispatcher.dispatch(worker="test-worker", seconds=30)
    review = SendingReview.objects.get()

    staff_client.post(
        reverse("admin:messaging_sendingreview_changelist"), {"action": "reject", "_selected_action": [review.pk]}
    )
    queue(user, "+23480399", 2)
    dispatcher.dispatch(worker="test-worker", seconds=30)

    assert len(locmem_gateway.outbox) == 5
    assert Message.objects.filter(status="CANCELLED", error=bursts.BURST_REJECTED).count() == 5
    # Each has its cancellation in its history: the three staff rejected and the two claimed after.
    assert MessageEvent.objects.filter(kind="cancelled", status="CANCELLED").count() == 5
    assert AuditEntry.objects.filter(action="review.reject").exists()


def test_an_open_review_is_approved_or_rejected_from_its_own_page(staff_client, user, locmem_gateway):
    queue(user, "+23480312", 8)
    queue(user, "+2207712", 8)  # The Gambia: a second review
    dispatcher.dispatch(worker="test-worker", seconds=30)
    nigeria, gambia = SendingReview.objects.get(calling_code="234"), SendingReview.objects.get(calling_code="220")
    page = reverse("admin:messaging_sendingreview_change", args=[nigeria.pk])
    decide = lambda review, decision: reverse("admin:messaging_sendingreview_decide", args=[review.pk, decision])  # noqa: E731

    assert "Approve: send 3 held" in staff_client.get(page).content.decode()
    assert staff_client.get(decide(nigeria, "approve")).status_code == 405  # a link can't decide
    approved = staff_client.post(decide(nigeria, "approve"))
    rejected = staff_client.post(decide(gambia, "reject"))

    assert (approved.status_code, approved["Location"]) == (302, page)
    assert rejected.status_code == 302
    assert SendingReview.objects.get(pk=nigeria.pk).status == "approved"
    assert SendingReview.objects.get(pk=gambia.pk).status == "rejected"
    assert Message.objects.filter(phone__startswith="+234", status="QUEUED", waiting="").count() == 3
    assert Message.objects.filter(phone__startswith="+220", status="CANCELLED").count() == 3
    assert AuditEntry.objects.filter(action__in=["review.approve", "review.reject"]).count() == 2
    assert "Approve: send" not in staff_client.get(page).content.decode()  # decided: no more buttons


def test_staff_who_may_only_view_reviews_cannot_decide_them(client, user, other_user, locmem_gateway):
    queue(user, "+23480312", 8)
    dispatcher.dispatch(worker="test-worker", seconds=30)
    review = SendingReview.objects.get()
    other_user.is_staff = True
    other_user.save()
    other_user.user_permissions.add(Permission.objects.get(codename="view_sendingreview"))
    client.force_login(other_user)

    page = client.get(reverse("admin:messaging_sendingreview_change", args=[review.pk])).content.decode()
    answer = client.post(reverse("admin:messaging_sendingreview_decide", args=[review.pk, "approve"]))
    listed = client.get(reverse("admin:messaging_sendingreview_changelist")).content.decode()

    assert "Approve: send" not in page
    assert answer.status_code == 403
    assert 'value="approve"' not in listed
    assert SendingReview.objects.get().status == "open"


def test_the_review_page_lists_what_is_held(staff_client, user, locmem_gateway):
    queue(user, "+23480312", 8)
    dispatcher.dispatch(worker="test-worker", seconds=30)

    page = staff_client.get(reverse("admin:messaging_sendingreview_changelist")).content.decode()

    assert "+234" in page
    assert '<td class="field-held">3</td>' in page


def test_a_user_sees_their_open_review_in_their_usage(api, user, locmem_gateway):
    queue(user, "+23480312", 8)
    dispatcher.dispatch(worker="test-worker", seconds=30)

    reviews = api.get("/api/v1/usage").json()["reviews"]

    assert [(r["calling_code"], r["status"]) for r in reviews] == [("234", "open")]


def test_the_rule_can_be_turned_off(settings, user, locmem_gateway):
    settings.SMS_BURST_MIN_PARTS = 0
    queue(user, "+23480312", 8)

    dispatcher.dispatch(worker="test-worker", seconds=30)

    assert len(locmem_gateway.outbox) == 8
