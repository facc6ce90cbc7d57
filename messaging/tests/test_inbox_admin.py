"""The admin's Inbox: unread first, found by phone or words; a conversation read and answered from its page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from campaigns.models import Campaign
from campaigns.tests.factories import CampaignFactory
from inboxerr.tests.pages import visible_text
from messaging.inbox_admin import conversation_url
from messaging.models import InboundMessage, Message
from messaging.tests.factories import MessageFactory

PHONE = "+447400000001"
pytestmark = pytest.mark.django_db


def inbound(owner, text, phone=PHONE, **fields) -> InboundMessage:
    fields.setdefault("received_at", timezone.now())
    return InboundMessage.objects.create(
        owner=owner, source="android", external_id=f"e-{InboundMessage.objects.count()}", phone=phone, text=text,
        **fields,
    )  # fmt: skip


def inbox_texts(client, query: dict | None = None) -> list[str]:
    response = client.get(reverse("admin:messaging_inboundmessage_changelist"), query or {})
    assert response.status_code == 200
    return [m.text for m in response.context["cl"].result_list]


def test_the_inbox_shows_unread_first_then_the_newest_and_leaves_the_archive_out(staff_client, user):
    inbound(user, "read, newest", read_at=timezone.now())
    inbound(user, "unread, older", received_at=timezone.now() - timedelta(hours=1))
    inbound(user, "unread, newest")
    inbound(user, "archived", archived_at=timezone.now())
    inbound(None, "unassigned")

    assert inbox_texts(staff_client) == ["unassigned", "unread, newest", "unread, older", "read, newest"]
    assert inbox_texts(staff_client, {"box": "archived"}) == ["archived"]


def test_the_inbox_is_searched_by_phone_in_any_format_or_by_words(staff_client, user):
    inbound(user, "my parcel ORD-100221 hasn't arrived")
    inbound(user, "thanks!", phone="+447400000002")

    assert inbox_texts(staff_client, {"q": "07400 000002"}) == ["thanks!"]
    assert inbox_texts(staff_client, {"q": "ord-100221"}) == ["my parcel ORD-100221 hasn't arrived"]


def test_the_inbox_is_filtered_by_campaign(staff_client, user):
    campaign = CampaignFactory(owner=user)
    inbound(user, "about the campaign", campaign=campaign)
    inbound(user, "something else")

    assert inbox_texts(staff_client, {"campaign": campaign.pk}) == ["about the campaign"]


def test_a_conversation_shows_both_ways_with_what_a_keyword_did_and_reading_it_marks_it_read(staff_client, user):
    MessageFactory(owner=user, phone=PHONE, content="Your parcel ships today", status="DELIVERED",
                   sent_at=timezone.now() - timedelta(hours=2))  # fmt: skip
    inbound(user, "Where is it?", received_at=timezone.now() - timedelta(hours=1))
    inbound(user, "STOP", keyword="stop", keyword_result="Opted out of every sender on this gateway.")

    response = staff_client.get(conversation_url(PHONE, user.pk))

    text = visible_text(response.content.decode())
    assert text.index("Your parcel ships today") < text.index("Where is it?") < text.index("STOP")
    assert "· STOP : Opted out of every sender on this gateway." in text
    assert not InboundMessage.objects.filter(read_at__isnull=True).exists()


def test_staff_answer_from_the_conversation_through_the_normal_path(staff_client, user):
    inbound(user, "Where is it?")

    response = staff_client.post(conversation_url(PHONE, user.pk), {"content": "Arriving at 5"})

    assert response.status_code == 302
    sent = Message.objects.get()
    assert (sent.owner, sent.phone, sent.content, sent.status) == (user, PHONE, "Arriving at 5", "QUEUED")


def test_an_unassigned_conversation_has_no_answer_box(staff_client):
    inbound(None, "wrong number?")

    response = staff_client.get(conversation_url(PHONE, None))

    assert response.status_code == 200
    assert "Not assigned: nobody here has messaged this number." in response.content.decode()
    assert 'name="content"' not in response.content.decode()


def test_the_campaign_page_counts_its_replies_and_shows_the_latest(staff_client, user):
    campaign = CampaignFactory(owner=user, status=Campaign.Status.RUNNING)
    inbound(user, "Yes please", campaign=campaign)
    inbound(user, "No thanks", campaign=campaign, read_at=timezone.now(), phone="+447400000002")

    response = staff_client.get(reverse("admin:campaigns_campaign_change", args=[campaign.pk]))

    text = visible_text(response.content.decode())
    assert "2 replies (1 unread)" in text
    assert "Yes please" in text
    assert "No thanks" in text
