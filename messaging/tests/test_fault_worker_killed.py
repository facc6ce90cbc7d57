"""Fault: a dispatcher process killed with SIGKILL mid-run loses no message and sends none twice.

A real worker process sends through the android backend to the gateway
simulator (which posts signed receipts to a live server); it is killed while
messages are in flight, a second worker takes over once the leases expire, and
every message must end DELIVERED with the simulator having received each id once.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection
from django.db.models import Count

from messaging.models import Message
from messaging.simulator import SimulatorConfig, SimulatorThread
from tests.cluster import wait_until

ROOT = Path(__file__).resolve().parents[2]
KEY = "fault-signing-key"
MESSAGES = 3000
LEASE_SECONDS = 3

WORKER = """
import sys, time, django
django.setup()
from messaging.dispatcher import dispatch, release_expired_leases
deadline = time.time() + float(sys.argv[2])
while time.time() < deadline:
    release_expired_leases()
    report = dispatch(worker=sys.argv[1], seconds=5)
    if not report.claimed:
        time.sleep(0.2)
"""


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_batch_loses_nothing_and_sends_nothing_twice(user, live_server, settings):
    config = SimulatorConfig(port=0, latency_ms=50, webhook_delay_ms=5, signing_key=KEY,
                             webhook_urls=[f"{live_server.url}/api/v1/webhooks/android"])  # fmt: skip
    settings.SMS_WEBHOOK_SIGNING_KEY = KEY
    Message.objects.bulk_create(
        [Message(owner=user, phone=f"+4474{i:08d}", content=f"Fault test {i}") for i in range(MESSAGES)]
    )
    with SimulatorThread(config) as gateway:
        db = connection.settings_dict
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "inboxerr.settings",
            "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
            "SMS_BACKEND": "android",
            "SMS_GATEWAY_URL": gateway.url,
            "SMS_GATEWAY_LOGIN": "sim",
            "SMS_GATEWAY_PASSWORD": "sim",
            "SMS_LEASE_SECONDS": str(LEASE_SECONDS),
            "SMS_DISPATCH_BATCH": "200",
        }

        def worker(name: str, seconds: int) -> subprocess.Popen:
            return subprocess.Popen([sys.executable, "-c", WORKER, name, str(seconds)], cwd=ROOT, env=env)

        first = worker("doomed", 120)
        in_flight = lambda: Message.objects.filter(status="SENDING").exists()  # noqa: E731
        assert wait_until(lambda: gateway.stats()["accepted"] >= MESSAGES // 4 and in_flight(), seconds=60)
        os.kill(first.pid, signal.SIGKILL)  # mid-batch: messages claimed, some of them already at the gateway
        first.wait()
        killed_at = gateway.stats()["accepted"]
        stuck = Message.objects.filter(status="SENDING").count()

        second = worker("survivor", 90)
        try:
            done = wait_until(lambda: Message.objects.filter(status="DELIVERED").count() == MESSAGES, seconds=90)
        finally:
            second.kill()
            second.wait()
        stats = gateway.stats()

    statuses = dict(Message.objects.values_list("status").annotate(n=Count("id")))
    assert killed_at < MESSAGES, "the worker finished before it could be killed; the test proves nothing"
    assert done, statuses
    assert stats["accepted"] == MESSAGES
    assert stats["duplicate_receipts"] == 0, (stuck, stats["duplicates"][:5])
