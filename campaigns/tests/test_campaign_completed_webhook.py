"""A campaign that completes tells its owner's endpoints (campaign.completed), in the completing transaction."""

from __future__ import annotations

from django.utils import timezone

from campaigns.models import Campaign
from campaigns.services import campaigns_complete_finished
from campaigns.tests.factories import CampaignFactory
from messaging.models import Message, WebhookDelivery
from messaging.tests.factories import MessageFactory
from messaging.tests.webhook_factories import WebhookEndpointFactory

S = Message.Status


def running_campaign(owner, **fields):
    return CampaignFactory(
        owner=owner,
        status=Campaign.Status.RUNNING,
        fanout_completed_at=timezone.now(),
        started_at=timezone.now(),
        **fields,
    )


def test_a_completed_campaign_tells_campaign_completed_with_its_counts(user):
    endpoint = WebhookEndpointFactory(owner=user, events=["campaign.completed"])
    campaign = running_campaign(user, name="Spring")
    for status in [S.DELIVERED, S.DELIVERED, S.FAILED, S.SENT]:
        MessageFactory(owner=user, campaign=campaign, status=status)
    unfinished = running_campaign(user)
    MessageFactory(owner=user, campaign=unfinished, status=S.QUEUED)

    assert campaigns_complete_finished() == 1

    told = WebhookDelivery.objects.get(endpoint=endpoint).payload
    assert told["event"] == "campaign.completed"
    data = told["data"]
    assert (data["id"], data["name"], data["status"]) == (campaign.pk, "Spring", "COMPLETED")
    assert data["messages"] == {"QUEUED": 0, "SENDING": 0, "SENT": 1, "DELIVERED": 2, "FAILED": 1, "CANCELLED": 0}
    assert data["completed_at"]
    assert data["started_at"]


def test_a_campaign_completes_as_before_when_nobody_listens(user, other_user):
    WebhookEndpointFactory(owner=other_user, events=["campaign.completed"])
    campaign = running_campaign(user)
    MessageFactory(owner=user, campaign=campaign, status=S.SENT)

    assert campaigns_complete_finished() == 1
    assert campaigns_complete_finished() == 0  # once

    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.COMPLETED
    assert not WebhookDelivery.objects.exists()
