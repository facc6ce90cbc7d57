"""Fault: a whole worker node (qcluster sentinel, pusher, monitor, workers) killed with SIGKILL mid-campaign.

A real `manage.py qcluster` on the Redis broker fans a 5,000-contact campaign
out and dispatches it through the android backend to the gateway simulator,
which posts signed receipts to a live server. While messages are in flight its
whole process group is killed: the tasks it had taken from Redis are gone with
it, and its claimed messages stay SENDING under a lease. After a restart the
dispatcher's safety net returns the expired leases to the queue, asks the
gateway about each before sending it again, and the campaign completes with
every message DELIVERED and no id sent twice.
"""

from __future__ import annotations

import pytest
from django.db.models import Count
from django.utils import timezone
from django_q.tasks import async_task

from campaigns.models import Campaign
from campaigns.services import campaign_start
from messaging.models import Message
from tests.campaign_nodes import draft_campaign, gateway_for_nodes
from tests.cluster import Node, wait_until

KEY = "qcluster-fault-signing-key"
MESSAGES = 5000
LEASE_SECONDS = 3


def sending() -> int:
    return Message.objects.filter(status=Message.Status.SENDING).count()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_node_killed_mid_campaign_loses_no_message_and_sends_none_twice(user, live_server, settings, tmp_path):
    settings.SMS_WEBHOOK_SIGNING_KEY = KEY
    campaign = draft_campaign(user, MESSAGES, name="Node failure", phone_prefix="+4475")

    with gateway_for_nodes(live_server.url, tmp_path, signing_key=KEY, SMS_LEASE_SECONDS=str(LEASE_SECONDS)) as (
        gateway,
        env,
    ):
        with Node("node", env, log_dir=tmp_path) as node:
            campaign_start(campaign=campaign)

            def mid_campaign() -> bool:
                accepted = gateway.stats()["accepted"]
                fanned_out = Campaign.objects.filter(pk=campaign.pk, fanout_completed_at__isnull=False).exists()
                return fanned_out and accepted >= MESSAGES // 5 and sending() > 0

            assert wait_until(mid_campaign, seconds=120), (gateway.stats(), node.tail())
            node.kill()
            killed_at = gateway.stats()["accepted"]
            stuck = sending()

            node.start()
            node.wait_ready()

            # What the one-minute schedule does, run as soon as the dead node's leases have expired rather
            # than up to a minute later: expired leases back to QUEUED (checked with the gateway), then dispatch.
            def leases_expired() -> bool:
                return not Message.objects.filter(status="SENDING", lease_expires_at__gte=timezone.now()).exists()

            assert wait_until(leases_expired, seconds=LEASE_SECONDS + 30)
            async_task("messaging.tasks.dispatch_tick")
            delivered = wait_until(lambda: Message.objects.filter(status="DELIVERED").count() == MESSAGES, seconds=120)
            # Likewise the campaign clock, which completes a campaign with nothing left to send.
            async_task("campaigns.tasks.tick")
            completed = wait_until(lambda: Campaign.objects.get(pk=campaign.pk).status == "COMPLETED", seconds=60)
            log = node.tail()
        stats = gateway.stats()

    statuses = dict(Message.objects.values_list("status").annotate(n=Count("id")))
    assert killed_at < MESSAGES, "the node finished before it was killed; the test proves nothing"
    assert stuck > 0, "the node held no message when it was killed; the test proves nothing"
    assert delivered, (statuses, log)
    assert completed, (Campaign.objects.get(pk=campaign.pk).status, log)
    assert Message.objects.filter(campaign=campaign).count() == MESSAGES
    assert stats["accepted"] == MESSAGES
    assert stats["duplicate_receipts"] == 0, (stuck, stats["duplicates"][:5])
