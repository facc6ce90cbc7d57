"""A test send: the campaign's message, rendered with its first contact, to a phone typed on its page; sent
through the normal path, listed on the page, recorded in History, never counted in the campaign's figures."""

from __future__ import annotations

from django.contrib.admin.models import LogEntry

from campaigns import selectors
from campaigns.models import Campaign, CampaignTestSend
from campaigns.tests.factories import CampaignFactory
from inboxerr.tests.pages import visible_text
from messaging.models import Message, OptOut


def send_test(client, campaign, phone):
    return client.post(f"/admin/campaigns/campaign/{campaign.pk}/test-send/", {"phone": phone}, follow=True)


def test_a_test_send_queues_the_first_contacts_message_to_the_phone_typed(staff_client, user, contacts_import):
    campaign = CampaignFactory(
        owner=user, import_job=contacts_import, message_content="{{ name }}: order {{ order_no }}"
    )

    page = visible_text(send_test(staff_client, campaign, "07400 123 456").content.decode())

    message = Message.objects.get()
    assert (message.phone, message.content, message.status) == ("+447400123456", "Person 0: order A-0", "QUEUED")
    assert message.campaign_id is None  # so the campaign's statistics never see it
    assert CampaignTestSend.objects.get().message == message
    assert "Test message queued for +447400123456." in page
    assert "+447400123456 Queued" in page
    assert LogEntry.objects.get().change_message == "Test send to +447400123456"
    assert selectors.campaign_stats(campaign=campaign)["messages"] == 0


def test_a_bad_phone_gets_a_sentence_and_sends_nothing(staff_client, user, contacts_import):
    campaign = CampaignFactory(owner=user, import_job=contacts_import, message_content="Hi")

    page = visible_text(send_test(staff_client, campaign, "0770").content.decode())

    assert "Test send not sent: 1 of 1 phone numbers are not valid. '0770' is not a valid phone number" in page
    assert not Message.objects.exists()
    assert not CampaignTestSend.objects.exists()


def test_an_opted_out_phone_is_refused(staff_client, user, contacts_import):
    OptOut.objects.create(owner=user, phone="+447400123456")
    campaign = CampaignFactory(owner=user, import_job=contacts_import, message_content="Hi")

    page = visible_text(send_test(staff_client, campaign, "+447400123456").content.decode())

    assert "+447400123456 has opted out of your messages." in page
    assert not Message.objects.exists()


def test_a_running_campaign_can_be_tested_an_ended_one_cannot(staff_client, user, contacts_import):
    running = CampaignFactory(
        owner=user, import_job=contacts_import, message_content="Hi", status=Campaign.Status.RUNNING
    )
    ended = CampaignFactory(
        owner=user, import_job=contacts_import, message_content="Hi", status=Campaign.Status.COMPLETED
    )

    assert "Send a test" in staff_client.get(f"/admin/campaigns/campaign/{running.pk}/change/").content.decode()
    assert "Send a test" not in staff_client.get(f"/admin/campaigns/campaign/{ended.pk}/change/").content.decode()


def test_a_test_send_needs_post_and_permission_to_change_campaigns(client, staff_client, user, contacts_import):
    campaign = CampaignFactory(owner=user, import_job=contacts_import, message_content="Hi")

    assert staff_client.get(f"/admin/campaigns/campaign/{campaign.pk}/test-send/").status_code == 405
    client.logout()
    assert send_test(client, campaign, "+447400123456").redirect_chain[0][0].startswith("/admin/login/")
    assert not Message.objects.exists()
