"""Cancelling moves the campaign at once; its QUEUED messages turn CANCELLED in a worker, and the
stats and completion read right in between."""

import pytest

from campaigns import services, tasks
from campaigns.models import Campaign
from campaigns.selectors import campaign_stats
from campaigns.tests.factories import CampaignFactory
from messaging import dispatcher
from messaging.models import Message
from messaging.tests.factories import MessageFactory

S = Campaign.Status
M = Message.Status


@pytest.fixture
def cancelled(user):
    campaign = CampaignFactory(owner=user, status=S.RUNNING)
    MessageFactory.create_batch(3, owner=user, campaign=campaign)
    MessageFactory(owner=user, campaign=campaign, status=M.DELIVERED)
    return services.campaign_cancel(campaign=campaign)


def test_the_request_leaves_the_messages_to_the_worker(cancelled):
    assert Message.objects.filter(campaign=cancelled, status=M.QUEUED).count() == 3


def test_no_message_of_a_cancelled_campaign_is_claimed_before_the_worker_runs(cancelled):
    assert dispatcher.claim_due(worker="w1", limit=10) == []


def test_the_stats_count_its_queued_messages_as_cancelled_before_and_after_the_worker(cancelled):
    before = campaign_stats(campaign=cancelled)
    tasks.sync_messages(cancelled.pk)
    after = campaign_stats(campaign=cancelled)

    for stats in (before, after):
        assert (stats["by_status"]["QUEUED"], stats["by_status"]["CANCELLED"]) == (0, 3)
        assert stats["progress_percent"] == 100.0
        assert stats["estimated_completion_at"] is None


def test_the_worker_cancels_them_with_a_reason_and_the_campaign_stays_cancelled(cancelled):
    tasks.sync_messages(cancelled.pk)
    tasks.tick()

    cancelled.refresh_from_db()
    assert (cancelled.status, bool(cancelled.completed_at)) == (S.CANCELLED, True)
    assert set(Message.objects.filter(campaign=cancelled, status=M.CANCELLED).values_list("error", flat=True)) == {
        "The campaign was cancelled."
    }


def test_a_paused_campaign_cancelled_has_its_held_messages_cancelled(user):
    campaign = CampaignFactory(owner=user, status=S.RUNNING)
    MessageFactory.create_batch(2, owner=user, campaign=campaign)
    services.campaign_pause(campaign=campaign)
    tasks.sync_messages(campaign.pk)
    services.campaign_cancel(campaign=campaign)

    assert tasks.sync_messages(campaign.pk) == 2
    assert not Message.objects.filter(campaign=campaign, status=M.QUEUED).exists()


def test_the_minute_clock_still_cancels_them_when_the_worker_task_was_lost(cancelled):
    assert tasks.tick()["cancelled_messages"] == 3
    assert not Message.objects.filter(campaign=cancelled, status=M.QUEUED).exists()


def test_a_message_back_in_the_queue_after_the_cancel_is_cancelled_by_the_clock_and_never_sent(user, settings):
    from messaging import tasks as messaging_tasks
    from messaging.backends.locmem import LocmemBackend

    settings.SMS_BACKEND = "locmem"
    LocmemBackend.reset()
    campaign = CampaignFactory(owner=user, status=S.CANCELLED)
    message = MessageFactory(owner=user, campaign=campaign)  # back in the queue after the cancel

    result = tasks.tick()
    messaging_tasks.dispatch_tick()

    assert result["cancelled_messages"] == 1
    assert Message.objects.get(pk=message.pk).status == M.CANCELLED
    assert LocmemBackend.outbox == []
