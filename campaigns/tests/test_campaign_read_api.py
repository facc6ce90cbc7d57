"""Reading a campaign: stats, its messages, and a preview that creates nothing."""

from datetime import timedelta

from django.utils import timezone

from campaigns import services
from campaigns.fanout import campaign_fan_out
from campaigns.models import Campaign
from campaigns.tests.factories import CampaignFactory
from messaging.models import Message
from messaging.tests.factories import MessageFactory


def fanned_out(user, job, content="Hi {{ name }}"):
    campaign = services.campaign_start(campaign=CampaignFactory(owner=user, import_job=job, message_content=content))
    campaign_fan_out(campaign_id=campaign.pk)
    return campaign


def test_stats_count_messages_by_status_with_parts_progress_rate_and_eta(api, user, contacts_import):
    campaign = fanned_out(user, contacts_import)
    first, second, _ = Message.objects.filter(campaign=campaign).order_by("id")
    now = timezone.now()
    Campaign.objects.filter(pk=campaign.pk).update(started_at=now - timedelta(minutes=1))
    Message.objects.filter(pk=first.pk).update(status=Message.Status.DELIVERED, sent_at=now - timedelta(seconds=8))
    Message.objects.filter(pk=second.pk).update(
        status=Message.Status.SENT, sent_at=now - timedelta(seconds=4), parts_count=3
    )

    body = api.get(f"/api/v1/campaigns/{campaign.pk}/stats").json()

    assert body["messages"] == 3
    assert body["by_status"] == {"QUEUED": 1, "SENDING": 0, "SENT": 1, "DELIVERED": 1, "FAILED": 0, "CANCELLED": 0}
    assert body["total_parts"] == 5
    assert body["progress_percent"] == 66.7
    assert (body["send_rate_per_second"], body["send_rate_window_seconds"]) == (0.2, 10)
    assert body["estimated_completion_at"] is not None
    assert (body["recipients"], body["fan_out_complete"]) == (3, True)


def test_the_rate_counts_from_the_start_in_a_campaigns_first_seconds_and_is_zero_once_paused(api, user):
    now = timezone.now()
    campaign = CampaignFactory(owner=user, status="RUNNING", started_at=now - timedelta(seconds=4))
    MessageFactory.create_batch(20, owner=user, campaign=campaign, status="SENT", sent_at=now - timedelta(seconds=2))

    asked_at = timezone.now()
    rate = api.get(f"/api/v1/campaigns/{campaign.pk}/stats").json()["send_rate_per_second"]
    answered_at = timezone.now()

    # 20 over the seconds since it started (about 4), not 20 over the whole window; the bounds are
    # read from the clock around the request, so a slow machine moves them instead of failing the test
    slowest, fastest = (20 / (t - campaign.started_at).total_seconds() for t in (answered_at, asked_at))
    assert slowest - 0.01 <= rate <= fastest + 0.01

    Campaign.objects.filter(pk=campaign.pk).update(status="PAUSED")
    assert api.get(f"/api/v1/campaigns/{campaign.pk}/stats").json()["send_rate_per_second"] == 0


def test_stats_of_a_campaign_without_messages(api, user):
    body = api.get(f"/api/v1/campaigns/{CampaignFactory(owner=user).pk}/stats").json()

    assert (body["messages"], body["progress_percent"], body["estimated_completion_at"]) == (0, 0.0, None)


def test_messages_are_paginated_and_filtered_by_status(api, user, contacts_import):
    campaign = fanned_out(user, contacts_import)
    Message.objects.filter(campaign=campaign, phone="+447400000001").update(status=Message.Status.FAILED)

    everything = api.get(f"/api/v1/campaigns/{campaign.pk}/messages?page_size=2").json()
    failed = api.get(f"/api/v1/campaigns/{campaign.pk}/messages?status=failed").json()

    assert len(everything["results"]) == 2
    assert everything["next"]
    assert [m["phone"] for m in failed["results"]] == ["+447400000001"]


def test_preview_renders_the_first_messages_and_creates_nothing(api, user, contacts_import):
    campaign = CampaignFactory(owner=user, import_job=contacts_import, message_content="Hi {{ name }} in {{ city }}")

    body = api.get(f"/api/v1/campaigns/{campaign.pk}/preview?limit=3").json()

    assert [m["rendered"] for m in body["messages"]] == ["Hi Person 0 in Leeds", "Hi Person 1 in York", None]
    assert body["messages"][2]["missing"] == ["city"]
    assert body["messages"][0]["encoding"] == "GSM-7"
    assert body["recipients"] == 3
    assert body["estimated_total_parts"] == 3
    assert not Message.objects.exists()


def test_the_preview_limit_is_bounded(api, user, contacts_import):
    campaign = CampaignFactory(owner=user, import_job=contacts_import, message_content="Hi")

    assert len(api.get(f"/api/v1/campaigns/{campaign.pk}/preview?limit=1").json()["messages"]) == 1
    assert len(api.get(f"/api/v1/campaigns/{campaign.pk}/preview?limit=nonsense").json()["messages"]) == 3
