"""Erasure and export of one number's data, and texts blanked after MESSAGE_RETENTION_DAYS."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from campaigns.selectors import campaign_stats
from campaigns.tests.factories import CampaignFactory
from imports.models import Contact
from imports.tests.factories import ContactFactory
from inboxerr.ids import uuid7
from inboxerr.models import AuditEntry
from messaging.models import InboundMessage, Message, MessageEvent, OptOut
from messaging.privacy import blank_old_messages, erased_phone, uuid7_floor
from messaging.tests.factories import MessageEventFactory, MessageFactory

PHONE, OTHER = "+447400000001", "+447400000002"
pytestmark = pytest.mark.django_db


@pytest.fixture
def held(user, other_user):
    """What `user` and `other_user` hold about PHONE, and one message of `user` to another number."""
    campaign = CampaignFactory(owner=user)
    contact = ContactFactory(phone=PHONE, import_job__owner=user, name="Ann Lee", variables={"order": "A-1"})
    message = MessageFactory(owner=user, phone=PHONE, campaign=campaign, contact=contact, content="Hi Ann, A-1",
                             variables={"order": "A-1"}, status="DELIVERED")  # fmt: skip
    MessageEventFactory(message=message, kind="delivered", payload={"payload": {"recipient": PHONE}})
    InboundMessage.objects.create(owner=user, source="android", external_id="e1", phone=PHONE, text="Thanks, Ann here",
                                  received_at=timezone.now())  # fmt: skip
    OptOut.objects.create(owner=user, phone=PHONE, source="api")
    theirs = MessageFactory(owner=other_user, phone=PHONE, content="Someone else's", status="SENT")
    untouched = MessageFactory(owner=user, phone=OTHER, content="Hi Bob", status="SENT")
    return {"campaign": campaign, "message": message, "theirs": theirs, "untouched": untouched}


def test_an_erasure_deletes_the_contacts_anonymises_the_messages_and_keeps_the_opt_out(api, user, held):
    stats_before = campaign_stats(campaign=held["campaign"])

    response = api.post("/api/v1/privacy/erase", {"phone": "07400 000001"}, format="json")

    assert response.status_code == 200
    assert response.json() == {
        "phone": PHONE, "scope": "yours", "contacts_deleted": 1, "messages_anonymised": 1, "events_emptied": 1,
        "inbound_messages_anonymised": 1, "webhook_deliveries_emptied": 0, "opt_outs_kept": 1,
    }  # fmt: skip
    assert not Contact.objects.filter(phone=PHONE).exists()
    message = Message.objects.get(pk=held["message"].pk)
    assert (message.phone, message.content, message.variables) == (erased_phone(PHONE), "", {})
    assert MessageEvent.objects.get().payload == {}
    assert InboundMessage.objects.get().text == ""
    assert OptOut.objects.filter(owner=user, phone=PHONE).exists()
    # The counts stay: a campaign's stats are the same.
    assert campaign_stats(campaign=held["campaign"])["by_status"] == stats_before["by_status"]
    # Another user's message to the number, and the user's to another number, are left alone.
    assert Message.objects.get(pk=held["theirs"].pk).content == "Someone else's"
    assert Message.objects.get(pk=held["untouched"].pk).content == "Hi Bob"
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.target, entry.actor, entry.via) == ("privacy.erase", PHONE, user, "api")
    assert entry.detail["contacts_deleted"] == 1


def test_the_command_erases_every_users_data_unless_told_an_owner(held):
    call_command("erase_number", "07400 000001")

    assert not Message.objects.filter(phone=PHONE).exists()
    assert Message.objects.get(pk=held["theirs"].pk).content == ""
    assert AuditEntry.objects.get().via == "command"


def test_an_export_hands_over_everything_held_about_the_number(api, held):
    response = api.get("/api/v1/privacy/export", {"phone": "+44 7400 000001"})

    body = response.json()
    assert response.status_code == 200
    assert [c["name"] for c in body["contacts"]] == ["Ann Lee"]
    assert [m["content"] for m in body["messages"]] == ["Hi Ann, A-1"]  # not another user's
    assert [m["text"] for m in body["inbound_messages"]] == ["Thanks, Ann here"]
    assert [o["source"] for o in body["opt_outs"]] == ["api"]
    assert AuditEntry.objects.get().action == "privacy.export"


def test_a_bad_number_is_a_400_naming_the_field(api):
    erase = api.post("/api/v1/privacy/erase", {"phone": "banana"}, format="json")
    export = api.get("/api/v1/privacy/export", {"phone": "banana"})

    assert (erase.status_code, export.status_code) == (400, 400)
    assert "phone" in erase.json()["error"]["details"]


def test_staff_erase_numbers_from_the_inbox(staff_client, user, held):
    inbound = InboundMessage.objects.get()

    staff_client.post(
        reverse("admin:messaging_inboundmessage_changelist"),
        {"action": "erase_numbers", "_selected_action": [inbound.pk]},
    )

    assert not Message.objects.filter(phone=PHONE).exists()
    assert Message.objects.filter(phone=OTHER).exists()
    assert list(AuditEntry.objects.values_list("action", "target", "via")) == [("privacy.erase", PHONE, "admin")]


def test_retention_blanks_old_final_messages_in_batches_and_goes_on_from_where_it_stopped(settings, user, monkeypatch):
    settings.MESSAGE_RETENTION_DAYS = 90
    now = timezone.now()
    old = timezone.now() - timedelta(days=91)
    old_ids = [uuid7_floor(old - timedelta(seconds=i)) for i in range(3, 0, -1)]
    for i, pk in enumerate(old_ids):
        MessageFactory(id=pk, owner=user, content=f"old {i}", variables={"v": "x"}, status="DELIVERED")
    stuck = MessageFactory(id=uuid7_floor(old), owner=user, content="stuck", status="QUEUED")
    recent = MessageFactory(id=uuid7(), owner=user, content="recent", status="DELIVERED")
    monkeypatch.setattr("messaging.privacy.RETENTION_BATCH", 2)

    first = blank_old_messages(now=now)
    again = blank_old_messages(now=now)

    assert (first, again) == (3, 0)
    assert set(Message.objects.filter(pk__in=old_ids).values_list("content", flat=True)) == {""}
    assert Message.objects.get(pk=stuck.pk).content == "stuck"  # not final: passed over
    assert Message.objects.get(pk=recent.pk).content == "recent"
    assert Message.objects.filter(pk__in=old_ids, status="DELIVERED").count() == 3
