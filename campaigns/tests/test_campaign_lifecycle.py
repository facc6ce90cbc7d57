"""Every lifecycle transition, legal and illegal, through the API."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from django_q.models import OrmQ

from campaigns import services, tasks
from campaigns.fanout import campaign_fan_out
from campaigns.models import Campaign
from campaigns.tests.factories import CampaignFactory
from messaging.models import Message
from messaging.tests.factories import MessageFactory

S = Campaign.Status
ACTIONS = {
    "start": {S.DRAFT},
    "pause": {S.RUNNING},
    "resume": {S.PAUSED},
    "cancel": {S.DRAFT, S.SCHEDULED, S.RUNNING, S.PAUSED},
}


@pytest.fixture
def draft(user, contacts_import):
    return CampaignFactory(owner=user, import_job=contacts_import, message_content="Hi {{ name }}")


def test_start_runs_the_campaign_and_queues_its_fan_out(api, draft, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(f"/api/v1/campaigns/{draft.pk}/start")

    assert response.status_code == 202
    assert response["Location"].endswith(f"/api/v1/campaigns/{draft.pk}/stats")
    draft.refresh_from_db()
    assert draft.status == S.RUNNING
    assert draft.started_at
    assert [q.func() for q in OrmQ.objects.all()] == ["campaigns.tasks.fan_out"]
    assert not Message.objects.exists()  # the request creates nothing; the worker does


def test_start_with_a_future_time_schedules_it(api, draft):
    draft.scheduled_at = timezone.now() + timedelta(hours=1)
    draft.save()

    response = api.post(f"/api/v1/campaigns/{draft.pk}/start")

    assert response.status_code == 202
    assert response.json()["status"] == "SCHEDULED"


def test_a_scheduled_campaign_starts_once_its_time_has_come(draft):
    draft.status, draft.scheduled_at = S.SCHEDULED, timezone.now() + timedelta(seconds=30)
    draft.save()

    early = services.campaigns_start_due()
    due = services.campaigns_start_due(now=timezone.now() + timedelta(seconds=31))

    draft.refresh_from_db()
    assert (early, due) == ([], [draft.pk])
    assert draft.status == S.RUNNING


def test_start_checks_the_variables_again(api, user, draft):
    Campaign.objects.filter(pk=draft.pk).update(message_content="Hi {{ tier }}")

    response = api.post(f"/api/v1/campaigns/{draft.pk}/start")

    assert response.status_code == 400
    assert response.json()["error"]["details"]["missing"] == ["tier"]
    draft.refresh_from_db()
    assert draft.status == S.DRAFT


def test_start_needs_a_finished_import(api, user):
    campaign = CampaignFactory(owner=user, import_job=None)

    response = api.post(f"/api/v1/campaigns/{campaign.pk}/start")

    assert response.status_code == 409
    assert "no import" in response.json()["error"]["message"]


@pytest.mark.parametrize(("action", "status"), [(a, s) for a in ACTIONS for s in S.values])
def test_each_action_is_legal_only_from_its_statuses(api, user, contacts_import, action, status):
    campaign = CampaignFactory(owner=user, import_job=contacts_import, status=status)

    response = api.post(f"/api/v1/campaigns/{campaign.pk}/{action}")

    campaign.refresh_from_db()
    if status in ACTIONS[action]:
        assert response.status_code in (200, 202)
    else:
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "illegal_transition"
        assert response.json()["error"]["details"] == {"status": status}
        assert campaign.status == status


def test_pause_and_resume(api, draft):
    services.campaign_start(campaign=draft)

    paused = api.post(f"/api/v1/campaigns/{draft.pk}/pause")
    resumed = api.post(f"/api/v1/campaigns/{draft.pk}/resume")

    assert (paused.json()["status"], resumed.json()["status"]) == ("PAUSED", "RUNNING")


def test_cancel_turns_every_queued_message_cancelled_and_leaves_the_rest(
    api, draft, django_capture_on_commit_callbacks
):
    services.campaign_start(campaign=draft)
    campaign_fan_out(campaign_id=draft.pk)
    sent = Message.objects.filter(campaign=draft).first()
    Message.objects.filter(pk=sent.pk).update(status=Message.Status.SENT)
    OrmQ.objects.all().delete()

    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(f"/api/v1/campaigns/{draft.pk}/cancel")

    assert response.status_code == 200
    draft.refresh_from_db()
    assert draft.status == S.CANCELLED
    assert draft.completed_at
    # The request moves the campaign; a worker cancels its messages.
    assert [q.func() for q in OrmQ.objects.all()] == ["campaigns.tasks.sync_messages"]
    assert tasks.sync_messages(draft.pk) == 2
    statuses = dict(Message.objects.filter(campaign=draft).values_list("phone", "status"))
    assert sorted(statuses.values()) == ["CANCELLED", "CANCELLED", "SENT"]


def test_cancel_leaves_other_campaigns_and_direct_messages_alone(api, user, draft):
    other = CampaignFactory(owner=user, status=S.RUNNING)
    MessageFactory(owner=user, campaign=other)
    MessageFactory(owner=user)

    api.post(f"/api/v1/campaigns/{draft.pk}/cancel")
    tasks.sync_messages(draft.pk)

    assert not Message.objects.filter(status=Message.Status.CANCELLED).exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_starts_start_once_and_never_double_a_message(user, contacts_import):
    campaign = CampaignFactory(owner=user, import_job=contacts_import, message_content="Hi {{ name }}")
    barrier = threading.Barrier(2)
    outcomes = []

    def start():
        try:
            barrier.wait()
            services.campaign_start(campaign=Campaign.objects.get(pk=campaign.pk))
            outcomes.append("started")
        except Exception as exc:
            outcomes.append(type(exc).__name__)
        finally:
            connection.close()

    threads = [threading.Thread(target=start) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Both fan-outs run (a retried task would): still one message per contact.
    Campaign.objects.filter(pk=campaign.pk).update(fanout_heartbeat_at=None)
    campaign_fan_out(campaign_id=campaign.pk)
    Campaign.objects.filter(pk=campaign.pk).update(fanout_heartbeat_at=None, fanout_completed_at=None)
    campaign_fan_out(campaign_id=campaign.pk)

    assert sorted(outcomes) == ["Conflict", "started"]
    assert Message.objects.filter(campaign=campaign).count() == 3


def test_a_running_campaign_completes_when_nothing_is_left_to_send(draft):
    from campaigns import tasks

    services.campaign_start(campaign=draft)
    campaign_fan_out(campaign_id=draft.pk)
    Message.objects.filter(campaign=draft).exclude(phone="+447400000000").update(status=Message.Status.DELIVERED)

    waiting = tasks.tick()["completed"]
    Message.objects.filter(campaign=draft).update(status=Message.Status.FAILED)
    finished = tasks.tick()["completed"]

    draft.refresh_from_db()
    assert (waiting, finished) == (0, 1)
    assert draft.status == S.COMPLETED
    assert draft.completed_at


def test_a_campaign_is_not_completed_before_its_fan_out_finishes(draft):
    services.campaign_start(campaign=draft)

    assert services.campaigns_complete_finished() == 0
