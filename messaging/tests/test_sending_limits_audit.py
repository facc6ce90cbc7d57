"""A user's sending limits changed in the admin are written in the audit log, each field as [before, after]
(a user without limits has the defaults: wherever the deployment allows, no premium rate)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from inboxerr.models import AuditEntry
from inboxerr.tests.factories import UserFactory
from messaging.models import SendingLimits

CLIENT = "203.0.113.9"


@pytest.fixture
def alice(db):
    return UserFactory(username="alice")


def entries():
    return list(AuditEntry.objects.order_by("id").values_list("actor", "action", "target", "address", "via", "detail"))


def entry(user, detail, target="sending limits of alice"):
    # The quotas, unchanged in these tests, are recorded as [before, after] like every limit.
    return (user.pk, "limits.change", target, CLIENT, "admin", {**detail, **UNLIMITED})


UNLIMITED = {"daily_parts": [None, None], "monthly_parts": [None, None]}


def test_adding_a_users_limits_is_recorded_from_the_defaults(staff_client, user, alice):
    staff_client.post(
        reverse("admin:messaging_sendinglimits_add"),
        {"owner": alice.pk, "allowed_countries": "GB, IE", "allow_premium_rate": "on"},
        REMOTE_ADDR=CLIENT,
    )

    detail = {"allowed_countries": [[], ["GB", "IE"]], "allow_premium_rate": [False, True]}
    assert entries() == [entry(user, detail)]


def test_changing_them_is_recorded_with_before_and_after_and_saving_them_unchanged_is_not(staff_client, user, alice):
    limits = SendingLimits.objects.create(owner=alice, allowed_countries=["GB"])
    change = reverse("admin:messaging_sendinglimits_change", args=[limits.pk])

    staff_client.post(change, {"allowed_countries": "GB, FR", "allow_premium_rate": ""}, REMOTE_ADDR=CLIENT)
    staff_client.post(change, {"allowed_countries": "FR,GB", "allow_premium_rate": ""}, REMOTE_ADDR=CLIENT)

    detail = {"allowed_countries": [["GB"], ["FR", "GB"]], "allow_premium_rate": [False, False]}
    assert entries() == [entry(user, detail)]


def test_a_quota_change_is_recorded(staff_client, user, alice):
    limits = SendingLimits.objects.create(owner=alice, allowed_countries=["GB"])
    change = reverse("admin:messaging_sendinglimits_change", args=[limits.pk])

    staff_client.post(
        change, {"allowed_countries": "GB", "daily_parts": "500", "monthly_parts": ""}, REMOTE_ADDR=CLIENT
    )

    (detail,) = [row[5] for row in entries()]
    assert detail == {
        "allowed_countries": [["GB"], ["GB"]],
        "allow_premium_rate": [False, False],
        "daily_parts": [None, 500],
        "monthly_parts": [None, None],
    }


def test_the_owner_of_limits_stays_theirs(staff_client, alice, other_user):
    limits = SendingLimits.objects.create(owner=alice, allowed_countries=["GB"])

    staff_client.post(
        reverse("admin:messaging_sendinglimits_change", args=[limits.pk]),
        {"owner": other_user.pk, "allowed_countries": "GB", "allow_premium_rate": ""},
    )

    limits.refresh_from_db()
    assert limits.owner == alice


def test_removing_them_one_at_a_time_or_from_the_list_is_recorded(staff_client, user, alice):
    bob = UserFactory(username="bob")
    limits = SendingLimits.objects.create(owner=alice, allowed_countries=["GB"])
    SendingLimits.objects.create(owner=bob, allow_premium_rate=True)
    SendingLimits.objects.create(owner=UserFactory())  # the defaults: removing it changes nothing

    delete = reverse("admin:messaging_sendinglimits_delete", args=[limits.pk])
    staff_client.post(delete, {"post": "yes"}, REMOTE_ADDR=CLIENT)
    staff_client.post(
        reverse("admin:messaging_sendinglimits_changelist"),
        {
            "action": "delete_selected",
            "_selected_action": list(SendingLimits.objects.values_list("pk", flat=True)),
            "post": "yes",
        },
        REMOTE_ADDR=CLIENT,
    )

    assert not SendingLimits.objects.exists()
    assert entries() == [
        entry(user, {"allowed_countries": [["GB"], []], "allow_premium_rate": [False, False]}),
        entry(user, {"allowed_countries": [[], []], "allow_premium_rate": [True, False]}, "sending limits of bob"),
    ]  # fmt: skip
