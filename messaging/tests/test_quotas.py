"""Quotas: a user's SMS parts a day and a month, counted once for every process, never overshot."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
from django.db import connection
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from campaigns.models import Campaign
from campaigns.tests.factories import CampaignFactory
from inboxerr.exceptions import TooManyRequests
from messaging import dispatcher, quotas
from messaging.backends.base import GatewayAuthError, SendError
from messaging.models import Message, QuotaUsage, SendingLimits, Waiting
from messaging.quotas import QuotaReached, charge, take, usage

UK = "+447400123456"
UK_CAMPAIGN = "+4474000000000"  # the first of campaign_messages' numbers


class RetryableError(SendError):
    retryable = True


NOON = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


def send(api, content="Hi", phone=UK):
    return api.post("/api/v1/messages/send/", {"phone": phone, "content": content}, format="json")


def used(user, period="day") -> int:
    return QuotaUsage.objects.filter(owner=user, period=period).values_list("parts", flat=True).first() or 0


@pytest.mark.django_db
def test_without_limits_anywhere_a_user_is_unlimited_and_still_counted(api, user):
    assert send(api).status_code == 202
    assert send(api, content="x" * 200).status_code == 202  # two parts

    assert usage(user.pk)["day"]["used"] == 3
    assert usage(user.pk)["day"]["limit"] is None


@pytest.mark.django_db
def test_the_deployments_default_applies_unless_staff_set_the_users_own(settings, user):
    settings.SMS_QUOTA_DAILY_PARTS, settings.SMS_QUOTA_MONTHLY_PARTS = 100, 0
    assert quotas.quotas_of([user.pk])[user.pk] == quotas.Quota(daily=100, monthly=None)

    SendingLimits.objects.create(owner=user, daily_parts=5, monthly_parts=0)
    # 0 set for a user is a limit: nothing at all (a way to stop a user's sending).
    assert quotas.quotas_of([user.pk])[user.pk] == quotas.Quota(daily=5, monthly=0)


@pytest.mark.django_db
def test_a_send_over_the_daily_quota_is_a_429_with_retry_after_at_midnight_and_queues_nothing(api, user):
    SendingLimits.objects.create(owner=user, daily_parts=3)
    with mock.patch("django.utils.timezone.now", return_value=NOON):
        fitted = [send(api).status_code for _ in range(3)]
        refused = send(api)

    assert fitted == [202, 202, 202]
    assert refused.status_code == 429
    assert refused["Retry-After"] == str(12 * 3600 + 1)
    assert refused.json()["error"] == {
        "code": "quota_reached",
        "message": "This needs 1 SMS parts and 0 are left of your daily quota of 3; it resets at 2026-12-06 00:00 UTC.",
        "details": {"needed": 1, "left": 0, "limit": 3, "resets_at": "2026-12-06T00:00:00+00:00"},
    }
    assert Message.objects.count() == 3
    assert used(user) == 3


@pytest.mark.django_db
def test_a_batch_is_counted_all_or_nothing(api, user):
    SendingLimits.objects.create(owner=user, daily_parts=4)
    recipients = [{"phone": f"+4474001234{i:02d}"} for i in range(5)]

    refused = api.post("/api/v1/messages/batch/", {"content": "Hi", "recipients": recipients}, format="json")
    fitted = api.post("/api/v1/messages/batch/", {"content": "Hi", "recipients": recipients[:4]}, format="json")

    assert (refused.status_code, fitted.status_code) == (429, 202)
    assert refused.json()["error"]["details"]["left"] == 4
    assert Message.objects.count() == 4


@pytest.mark.django_db
def test_the_monthly_quota_resets_on_the_first_of_next_month(user):
    SendingLimits.objects.create(owner=user, daily_parts=1000, monthly_parts=10)
    charge(owner_id=user.pk, parts=8, now=NOON)

    with pytest.raises(QuotaReached) as refused:
        charge(owner_id=user.pk, parts=3, now=NOON)

    assert "2 are left of your monthly quota of 10" in refused.value.message
    assert refused.value.retry_after == (datetime(2027, 1, 1, tzinfo=UTC) - NOON).total_seconds() + 1


@pytest.mark.django_db
def test_a_new_day_starts_from_nothing(user):
    SendingLimits.objects.create(owner=user, daily_parts=2)
    charge(owner_id=user.pk, parts=2, now=NOON)

    charge(owner_id=user.pk, parts=2, now=datetime(2026, 12, 6, 0, 1, tzinfo=UTC))

    assert list(QuotaUsage.objects.filter(period="day").order_by("starts").values_list("parts", flat=True)) == [2, 2]


@pytest.mark.django_db
def test_an_automatic_help_answer_is_counted_but_never_refused(user):
    SendingLimits.objects.create(owner=user, daily_parts=0)
    charge(owner_id=user.pk, parts=1, enforce=False)

    assert used(user) == 1
    with pytest.raises(TooManyRequests):
        charge(owner_id=user.pk, parts=1)


@pytest.mark.django_db
def test_usage_is_visible_to_the_user(api, user):
    SendingLimits.objects.create(owner=user, daily_parts=10, monthly_parts=100)
    send(api, content="x" * 200)

    body = api.get("/api/v1/usage").json()

    assert body["day"] | {"resets_at": None} == {"used": 2, "limit": 10, "left": 8, "resets_at": None}
    assert body["month"]["left"] == 98
    assert body["reviews"] == []


@pytest.mark.django_db
def test_staff_set_a_quota_and_see_usage_in_the_admin_and_the_change_is_audited(staff_client, user):
    from inboxerr.models import AuditEntry

    staff_client.post(
        reverse("admin:messaging_sendinglimits_add"),
        {"owner": user.pk, "allowed_countries": "", "daily_parts": "500", "monthly_parts": ""},
    )
    charge(owner_id=user.pk, parts=120)
    page = staff_client.get(reverse("admin:messaging_sendinglimits_changelist")).content.decode()

    assert "120 of 500" in page
    assert "120 (no limit)" in page  # this month: no monthly quota
    entry = AuditEntry.objects.get(action="limits.change")
    assert entry.detail["daily_parts"] == [None, 500]


def campaign_messages(user, count: int, parts: int = 1) -> Campaign:
    campaign = CampaignFactory(owner=user, status=Campaign.Status.RUNNING, message_content="Hi")
    # Due before the tests' noon, whatever the real time (a message is due from when it is queued).
    due = NOON - timedelta(minutes=1)
    Message.objects.bulk_create(
        Message(
            owner=user, campaign=campaign, phone=f"+4474{i:09d}", content="Hi", parts_count=parts, next_attempt_at=due
        )
        for i in range(count)
    )
    return campaign


@pytest.mark.django_db
def test_a_campaign_that_reaches_the_quota_pauses_until_the_reset_and_then_resumes_by_itself(user, locmem_gateway):
    from campaigns.clock import campaigns_tick
    from inboxerr.models import AuditEntry

    SendingLimits.objects.create(owner=user, daily_parts=5)
    campaign = campaign_messages(user, 8)

    with mock.patch("django.utils.timezone.now", return_value=NOON):
        dispatcher.dispatch(worker="test-worker", seconds=30)

    campaign.refresh_from_db()
    assert len(locmem_gateway.outbox) == 5
    assert campaign.status == Campaign.Status.PAUSED
    assert campaign.pause_reason == "quota reached: 0 of 5 SMS parts sent today"
    assert campaign.resume_at == datetime(2026, 12, 6, tzinfo=UTC)
    waiting = Message.objects.filter(status="QUEUED")
    assert waiting.count() == 3
    assert set(waiting.values_list("waiting", "attempts")) == {(Waiting.QUOTA, 0)}
    assert AuditEntry.objects.get(action="campaign.pause").actor_name == ""  # the system's

    with mock.patch("django.utils.timezone.now", return_value=datetime(2026, 12, 6, 0, 0, 30, tzinfo=UTC)):
        campaigns_tick()
        campaign.refresh_from_db()
        assert (campaign.status, campaign.pause_reason, campaign.resume_at) == ("RUNNING", "", None)
        dispatcher.dispatch(worker="test-worker", seconds=30)

    assert len(locmem_gateway.outbox) == 8
    assert QuotaUsage.objects.get(period="day", starts="2026-12-06").parts == 3


@pytest.mark.django_db
def test_a_person_resuming_a_campaign_paused_for_its_quota_clears_the_reason(user):
    from campaigns.services import campaign_pause, campaign_resume

    campaign = CampaignFactory(owner=user, status=Campaign.Status.RUNNING)
    campaign_pause(campaign=campaign, reason="quota reached", resume_at=NOON)
    campaign = campaign_resume(campaign=campaign)

    assert (campaign.pause_reason, campaign.resume_at) == ("", None)


@pytest.mark.django_db
def test_a_retry_is_counted_once(user, locmem_gateway):
    SendingLimits.objects.create(owner=user, daily_parts=100)
    campaign_messages(user, 1)
    locmem_gateway.failures[UK_CAMPAIGN] = RetryableError("busy")
    dispatcher.dispatch(worker="test-worker", seconds=30)
    locmem_gateway.failures.clear()
    Message.objects.update(next_attempt_at=timezone.now())  # the backoff is over

    dispatcher.dispatch(worker="test-worker", seconds=30)

    assert [m.phone for m in locmem_gateway.outbox] == [UK_CAMPAIGN]
    assert Message.objects.get().attempts == 2
    assert used(user) == 1


@pytest.mark.django_db
def test_quota_counted_for_messages_put_back_unsent_is_given_back(user, locmem_gateway):
    SendingLimits.objects.create(owner=user, daily_parts=100)
    campaign_messages(user, 4)
    for i in range(4):
        locmem_gateway.failures[f"+4474{i:09d}"] = GatewayAuthError("bad credentials")

    dispatcher.dispatch(worker="test-worker", seconds=30)

    assert Message.objects.filter(status="QUEUED", attempts=0).count() == 4
    assert used(user) == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_dispatchers_racing_at_the_limit_never_overshoot_it(user, locmem_gateway):
    """1,000 parts a day; 1,500 campaign messages of one or two parts; two dispatchers at once, each claiming
    batches of 50. The quota rows' lock makes the overshoot zero: not a part more than the limit is sent."""
    SendingLimits.objects.create(owner=user, daily_parts=1000)
    campaign = CampaignFactory(owner=user, status=Campaign.Status.RUNNING, message_content="Hi")
    Message.objects.bulk_create(
        Message(owner=user, campaign=campaign, phone=f"+4474{i:09d}", content="Hi", parts_count=1 + i % 2)
        for i in range(1500)
    )
    start = threading.Barrier(2)

    def run(name: str) -> None:
        try:
            start.wait()
            dispatcher.dispatch(worker=name, seconds=60)
        finally:
            connection.close()

    with override_settings(SMS_DISPATCH_BATCH=50):
        threads = [threading.Thread(target=run, args=(f"w{i}",)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    sent_parts = sum(m.parts for m in locmem_gateway.outbox)
    assert sent_parts == used(user) <= 1000
    # Every part that fits is used: a one-part message fills the last gap.
    assert sent_parts >= 999
    assert len({m.id for m in locmem_gateway.outbox}) == len(locmem_gateway.outbox)
    assert Message.objects.filter(status="SENT").count() == len(locmem_gateway.outbox)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_many_senders_at_once_spend_the_last_parts_exactly_once(user):
    """Web processes charging single sends at once: of 8 threads x 40 one-part sends against 250 parts,
    exactly 250 are counted and the rest refused."""
    SendingLimits.objects.create(owner=user, daily_parts=250)
    outcomes: list[bool] = []
    start = threading.Barrier(8)

    def sender() -> None:
        try:
            start.wait()
            for _ in range(40):
                try:
                    charge(owner_id=user.pk, parts=1)
                    outcomes.append(True)
                except QuotaReached:
                    outcomes.append(False)
        finally:
            connection.close()

    threads = [threading.Thread(target=sender) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert (outcomes.count(True), outcomes.count(False)) == (250, 70)
    assert used(user) == used(user, "month") == 250


@pytest.mark.django_db
def test_messages_fit_in_order_and_the_period_that_ran_out_is_named(user):
    SendingLimits.objects.create(owner=user, daily_parts=5, monthly_parts=100)
    charge(owner_id=user.pk, parts=1, now=NOON)

    spent = take({user.pk: [2, 2, 1]}, quotas.quotas_of([user.pk]), NOON)[user.pk]

    # Oldest first: the third waits though it would fit, so a campaign keeps its order.
    assert spent.fitted == 2
    assert (spent.full.kind, spent.used, spent.limit) == ("day", 1, 5)
    assert used(user) == 5
