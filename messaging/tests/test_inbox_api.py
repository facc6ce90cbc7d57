"""/api/v1/inbox/, /api/v1/conversations/{phone} and the reply path, and a campaign's replies in its stats."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from campaigns.tests.factories import CampaignFactory
from messaging.models import InboundMessage, Message
from messaging.tests.factories import MessageFactory

PHONE = "+447400000001"
pytestmark = pytest.mark.django_db


def inbound(owner, text="Where is my parcel?", phone=PHONE, **fields) -> InboundMessage:
    fields.setdefault("received_at", timezone.now())
    return InboundMessage.objects.create(
        owner=owner, source="android", external_id=f"e-{InboundMessage.objects.count()}", phone=phone, text=text,
        **fields,
    )  # fmt: skip


def listed(api, query: str = "") -> list[str]:
    response = api.get(f"/api/v1/inbox/{query}")
    assert response.status_code == 200, response.content
    return [item["text"] for item in response.json()["results"]]


def test_the_inbox_lists_your_messages_newest_first_and_not_another_users_or_unassigned(api, user, other_user):
    inbound(user, "first")
    inbound(user, "second")
    inbound(other_user, "theirs")
    inbound(None, "nobody's")

    assert listed(api) == ["second", "first"]


def test_the_inbox_filters_by_campaign_phone_in_any_format_unread_archived_and_time(api, user):
    campaign = CampaignFactory(owner=user)
    inbound(user, "on the campaign", campaign=campaign)
    inbound(user, "other phone", phone="+447400000002", read_at=timezone.now())
    inbound(user, "archived", archived_at=timezone.now())
    inbound(user, "old", received_at=timezone.now() - timedelta(days=3))

    assert listed(api, f"?campaign={campaign.pk}") == ["on the campaign"]
    assert listed(api, "?phone=07400 000002") == ["other phone"]
    assert listed(api, "?unread=true") == ["old", "on the campaign"]
    assert listed(api, "?archived=true") == ["archived"]
    since = (timezone.now() - timedelta(days=1)).isoformat().replace("+00:00", "Z")
    assert listed(api, f"?since={since}") == ["other phone", "on the campaign"]


def test_a_sender_that_is_not_a_number_is_found_by_its_name(api, user):
    inbound(user, "Your code is 1234", phone="AMAZON")
    inbound(user, "hello")

    assert listed(api, "?phone=AMAZON") == ["Your code is 1234"]


def test_many_messages_are_marked_read_then_archived_at_once_and_only_yours(api, user, other_user):
    mine = [inbound(user, f"m{i}") for i in range(3)]
    theirs = inbound(other_user)
    ids = [m.pk for m in mine] + [theirs.pk]

    read = api.post("/api/v1/inbox/mark", {"ids": ids, "read": True}, format="json")
    archived = api.post("/api/v1/inbox/mark", {"ids": ids[:1], "archived": True}, format="json")

    assert (read.json(), archived.json()) == ({"marked": 3}, {"marked": 1})
    assert InboundMessage.objects.filter(owner=user, read_at__isnull=False).count() == 3
    theirs.refresh_from_db()
    assert theirs.read_at is None
    assert listed(api) == ["m2", "m1"]


def test_marking_without_saying_what_is_a_400(api, user):
    response = api.post("/api/v1/inbox/mark", {"ids": [inbound(user).pk]}, format="json")

    assert response.status_code == 400


def test_a_reply_is_queued_through_the_normal_path_and_marks_the_message_read(api, user):
    message = inbound(user)

    response = api.post(f"/api/v1/inbox/{message.pk}/reply", {"content": "It's on its way!"}, format="json")

    assert response.status_code == 202
    sent = Message.objects.get(pk=response.json()["message_ids"][0])
    assert (sent.owner, sent.phone, sent.content, sent.status) == (user, PHONE, "It's on its way!", "QUEUED")
    message.refresh_from_db()
    assert message.read_at is not None


def test_another_users_message_cannot_be_answered(api, other_user):
    response = api.post(f"/api/v1/inbox/{inbound(other_user).pk}/reply", {"content": "Hi"}, format="json")

    assert response.status_code == 404
    assert not Message.objects.exists()


def test_a_conversation_is_both_ways_in_time_order(api, user, other_user):
    now = timezone.now()
    MessageFactory(owner=user, phone=PHONE, content="Your parcel ships today", status="DELIVERED",
                   sent_at=now - timedelta(hours=2))  # fmt: skip
    inbound(user, "Where is it?", received_at=now - timedelta(hours=1))
    MessageFactory(owner=user, phone=PHONE, content="Arriving at 5", status="SENT", sent_at=now)
    MessageFactory(owner=other_user, phone=PHONE, content="someone else's", status="SENT", sent_at=now)

    response = api.get("/api/v1/conversations/07400 000001")

    assert response.status_code == 200
    body = response.json()
    assert body["phone"] == PHONE
    assert [(m["direction"], m["text"]) for m in body["messages"]] == [
        ("out", "Your parcel ships today"),
        ("in", "Where is it?"),
        ("out", "Arriving at 5"),
    ]


def test_campaign_stats_count_its_replies_and_the_unread_ones(api, user):
    campaign = CampaignFactory(owner=user)
    inbound(user, campaign=campaign)
    inbound(user, campaign=campaign, read_at=timezone.now())

    body = api.get(f"/api/v1/campaigns/{campaign.pk}/stats").json()

    assert (body["replies"], body["unread_replies"]) == (2, 1)


def test_the_help_text_is_set_and_read_back(api):
    assert api.put("/api/v1/inbox-settings", {"help_text": "Acme: call 0800 000 000"}, format="json").status_code == 200

    assert api.get("/api/v1/inbox-settings").json()["help_text"] == "Acme: call 0800 000 000"
