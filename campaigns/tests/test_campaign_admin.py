"""The admin's lifecycle actions call the same services as the API; the page shows progress."""

from campaigns.models import Campaign
from campaigns.tests.factories import CampaignFactory


def act(client, action, *campaigns):
    return client.post(
        "/admin/campaigns/campaign/", {"action": action, "_selected_action": [c.pk for c in campaigns]}, follow=True
    )


def test_start_then_pause_resume_and_cancel_from_the_list(staff_client, user, contacts_import):
    campaign = CampaignFactory(owner=user, import_job=contacts_import, message_content="Hi")

    for action, status in [
        ("started_campaigns", "RUNNING"),
        ("paused_campaigns", "PAUSED"),
        ("resumed_campaigns", "RUNNING"),
        ("cancelled_campaigns", "CANCELLED"),
    ]:
        act(staff_client, action, campaign)
        campaign.refresh_from_db()
        assert campaign.status == status


def test_an_illegal_action_says_why_and_changes_nothing(staff_client, user):
    campaign = CampaignFactory(owner=user, status=Campaign.Status.COMPLETED)

    response = act(staff_client, "paused_campaigns", campaign)

    assert "A COMPLETED campaign cannot pause." in response.content.decode()
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.COMPLETED


def test_each_action_from_the_list_is_recorded_in_the_campaigns_history(staff_client, user, contacts_import):
    campaign = CampaignFactory(owner=user, import_job=contacts_import, message_content="Hi")

    act(staff_client, "started_campaigns", campaign)
    act(staff_client, "paused_campaigns", campaign)

    history = staff_client.get(f"/admin/campaigns/campaign/{campaign.pk}/history/").content.decode()
    assert "Started" in history
    assert "Paused" in history
