"""SIGTERM (what `docker stop`, compose and systemd send) stops a busy qcluster within 10 s, whatever Q_TIMEOUT.

A real `manage.py qcluster` is dispatching a 5,000-message campaign, and another of its workers runs a task
that ignores every request to stop (a two-minute sleep). SIGTERM: the dispatcher stops at its next batch's
end, the sleeper is killed after the grace period, and the whole node is gone in under 10 s with Q_TIMEOUT at
its default half hour. After a restart the campaign completes: every message DELIVERED, none sent twice.
"""

from __future__ import annotations

import os
import signal
import time

import pytest
from django_q.tasks import async_task

from campaigns.services import campaign_start
from tests.campaign_nodes import draft_campaign, finish_as_the_schedules_would, gateway_for_nodes
from tests.cluster import Node, wait_until

KEY = "qcluster-sigterm-signing-key"
MESSAGES = 5000
LEASE_SECONDS = 3


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_sigterm_stops_a_busy_node_in_seconds_and_the_campaign_completes_after(user, live_server, settings, tmp_path):
    settings.SMS_WEBHOOK_SIGNING_KEY = KEY
    campaign = draft_campaign(user, MESSAGES, name="Node stopped", phone_prefix="+4476")

    with gateway_for_nodes(
        live_server.url,
        tmp_path,
        signing_key=KEY,
        SMS_LEASE_SECONDS=str(LEASE_SECONDS),
        Q_TIMEOUT="1800",
        Q_RETRY="1900",
    ) as (gateway, env):
        with Node("node", env, log_dir=tmp_path) as node:
            async_task("time.sleep", 120)  # a task that never looks up: only the grace period ends it
            campaign_start(campaign=campaign)
            assert wait_until(lambda: gateway.stats()["accepted"] >= MESSAGES // 5, seconds=120), node.tail()

            asked = time.monotonic()
            os.kill(node.process.pid, signal.SIGTERM)
            gone = wait_until(lambda: not node.pids(), seconds=30)
            took = time.monotonic() - asked
            stopped_at = gateway.stats()["accepted"]
            log = node.tail(80)

            node.start()
            node.wait_ready()

            # Anything a killed worker held is taken up again once its lease expires.
            delivered, completed = finish_as_the_schedules_would(
                campaign, messages=MESSAGES, lease_seconds=LEASE_SECONDS
            )
        stats = gateway.stats()

    assert gone, log
    assert took < 10, (took, log)
    assert "stopping; tasks end at their next safe point" in log
    assert stopped_at < MESSAGES, "the campaign was sent before the node was stopped; the test proves nothing"
    assert delivered, node.tail()
    assert completed
    assert (stats["duplicate_ids"], stats["duplicate_receipts"]) == (0, 0)
