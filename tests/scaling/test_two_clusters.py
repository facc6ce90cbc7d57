"""Scaling out: two qcluster nodes on one Redis broker and one PostgreSQL database dispatch one campaign together.

Nothing but the database coordinates them: each dispatcher claims its batches
with FOR UPDATE SKIP LOCKED, and one that claims a full batch queues another
(up to SMS_DISPATCHERS at once), which a free worker of either node takes. The
gateway simulator counts what it receives per message id, so a message sent by
both nodes shows as a duplicate; each message keeps the name of the dispatcher
that claimed it (host:pid), which tells which node sent it.
"""

from __future__ import annotations

import pytest
from django.db.models import Count

from campaigns.services import campaign_start
from messaging.models import Message
from tests.campaign_nodes import draft_campaign, gateway_for_nodes
from tests.cluster import Node, wait_until, worker_pid

KEY = "two-clusters-signing-key"
MESSAGES = 3000


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_nodes_share_a_campaign_without_sending_a_message_twice_or_losing_one(
    user, live_server, settings, tmp_path
):
    settings.SMS_WEBHOOK_SIGNING_KEY = KEY
    campaign = draft_campaign(user, MESSAGES, name="Two nodes", phone_prefix="+4476")

    # Two workers a node and four dispatchers: once one node's workers are all sending, the next recruit
    # can only be taken by the other node.
    nodes = gateway_for_nodes(live_server.url, tmp_path, signing_key=KEY, Q_WORKERS="2", SMS_DISPATCHERS="4")
    with nodes as (gateway, env):
        with Node("a", env, log_dir=tmp_path) as a, Node("b", env, log_dir=tmp_path) as b:
            campaign_start(campaign=campaign)
            delivered = wait_until(lambda: Message.objects.filter(status="DELIVERED").count() == MESSAGES, seconds=120)
            dispatchers = dict(Message.objects.values_list("claimed_by").annotate(n=Count("id")))
            # Read while the nodes live: a dispatcher's pid belongs to the process group of its node.
            a_pids, b_pids = a.pids(), b.pids()
            logs = a.tail() + "\n" + b.tail()
        stats = gateway.stats()

    sent_by = {"a": 0, "b": 0, "unknown": 0}
    for name, count in dispatchers.items():
        pid = worker_pid(name)
        sent_by["a" if pid in a_pids else "b" if pid in b_pids else "unknown"] += count
    statuses = dict(Message.objects.values_list("status").annotate(n=Count("id")))
    assert delivered, (statuses, logs)
    assert Message.objects.filter(campaign=campaign).count() == MESSAGES
    assert stats["accepted"] == MESSAGES
    assert stats["duplicate_receipts"] == 0, stats["duplicates"][:5]
    assert sent_by["unknown"] == 0, (dispatchers, a_pids, b_pids)
    assert sent_by["a"] > 0, sent_by
    assert sent_by["b"] > 0, sent_by
