"""The audit log: record() takes who and where from the request; staff read the log in the admin and can
neither add, edit nor remove an entry."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory
from django.urls import reverse

from inboxerr import audit
from inboxerr.models import AuditEntry
from inboxerr.tests.factories import UserFactory

PROXY = "172.30.0.10"


def test_an_entry_records_the_requests_user_and_client_address(settings, user):
    settings.TRUSTED_PROXY_COUNT = 1
    request = RequestFactory().post("/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="198.51.100.7")
    request.user = user

    entry = audit.record(action="privacy.export", target="+447400123456", request=request, via="api")

    entry.refresh_from_db()
    assert (entry.actor, entry.actor_name, entry.address, entry.via) == (user, user.username, "198.51.100.7", "api")
    assert (entry.action, entry.target, entry.detail) == ("privacy.export", "+447400123456", {})
    assert entry.at is not None


def test_an_entry_without_a_request_is_the_systems_or_the_actor_given_with_no_address(user):
    by_system = audit.record(action="privacy.erase", target="+447400123456", via="command", detail={"messages": 3})
    by_user = audit.record(action="privacy.erase", target="+447400123457", actor=user, via="command")

    assert (by_system.actor, by_system.actor_name, by_system.address) == (None, "", "")
    assert by_system.detail == {"messages": 3}
    assert (by_user.actor, by_user.actor_name, by_user.address) == (user, user.username, "")


def test_an_anonymous_request_records_the_system_as_actor(db):
    request = RequestFactory().post("/", REMOTE_ADDR="203.0.113.5")
    request.user = AnonymousUser()

    entry = audit.record(action="privacy.erase", target="+447400123456", request=request, via="api")

    assert (entry.actor, entry.actor_name, entry.address) == (None, "", "203.0.113.5")


def test_an_unknown_action_or_channel_is_refused(user):
    with pytest.raises(ValueError, match="explode"):
        audit.record(action="campaign.explode", target="campaign 1", actor=user)
    with pytest.raises(ValueError, match="fax"):
        audit.record(action="campaign.start", target="campaign 1", actor=user, via="fax")
    assert not AuditEntry.objects.exists()


def test_deleting_the_user_keeps_who_it_was(db):
    alice = UserFactory(username="alice")
    entry = audit.record(action="limits.change", target="sending limits of bob", actor=alice, via="admin")

    alice.delete()

    entry.refresh_from_db()
    assert (entry.actor, entry.actor_name) == (None, "alice")


@pytest.fixture
def entry(user):
    return audit.record(
        action="campaign.cancel",
        target="campaign 12 Spring sale",
        actor=user,
        via="api",
        detail={"status": ["RUNNING", "CANCELLED"]},
    )


def test_staff_list_search_and_filter_the_log_newest_first(staff_client, entry, user):
    older = audit.record(action="privacy.erase", target="+447400123456", via="command")
    AuditEntry.objects.filter(pk=older.pk).update(at=entry.at.replace(year=entry.at.year - 1))

    page = staff_client.get(reverse("admin:inboxerr_auditentry_changelist"))
    found = staff_client.get(reverse("admin:inboxerr_auditentry_changelist"), {"q": "spring"})
    by_actor = staff_client.get(reverse("admin:inboxerr_auditentry_changelist"), {"q": user.username})
    erased = staff_client.get(reverse("admin:inboxerr_auditentry_changelist"), {"action__exact": "privacy.erase"})

    assert list(page.context["cl"].result_list) == [entry, older]
    assert "Campaign cancelled" in page.content.decode()
    assert list(found.context["cl"].result_list) == [entry]
    assert list(by_actor.context["cl"].result_list) == [entry]
    assert list(erased.context["cl"].result_list) == [older]
    assert staff_client.get(reverse("admin:inboxerr_auditentry_change", args=[entry.pk])).status_code == 200


def test_nobody_adds_edits_or_removes_an_entry_in_the_admin(staff_client, entry):
    change_url = reverse("admin:inboxerr_auditentry_change", args=[entry.pk])
    page = staff_client.get(reverse("admin:inboxerr_auditentry_changelist")).content.decode()

    assert staff_client.get(reverse("admin:inboxerr_auditentry_add")).status_code == 403
    assert staff_client.post(reverse("admin:inboxerr_auditentry_add"), {"target": "forged"}).status_code == 403
    assert staff_client.post(change_url, {"target": "forged", "action": "campaign.start"}).status_code == 403
    delete_url = reverse("admin:inboxerr_auditentry_delete", args=[entry.pk])
    assert staff_client.post(delete_url, {"post": "yes"}).status_code == 403
    bulk = {"action": "delete_selected", "_selected_action": [entry.pk], "post": "yes"}
    staff_client.post(reverse("admin:inboxerr_auditentry_changelist"), bulk)
    assert reverse("admin:inboxerr_auditentry_add") not in page
    assert "delete_selected" not in page
    entry.refresh_from_db()
    assert entry.target == "campaign 12 Spring sale"


def test_the_log_is_listed_under_operations(staff_client, entry):
    operations = staff_client.get(reverse("admin:operations")).content.decode()

    assert reverse("admin:inboxerr_auditentry_changelist") in operations
