"""The database itself refuses a campaign without exactly one of message_content and template."""

import pytest
from django.db import IntegrityError, transaction

from campaigns.models import Campaign
from campaigns.tests.factories import CampaignFactory
from templates.tests.factories import MessageTemplateFactory


def test_it_accepts_raw_content_alone(db):
    assert CampaignFactory(message_content="Hi", template=None).pk


def test_it_accepts_a_template_alone(db):
    template = MessageTemplateFactory()

    assert CampaignFactory(owner=template.owner, message_content="", template=template).pk


def test_the_database_refuses_a_campaign_with_neither(db):
    with pytest.raises(IntegrityError), transaction.atomic():
        CampaignFactory(message_content="", template=None)


def test_the_database_refuses_a_campaign_with_both(db):
    template = MessageTemplateFactory()

    with pytest.raises(IntegrityError), transaction.atomic():
        CampaignFactory(owner=template.owner, message_content="Hi", template=template)


def test_the_database_refuses_an_update_that_removes_the_content(db):
    campaign = CampaignFactory(message_content="Hi")

    with pytest.raises(IntegrityError), transaction.atomic():
        Campaign.objects.filter(pk=campaign.pk).update(message_content="")


def test_the_database_refuses_an_unknown_status(db):
    campaign = CampaignFactory()

    with pytest.raises(IntegrityError), transaction.atomic():
        Campaign.objects.filter(pk=campaign.pk).update(status="SENDING")


def test_a_template_in_use_cannot_be_deleted(db):
    from django.db.models import ProtectedError

    template = MessageTemplateFactory()
    CampaignFactory(owner=template.owner, message_content="", template=template)

    with pytest.raises(ProtectedError):
        template.delete()
