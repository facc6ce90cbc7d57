"""A campaign is run from its admin page: what it will send before it starts, the lifecycle as buttons
(recorded in History, Cancel asked twice), and progress that refreshes itself while it sends."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission
from django.utils import timezone

from campaigns.models import Campaign
from campaigns.tests.factories import CampaignFactory
from imports.tests.factories import ContactFactory
from inboxerr.tests.factories import UserFactory
from inboxerr.tests.pages import visible_text
from messaging.tests.factories import MessageFactory

S = Campaign.Status


def page_of(client, campaign) -> str:
    response = client.get(f"/admin/campaigns/campaign/{campaign.pk}/change/")
    assert response.status_code == 200
    return response.content.decode()


def lifecycle(client, campaign, action, method="post"):
    return getattr(client, method)(f"/admin/campaigns/campaign/{campaign.pk}/lifecycle/{action}/", follow=True)


def test_a_draft_shows_its_recipients_parts_and_first_messages_from_real_contacts(staff_client, user, contacts_import):
    campaign = CampaignFactory(
        owner=user, import_job=contacts_import, message_content="Order {{ order_no }} ships to {{ city|default:'you' }}"
    )

    shown = visible_text(page_of(staff_client, campaign))

    assert "3 recipients (before opt-outs), about 3 parts" in shown
    assert "+447400000000 Order A-0 ships to Leeds GSM-7 1" in shown
    assert "Order A-2 ships to you" in shown


def test_a_draft_names_the_variables_its_import_lacks(staff_client, user, contacts_import):
    campaign = CampaignFactory(owner=user, import_job=contacts_import, message_content="Hi {{ first_name }}")

    assert "The import has no column for first_name" in visible_text(page_of(staff_client, campaign))


def test_start_pause_resume_are_buttons_on_the_page_recorded_in_history(staff_client, user, contacts_import):
    campaign = CampaignFactory(owner=user, import_job=contacts_import, message_content="Hi")
    assert 'class="lifecycle-start primary"' in page_of(staff_client, campaign)

    for action, status in [("start", S.RUNNING), ("pause", S.PAUSED), ("resume", S.RUNNING)]:
        response = lifecycle(staff_client, campaign, action)
        campaign.refresh_from_db()
        assert campaign.status == status
        assert response.redirect_chain[-1][0] == f"/admin/campaigns/campaign/{campaign.pk}/change/"

    entries = LogEntry.objects.filter(object_id=str(campaign.pk)).order_by("id")
    assert [entry.get_change_message() for entry in entries] == ["Started", "Paused", "Resumed"]


def test_cancel_asks_first_and_only_a_post_cancels(staff_client, user):
    campaign = CampaignFactory(owner=user, status=S.RUNNING, started_at=timezone.now())
    MessageFactory.create_batch(2, owner=user, campaign=campaign)

    question = lifecycle(staff_client, campaign, "cancel", method="get")
    campaign.refresh_from_db()
    assert campaign.status == S.RUNNING
    assert "its 2 queued messages will not be sent" in visible_text(question.content.decode())

    lifecycle(staff_client, campaign, "cancel")
    campaign.refresh_from_db()
    assert campaign.status == S.CANCELLED


def test_asking_to_cancel_what_has_ended_says_why_instead_of_asking(staff_client, user):
    campaign = CampaignFactory(owner=user, status=S.COMPLETED)

    response = lifecycle(staff_client, campaign, "cancel", method="get")

    assert "A COMPLETED campaign cannot cancel." in response.content.decode()
    assert "Yes, cancel the campaign" not in response.content.decode()


def test_a_button_not_allowed_now_says_why_and_changes_nothing(staff_client, user):
    campaign = CampaignFactory(owner=user, status=S.COMPLETED)

    response = lifecycle(staff_client, campaign, "pause")

    assert "A COMPLETED campaign cannot pause." in response.content.decode()
    campaign.refresh_from_db()
    assert campaign.status == S.COMPLETED
    assert not LogEntry.objects.exists()


def test_buttons_need_post_and_permission_to_change_campaigns(client, staff_client, user):
    campaign = CampaignFactory(owner=user, message_content="Hi")
    assert lifecycle(staff_client, campaign, "start", method="get").status_code == 405
    assert lifecycle(staff_client, campaign, "delete").status_code == 403  # not a button

    reader = UserFactory(is_staff=True)
    reader.user_permissions.set(Permission.objects.filter(codename="view_campaign"))
    client.force_login(reader)
    assert 'class="lifecycle-' not in page_of(client, campaign)
    assert lifecycle(client, campaign, "start").status_code == 403
    campaign.refresh_from_db()
    assert campaign.status == S.DRAFT


def test_a_running_campaign_refreshes_itself_with_rate_eta_and_linked_counts(staff_client, user):
    now = timezone.now()
    campaign = CampaignFactory(
        owner=user, status=S.RUNNING, started_at=now - timedelta(minutes=5), fanout_completed_at=now,
        recipients_count=4,
    )  # fmt: skip
    MessageFactory.create_batch(3, owner=user, campaign=campaign, status="SENT", sent_at=now - timedelta(seconds=2))
    MessageFactory(owner=user, campaign=campaign, phone="+447400000099")
    MessageFactory(owner=user, status="SENT")  # another campaign's

    html = page_of(staff_client, campaign)
    shown = visible_text(html)

    assert '<meta http-equiv="refresh" content="5">' in html
    assert "75.0% of 4 messages done" in shown
    assert "0.3 sent per second over the last 10 s; about" in shown  # 3 in 10 s, and an ETA
    assert 'class="deletelink"' not in html  # no longer a draft: it stays
    link = f"/admin/messaging/message/?campaign={campaign.pk}&amp;status__exact=SENT"
    assert link in html

    listed = staff_client.get(link.replace("&amp;", "&"))
    assert listed.status_code == 200
    assert len(listed.context["cl"].result_list) == 3
    assert campaign.name in listed.content.decode()  # the filter shows the chosen campaign, and only it


def test_a_paused_campaign_has_no_rate_and_does_not_refresh(staff_client, user):
    now = timezone.now()
    campaign = CampaignFactory(owner=user, status=S.PAUSED, started_at=now, fanout_completed_at=now)
    MessageFactory(owner=user, campaign=campaign, status="SENT", sent_at=now)

    html = page_of(staff_client, campaign)

    assert "0.0 sent per second" in visible_text(html)
    assert "http-equiv" not in html


@pytest.mark.parametrize("value", ["abc", "99999999999999999999", "-1", "²"])
def test_a_bad_campaign_filter_is_the_admins_own_error_not_a_500(staff_client, value):
    MessageFactory()

    response = staff_client.get("/admin/messaging/message/", {"campaign": value})

    assert response.status_code == 302  # the admin's "?e=1" for a lookup it cannot use, never the whole list
    assert response["Location"].endswith("?e=1")


def test_results_export_streams_every_message_in_words_and_safe_for_spreadsheets(staff_client, user):
    now = timezone.now()
    campaign = CampaignFactory(owner=user, name="Spring sale", status=S.COMPLETED)
    contact = ContactFactory(import_job__owner=user, name='=HYPERLINK("x")')
    MessageFactory(owner=user, campaign=campaign, phone="+447400000002", status="DELIVERED", sent_at=now,
                   delivered_at=now, contact=contact)  # fmt: skip
    MessageFactory(owner=user, campaign=campaign, phone="+447400000001", status="FAILED", error="30003")
    MessageFactory(owner=user, phone="+447400000003")  # another campaign's
    assert "Export results" in page_of(staff_client, campaign)

    response = staff_client.get(f"/admin/campaigns/campaign/{campaign.pk}/results.csv")

    assert response.streaming
    assert response["Content-Disposition"] == f'attachment; filename="spring-sale-{campaign.pk}-results.csv"'
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == ["phone", "name", "status", "parts", "sent_at", "delivered_at", "error"]
    assert [row[:4] for row in rows[1:]] == [
        ["+447400000001", "", "FAILED", "1"],
        ["+447400000002", '\'=HYPERLINK("x")', "DELIVERED", "1"],
    ]
    assert rows[1][6] == "Unreachable: the phone is off or out of coverage. (Twilio 30003)"
    assert rows[2][4] == timezone.localtime(now).isoformat(timespec="seconds")


def test_results_need_permission_to_view_campaigns(client, user):
    campaign = CampaignFactory(owner=user, status=S.COMPLETED)
    client.force_login(UserFactory(is_staff=True))

    assert client.get(f"/admin/campaigns/campaign/{campaign.pk}/results.csv").status_code == 403
