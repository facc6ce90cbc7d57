"""A campaign may end the first message each recipient gets from its owner with an opt-out line."""

from __future__ import annotations

import pytest

from campaigns.fanout import campaign_fan_out
from campaigns.models import Campaign
from campaigns.tests.factories import CampaignFactory
from imports.models import ImportJob
from imports.tests.factories import ContactFactory, ImportJobFactory
from messaging.models import InboxSettings, Message
from messaging.tests.factories import MessageFactory

NEW, KNOWN = "+447400000001", "+447400000002"
pytestmark = pytest.mark.django_db


@pytest.fixture
def campaign(user) -> Campaign:
    job = ImportJobFactory(owner=user, status=ImportJob.Status.SUCCESS, column_mapping={"variables": {}})
    for phone in (NEW, KNOWN):
        ContactFactory(import_job=job, phone=phone)
    MessageFactory(owner=user, phone=KNOWN, content="An earlier hello", status="DELIVERED")
    return CampaignFactory(owner=user, import_job=job, message_content="Spring sale: 20% off", add_opt_out_line=True)


def test_only_a_recipient_hearing_from_the_owner_for_the_first_time_gets_the_line(campaign):
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.RUNNING)

    campaign_fan_out(campaign_id=campaign.pk)

    sent = dict(Message.objects.filter(campaign=campaign).values_list("phone", "content"))
    assert sent == {NEW: "Spring sale: 20% off\nReply STOP to opt out", KNOWN: "Spring sale: 20% off"}


def test_the_owners_own_wording_is_used_and_counted_in_the_preview(api, user, campaign):
    InboxSettings.objects.create(owner=user, opt_out_line="Text STOP to unsubscribe - Acme")

    preview = api.get(f"/api/v1/campaigns/{campaign.pk}/preview").json()

    rendered = {m["phone"]: m["rendered"] for m in preview["messages"]}
    assert rendered == {NEW: "Spring sale: 20% off\nText STOP to unsubscribe - Acme", KNOWN: "Spring sale: 20% off"}


def test_the_line_is_set_through_the_api_and_off_by_default(api, user):
    off = api.post("/api/v1/campaigns/", {"name": "A", "message_content": "Hi"}, format="json").json()
    on = api.post("/api/v1/campaigns/", {"name": "B", "message_content": "Hi", "add_opt_out_line": True},
                  format="json").json()  # fmt: skip

    assert (off["add_opt_out_line"], on["add_opt_out_line"]) == (False, True)
