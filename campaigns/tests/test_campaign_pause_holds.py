"""Pausing holds a campaign's QUEUED messages out of the dispatcher's claim; resuming releases them."""

import threading
import time

import pytest
from django.db import connection, transaction
from django_q.models import OrmQ

from campaigns import services, tasks
from campaigns.fanout import campaign_fan_out
from campaigns.message_sync import campaign_sync_messages
from campaigns.models import Campaign
from campaigns.tests.factories import CampaignFactory
from messaging import dispatcher
from messaging.models import Message
from messaging.tests.factories import MessageFactory

S = Campaign.Status
M = Message.Status


@pytest.fixture
def running(user):
    campaign = CampaignFactory(owner=user, status=S.RUNNING)
    MessageFactory.create_batch(3, owner=user, campaign=campaign)
    return campaign


def held_count(campaign) -> int:
    return Message.objects.filter(campaign=campaign, status=M.QUEUED, held=True).count()


def test_pause_queues_a_sync_that_holds_the_queued_messages(api, running, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        api.post(f"/api/v1/campaigns/{running.pk}/pause")

    assert [q.func() for q in OrmQ.objects.all()] == ["campaigns.tasks.sync_messages"]
    assert held_count(running) == 0  # the request itself writes no message
    assert tasks.sync_messages(running.pk) == 3
    assert held_count(running) == 3


def test_a_paused_campaign_has_nothing_claimed_before_or_after_its_sync(user, running):
    direct = MessageFactory(owner=user)
    services.campaign_pause(campaign=running)

    before_sync = dispatcher.claim_due(worker="w1", limit=10)
    campaign_sync_messages(campaign_id=running.pk)
    after_sync = dispatcher.claim_due(worker="w1", limit=10)

    assert [c.id for c in before_sync] == [direct.pk]
    assert after_sync == []
    assert Message.objects.filter(campaign=running, status=M.QUEUED).count() == 3


def test_resume_releases_the_held_messages_to_the_dispatcher(running):
    services.campaign_pause(campaign=running)
    campaign_sync_messages(campaign_id=running.pk)
    services.campaign_resume(campaign=running)

    assert dispatcher.claim_due(worker="w1", limit=10) == []  # still held until the sync runs
    assert campaign_sync_messages(campaign_id=running.pk) == 3
    assert len(dispatcher.claim_due(worker="w1", limit=10)) == 3


def test_a_sync_run_twice_moves_nothing_the_second_time(running):
    services.campaign_pause(campaign=running)

    assert (campaign_sync_messages(campaign_id=running.pk), campaign_sync_messages(campaign_id=running.pk)) == (3, 0)


def test_a_sync_leaves_sent_messages_and_other_campaigns_alone(user, running):
    other = CampaignFactory(owner=user, status=S.RUNNING)
    MessageFactory(owner=user, campaign=other)
    sent = Message.objects.filter(campaign=running).first()
    Message.objects.filter(pk=sent.pk).update(status=M.SENT)
    services.campaign_pause(campaign=running)

    campaign_sync_messages(campaign_id=running.pk)

    assert held_count(running) == 2
    assert not Message.objects.filter(held=True).exclude(campaign=running).exists()
    assert not Message.objects.get(pk=sent.pk).held


def test_the_minute_tick_releases_holds_a_lost_resume_sync_left(running):
    services.campaign_pause(campaign=running)
    campaign_sync_messages(campaign_id=running.pk)
    services.campaign_resume(campaign=running)  # its sync task never runs

    result = tasks.tick()

    assert result["released_holds"] == {running.pk: 3}
    assert held_count(running) == 0


def test_a_fan_out_batch_written_while_paused_is_held(user, contacts_import):
    campaign = CampaignFactory(owner=user, import_job=contacts_import, message_content="Hi {{ name }}")
    services.campaign_start(campaign=campaign)
    services.campaign_pause(campaign=campaign)

    campaign_fan_out(campaign_id=campaign.pk)

    assert held_count(campaign) == 3
    assert dispatcher.claim_due(worker="w1", limit=10) == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_pause_during_a_claim_holds_only_what_the_claim_did_not_take(user):
    campaign = CampaignFactory(owner=user, status=S.RUNNING)
    MessageFactory.create_batch(6, owner=user, campaign=campaign)
    claim_open, sync_done = threading.Event(), threading.Event()
    release_claim = threading.Event()
    claimed: list = []

    def claimer() -> None:
        try:
            with transaction.atomic():  # the claim's locks stay held until this commits
                claimed.extend(dispatcher.claim_due(worker="w1", limit=2))
                claim_open.set()
                release_claim.wait(timeout=10)
        finally:
            connection.close()

    def syncer() -> None:
        try:
            campaign_sync_messages(campaign_id=campaign.pk)
        finally:
            sync_done.set()
            connection.close()

    claim_thread = threading.Thread(target=claimer)
    claim_thread.start()
    assert claim_open.wait(timeout=10)
    services.campaign_pause(campaign=campaign)
    sync_thread = threading.Thread(target=syncer)
    sync_thread.start()
    # The sync must be seen waiting on the rows the claim locked, not merely not finished yet.
    assert wait_for_a_lock_wait(), "the sync never waited for the claim's locks"
    assert not sync_done.is_set()
    release_claim.set()
    claim_thread.join()
    sync_thread.join()

    statuses = sorted(Message.objects.filter(campaign=campaign).values_list("status", "held"))
    assert statuses == [(M.QUEUED, True)] * 4 + [(M.SENDING, False)] * 2
    assert dispatcher.claim_due(worker="w2", limit=10) == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_claim_during_a_sync_neither_waits_nor_takes_a_paused_message(user):
    campaign = CampaignFactory(owner=user, status=S.PAUSED)
    MessageFactory.create_batch(4, owner=user, campaign=campaign)
    direct = MessageFactory(owner=user)
    claimed: list = []

    with transaction.atomic():  # a sync that has locked the campaign's rows and not committed yet
        campaign_sync_messages(campaign_id=campaign.pk)
        worker = threading.Thread(
            target=lambda: (claimed.extend(dispatcher.claim_due(worker="w1", limit=10)), connection.close())
        )
        worker.start()
        worker.join(timeout=5)
        assert not worker.is_alive()

    assert [c.id for c in claimed] == [direct.pk]
    assert held_count(campaign) == 4


def wait_for_a_lock_wait(seconds: float = 10) -> bool:
    """Whether another backend of this database comes to wait on a row or transaction lock."""
    deadline = time.monotonic() + seconds
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                return True
            time.sleep(0.02)
    return False
