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

from campaigns.models import Campaign
from campaigns.services import campaign_start
from messaging.models import Message
from tests.campaign_nodes import draft_campaign, finish_as_the_schedules_would, gateway_for_nodes
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

            delivered, completed = finish_as_the_schedules_would(
                campaign, messages=MESSAGES, lease_seconds=LEASE_SECONDS
            )
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
