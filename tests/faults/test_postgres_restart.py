"""Fault: PostgreSQL restarts while dispatchers are sending.

Two real dispatcher processes send through the android backend to the gateway
simulator, against a private PostgreSQL server of this test's own (the shared
one is never touched). The server is restarted twice while messages are in
flight, once cleanly (-m fast) and once as if it crashed (-m immediate). The
same two processes must carry on and send everything, each message exactly once.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from messaging.simulator import SimulatorConfig, SimulatorThread
from tests.cluster import kill_group, start_group, tail, wait_until
from tests.faults._pg import PrivatePostgres, why_unavailable

MESSAGES = 2000

SETUP = """
import sys, django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from inboxerr.tests.factories import UserFactory
from messaging.models import Message
user = UserFactory()
count = int(sys.argv[1])
Message.objects.bulk_create(
    [Message(owner=user, phone=f"+4474{i:08d}", content=f"Restart test {i}") for i in range(count)], batch_size=1000
)
"""

# A django-q2 worker's life without the queue: fresh connections checked before each task, then the task.
# Nothing here catches an error: a dispatcher that cannot ride out the restart takes its process down.
WORKER = """
import sys, time, django
django.setup()
from django.db import close_old_connections
from messaging.dispatcher import dispatch
while True:
    close_old_connections()
    if not dispatch(worker=sys.argv[1], seconds=5).claimed:
        time.sleep(0.2)
"""


@pytest.fixture
def private_postgres():
    reason = why_unavailable()
    if reason:
        pytest.skip(reason)
    server = PrivatePostgres()
    try:
        yield server.start()
    finally:
        server.stop()


def status_counts(pg: PrivatePostgres) -> dict[str, int]:
    return dict(pg.query("SELECT status, count(*) FROM messaging_message GROUP BY status"))


def sending_now(pg: PrivatePostgres) -> bool:
    return bool(pg.query("SELECT 1 FROM messaging_message WHERE status = 'SENDING' LIMIT 1"))


@pytest.mark.postgres
def test_dispatchers_ride_out_a_postgres_restart_and_send_each_message_once(private_postgres, tmp_path: Path):
    pg = private_postgres
    metrics = tmp_path / "prometheus"
    metrics.mkdir()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "inboxerr.settings",
        "DATABASE_URL": pg.url,
        "PROMETHEUS_MULTIPROC_DIR": str(metrics),
        "SMS_BACKEND": "android",
        "SMS_GATEWAY_LOGIN": "sim",
        "SMS_GATEWAY_PASSWORD": "sim",
        # Small batches, few in flight, a slow gateway: sending lasts long enough to restart under it.
        "SMS_DISPATCH_BATCH": "50",
        "SMS_CONCURRENCY": "25",
    }
    env.pop("REDIS_URL", None)
    setup = start_group(["-c", SETUP, str(MESSAGES)], env=env, log=tmp_path / "setup.log")
    assert setup.wait(timeout=180) == 0, tail(tmp_path / "setup.log")
    assert status_counts(pg) == {"QUEUED": MESSAGES}

    with SimulatorThread(SimulatorConfig(port=0, latency_ms=200)) as gateway:
        env["SMS_GATEWAY_URL"] = gateway.url
        logs = {name: tmp_path / f"{name}.log" for name in ("first", "second")}
        workers = {name: start_group(["-c", WORKER, name], env=env, log=log) for name, log in logs.items()}

        def alive() -> bool:
            # A dead worker fails the test at once rather than at the end of a long wait.
            for name, process in workers.items():
                assert process.poll() is None, f"worker {name} died:\n{tail(logs[name])}"
            return True

        def in_flight_past(accepted: int) -> bool:
            return alive() and gateway.stats()["accepted"] >= accepted and sending_now(pg)

        try:
            restarted_at = {}
            for mode, share in (("fast", 4), ("immediate", 2)):
                assert wait_until(lambda n=MESSAGES // share: in_flight_past(n), seconds=120), status_counts(pg)
                pg.restart(mode)
                restarted_at[mode] = (datetime.now(UTC), gateway.stats()["accepted"])

            done = wait_until(lambda: alive() and status_counts(pg) == {"SENT": MESSAGES}, seconds=120, interval=0.5)
            stats = gateway.stats()
            still_running = alive()
        finally:
            for process in workers.values():
                kill_group(process)

    last_restart, accepted_before = restarted_at["immediate"]
    senders_after = {
        worker for (worker,) in pg.query(
            "SELECT DISTINCT claimed_by FROM messaging_message WHERE sent_at > %s", (last_restart,)
        )
    }  # fmt: skip
    assert accepted_before < MESSAGES, "everything was sent before the last restart; the test proves nothing"
    assert done, (status_counts(pg), tail(logs["first"]), tail(logs["second"]))
    assert still_running, "the workers that were sending before the restarts carry on after them"
    assert senders_after == {"first", "second"}
    assert stats["accepted"] == MESSAGES
    assert stats["duplicate_receipts"] == 0, stats["duplicates"][:5]
