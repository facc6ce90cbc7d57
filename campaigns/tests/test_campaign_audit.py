"""Starting, pausing, resuming and cancelling a campaign, from the API or the admin, is written in the audit
log: who, which campaign, from which address, through what, and the status it moved from and to."""

from __future__ import annotations

import pytest

from campaigns.models import Campaign
from campaigns.tests.factories import CampaignFactory
from inboxerr.models import AuditEntry

S = Campaign.Status
CLIENT = "203.0.113.9"
STEPS = [("start", S.DRAFT, S.RUNNING), ("pause", S.RUNNING, S.PAUSED), ("resume", S.PAUSED, S.RUNNING),
         ("cancel", S.RUNNING, S.CANCELLED)]  # fmt: skip


@pytest.fixture
def campaign(user, contacts_import):
    return CampaignFactory(owner=user, name="Spring sale", import_job=contacts_import, message_content="Hi")


def entries():
    return list(
        AuditEntry.objects.order_by("id").values_list(
            "actor", "actor_name", "action", "target", "address", "via", "detail"
        )
    )


def recorded(user, campaign, via, steps=STEPS):
    target = f"campaign {campaign.pk} Spring sale"
    return [
        (user.pk, user.username, f"campaign.{action}", target, CLIENT, via, {"status": [before, after]})
        for action, before, after in steps
    ]


def test_each_action_through_the_api_is_recorded_once(api, user, campaign):
    for action, _, after in STEPS:
        response = api.post(f"/api/v1/campaigns/{campaign.pk}/{action}", REMOTE_ADDR=CLIENT)
        assert response.json()["status"] == after

    assert entries() == recorded(user, campaign, "api")


def test_each_action_from_the_admins_list_is_recorded_once(staff_client, user, campaign):
    for action in ["started_campaigns", "paused_campaigns", "resumed_campaigns", "cancelled_campaigns"]:
        selected = {"action": action, "_selected_action": [campaign.pk]}
        staff_client.post("/admin/campaigns/campaign/", selected, REMOTE_ADDR=CLIENT)

    assert entries() == recorded(user, campaign, "admin")


def test_each_button_on_the_campaigns_page_is_recorded_once(staff_client, user, campaign):
    for action, _, _ in STEPS:
        staff_client.post(f"/admin/campaigns/campaign/{campaign.pk}/lifecycle/{action}/", REMOTE_ADDR=CLIENT)

    assert entries() == recorded(user, campaign, "admin")


def test_a_refused_action_records_nothing(api, staff_client, campaign):
    campaign.status = S.RUNNING
    campaign.save()

    response = api.post(f"/api/v1/campaigns/{campaign.pk}/start", REMOTE_ADDR=CLIENT)
    staff_client.post(f"/admin/campaigns/campaign/{campaign.pk}/lifecycle/resume/", REMOTE_ADDR=CLIENT)
    staff_client.post("/admin/campaigns/campaign/", {"action": "started_campaigns", "_selected_action": [campaign.pk]})

    assert response.status_code == 409
    assert not AuditEntry.objects.exists()


def test_a_start_that_schedules_records_where_it_went(api, user, campaign):
    campaign.scheduled_at = "2999-01-01T00:00:00Z"
    campaign.save()

    api.post(f"/api/v1/campaigns/{campaign.pk}/start", REMOTE_ADDR=CLIENT)

    assert entries() == recorded(user, campaign, "api", [("start", S.DRAFT, S.SCHEDULED)])
