"""A campaign's quiet hours: each recipient gets the message inside the window of their own day."""

from __future__ import annotations

from datetime import UTC, datetime
from unittest import mock

import pytest

from campaigns.fanout import campaign_fan_out
from campaigns.models import Campaign
from campaigns.selectors import campaign_stats
from campaigns.tests.factories import CampaignFactory
from imports.models import ImportJob
from imports.tests.factories import ContactFactory, ImportJobFactory
from messaging import dispatcher
from messaging.models import Message, Waiting

pytestmark = pytest.mark.django_db
UK, NEW_YORK, LOS_ANGELES, INDIA = "+447400123456", "+12125551234", "+16505551234", "+919812345678"
US_TOLL_FREE = "+18005550123"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def campaign_to(user, phones: list[str], **fields) -> Campaign:
    job = ImportJobFactory(owner=user, status=ImportJob.Status.SUCCESS, column_mapping={"variables": {}})
    for phone in phones:
        ContactFactory(import_job=job, phone=phone, line_type="mobile")
    return CampaignFactory(
        owner=user, import_job=job, message_content="Hi", status=Campaign.Status.RUNNING, include_non_mobile=True,
        **fields,
    )  # fmt: skip


def test_a_campaign_spanning_uk_us_and_india_sends_each_in_its_own_window(user, locmem_gateway):
    campaign = campaign_to(user, [UK, NEW_YORK, LOS_ANGELES, INDIA], send_window="08:00-21:00")

    # 12:00 UTC: 12:00 in London, 07:00 in New York, 04:00 in Los Angeles, 17:30 in India.
    with mock.patch("django.utils.timezone.now", return_value=at("2026-12-05T12:00")):
        campaign_fan_out(campaign_id=campaign.pk)
        stats = campaign_stats(campaign=campaign)
        dispatcher.dispatch(worker="test-worker", seconds=30)

    due = dict(Message.objects.values_list("phone", "next_attempt_at"))
    assert due == {
        UK: at("2026-12-05T12:00"),
        NEW_YORK: at("2026-12-05T13:00"),
        LOS_ANGELES: at("2026-12-05T16:00"),
        INDIA: at("2026-12-05T12:00"),
    }
    assert stats["waiting"] == {"quiet_hours": 2, "quota": 0, "review": 0}
    assert sorted(m.phone for m in locmem_gateway.outbox) == [UK, INDIA]

    # Each of the others goes when its own morning comes, not before.
    for now, sent in (("2026-12-05T12:59", 2), ("2026-12-05T13:00", 3), ("2026-12-05T16:00", 4)):
        with mock.patch("django.utils.timezone.now", return_value=at(now)):
            dispatcher.dispatch(worker="test-worker", seconds=30)
        assert len(locmem_gateway.outbox) == sent, now
    assert set(Message.objects.values_list("status", "waiting")) == {("SENT", "")}


def test_the_deployments_quiet_hours_apply_to_a_campaign_that_sets_none(settings, user):
    settings.SMS_QUIET_HOURS = "09:00-20:00"
    campaign = campaign_to(user, [UK])

    with mock.patch("django.utils.timezone.now", return_value=at("2026-12-05T21:00")):
        campaign_fan_out(campaign_id=campaign.pk)

    message = Message.objects.get()
    assert (message.send_window, message.next_attempt_at, message.waiting) == (
        "09:00-20:00",
        at("2026-12-06T09:00"),
        Waiting.QUIET_HOURS,
    )


def test_a_campaign_may_send_at_any_hour_despite_the_deployments_default(settings, user):
    settings.SMS_QUIET_HOURS = "09:00-20:00"
    campaign = campaign_to(user, [UK], send_window="00:00-24:00")

    with mock.patch("django.utils.timezone.now", return_value=at("2026-12-05T23:00")):
        campaign_fan_out(campaign_id=campaign.pk)

    message = Message.objects.get()
    assert (message.send_window, message.next_attempt_at, message.waiting) == ("", at("2026-12-05T23:00"), "")


def test_a_recipient_whose_zones_never_share_an_hour_inside_the_window_is_skipped_and_counted(user):
    campaign = campaign_to(user, [UK, US_TOLL_FREE], send_window="09:00-17:00")

    campaign_fan_out(campaign_id=campaign.pk)

    campaign.refresh_from_db()
    assert (campaign.recipients_count, campaign.skipped_quiet_hours) == (2, 1)
    assert list(Message.objects.values_list("phone", flat=True)) == [UK]


def test_quiet_hours_are_set_and_shown_through_the_api(api, user):
    job = ImportJobFactory(owner=user, status=ImportJob.Status.SUCCESS, column_mapping={"variables": {}})
    body = {"name": "Night owls", "message_content": "Hi", "import_id": job.pk, "quiet_hours": "9:00-20:00"}

    refused = api.post("/api/v1/campaigns/", body, format="json")
    created = api.post("/api/v1/campaigns/", {**body, "quiet_hours": "09:00-20:00"}, format="json")

    assert refused.status_code == 400
    assert "quiet_hours" in refused.json()["error"]["details"]
    assert created.status_code == 201
    assert created.json()["quiet_hours"] == "09:00-20:00"
    stats = api.get(created.json()["stats_url"]).json()
    assert stats["waiting"] == {"quiet_hours": 0, "quota": 0, "review": 0}
    assert stats["pause_reason"] == ""
