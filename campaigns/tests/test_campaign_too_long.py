"""Campaign texts are held to SMS_MAX_PARTS: a text over it even with empty merge fields is refused;
recipients whose values push their message over it are skipped at fan-out and counted; and a fan-out that
fails for a reason that will not change fails the campaign instead of being retried for ever."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from campaigns import services, tasks
from campaigns.fanout import campaign_fan_out
from campaigns.models import Campaign
from campaigns.selectors import campaign_stats
from campaigns.tests.factories import CampaignFactory
from imports.tests.factories import ContactFactory
from messaging.models import Message
from messaging.tests.factories import MessageFactory


def test_a_campaign_text_over_the_limit_is_a_400_naming_the_field(api, contacts_import):
    response = api.post(
        "/api/v1/campaigns/",
        {"name": "Long", "message_content": "x" * 1531 + " {{ name }}", "import_id": contacts_import.pk},
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["error"]["details"] == {"field": "message_content", "parts": 11, "max_parts": 10}
    assert not Campaign.objects.exists()


def test_recipients_whose_values_make_it_too_long_are_skipped_and_counted(user, contacts_import):
    ContactFactory(import_job=contacts_import, phone="+447400000009", variables={"order_no": "o" * 2000})
    campaign = services.campaign_start(
        campaign=CampaignFactory(owner=user, import_job=contacts_import, message_content="Order {{ order_no }}")
    )

    result = campaign_fan_out(campaign_id=campaign.pk)

    campaign.refresh_from_db()
    assert (result.recipients, result.queued, result.skipped_too_long) == (4, 3, 1)
    assert not Message.objects.filter(phone="+447400000009").exists()
    assert campaign.skipped_too_long == 1
    assert campaign_stats(campaign=campaign)["skipped_too_long"] == 1


def test_a_fan_out_that_cannot_work_fails_the_campaign_with_its_reason(user, contacts_import):
    campaign = services.campaign_start(
        campaign=CampaignFactory(owner=user, import_job=contacts_import, message_content="Hi {{ name }}")
    )
    queued_before = MessageFactory(owner=user, campaign=campaign, phone="+447400000111")
    # The frozen text no longer compiles: written past every check, as a bad migration or a bug might.
    Campaign.objects.filter(pk=campaign.pk).update(frozen_content="Hi {{ name")

    assert campaign_fan_out(campaign_id=campaign.pk) is None
    tasks.sync_messages(campaign.pk)

    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.FAILED
    assert campaign.failure_reason.startswith("Its messages could not be written: Unclosed merge field")
    assert campaign.completed_at
    queued_before.refresh_from_db()
    assert (queued_before.status, queued_before.error) == (Message.Status.CANCELLED, "The campaign failed.")


def test_the_clock_does_not_queue_a_failed_fan_out_again(user, contacts_import):
    campaign = services.campaign_start(
        campaign=CampaignFactory(owner=user, import_job=contacts_import, message_content="Hi {{ name }}")
    )
    Campaign.objects.filter(pk=campaign.pk).update(frozen_content="Hi {{ name")
    campaign_fan_out(campaign_id=campaign.pk)
    long_ago = timezone.now() - timedelta(minutes=10)
    Campaign.objects.filter(pk=campaign.pk).update(fanout_heartbeat_at=long_ago, started_at=long_ago)

    assert tasks.tick()["fan_out_requeued"] == []
