"""Benchmark of scaling out: one campaign dispatched by one qcluster node, then by two, at 50 ms gateway latency.

    .venv/bin/python bench/scale_bench.py                     # 10k messages, 1 then 2 nodes
    .venv/bin/python bench/scale_bench.py --messages 4000 --workers 2 --nodes 1,2

For each node count it empties the Redis database (the broker and the cache),
starts the simulator (manage.py fake_gateway, 50 ms before answering each
send, no webhooks) and that many `manage.py qcluster` processes on one Redis
broker and one PostgreSQL database (inboxerr_scalebench), each with the same
Q_WORKERS. Once every node is up it creates the campaign as the product does
(an import of N contacts, a campaign with a merge field, campaigns.services
campaign_start), so the fan-out and the dispatcher's wake-ups are the nodes'
own, and waits until every message is SENT. Wall time runs from the start call
to the last message recorded; messages/s is N over that. It checks the two
things that must be zero, duplicates (ids the simulator received more than
once) and lost messages (not SENT), and counts the messages each node sent
(Message.claimed_by holds the dispatcher's pid, which belongs to one node's
process group). How many dispatchers share the work is the product's own
doing: a dispatcher that claims a full batch recruits another, up to
SMS_DISPATCHERS across all nodes, which the benchmark sets to `--dispatchers`
(4: every worker of two nodes). Writes bench/out/scale_bench.json.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
DB_NAME = "inboxerr_scalebench"
DB_URL = f"postgres://postgres@127.0.0.1:5432/{DB_NAME}"
BENCH_ENV = {
    "DATABASE_URL": DB_URL,
    "DJANGO_SETTINGS_MODULE": "inboxerr.settings",
    "DEBUG": "false",  # no query log growing with every batch
    "SECRET_KEY": "bench-only-throwaway-secret-key-" + "x" * 40,
    # Its own task queue on Redis: no other cluster there takes the benchmark's tasks.
    "Q_CLUSTER_NAME": "inboxerr-scalebench",
}

sys.path.insert(0, str(ROOT))
from tests.cluster import Node, flush_redis, node_environment, wait_until, worker_pid  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def setup_database(redis_url: str) -> None:
    """Create and migrate the benchmark's database, then set Django up in this process on it and on Redis."""
    import psycopg

    with psycopg.connect(DB_URL.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DB_NAME]).fetchone():
            conn.execute(f"CREATE DATABASE {DB_NAME}")
    os.environ.update(BENCH_ENV, REDIS_URL=redis_url)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=os.environ, check=True)
    import django

    django.setup()


def clear_tables() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE messaging_message, messaging_messageevent, messaging_ratelimitwindow, messaging_gatewayhealth, "
            "campaigns_campaign, imports_contact, imports_importjob, django_q_task CASCADE"
        )


def draft_campaign(messages: int):
    """An import of N contacts and a DRAFT campaign on it with a merge field, through the campaign service."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from campaigns.services import campaign_create
    from imports.models import Contact, ImportJob

    owner, _ = get_user_model().objects.get_or_create(username="scalebench")
    now = timezone.now()
    job = ImportJob.objects.create(
        owner=owner, status=ImportJob.Status.SUCCESS, original_filename="scalebench.csv", total_rows=messages,
        imported_rows=messages, started_at=now, finished_at=now,
    )  # fmt: skip
    Contact.objects.bulk_create(
        (
            Contact(import_job=job, owner=owner, phone=f"+4477{i:08d}", name=f"Contact {i}", row_number=i + 2)
            for i in range(messages)
        ),
        batch_size=5000,
    )
    return campaign_create(owner_id=owner.pk, name="Scale bench", message_content="Hello {{ name }}", import_job=job)


def run(*, messages: int, nodes: int, workers: int, dispatchers: int, latency_ms: int, redis_url: str) -> dict:
    from django.db.models import Count

    from campaigns.services import campaign_start
    from messaging.models import Message

    flush_redis(redis_url)
    clear_tables()
    campaign = draft_campaign(messages)
    port = free_port()
    logs = Path(tempfile.mkdtemp(prefix="scale_bench-"))
    (logs / "metrics").mkdir()
    env = node_environment(
        database_url=DB_URL, redis_url=redis_url, gateway_url=f"http://127.0.0.1:{port}",
        Q_WORKERS=str(workers), SMS_DISPATCHERS=str(dispatchers), PROMETHEUS_MULTIPROC_DIR=str(logs / "metrics"),
        **BENCH_ENV,
    )  # fmt: skip
    gateway = subprocess.Popen(
        [sys.executable, "manage.py", "fake_gateway", "--port", str(port), "--latency-ms", str(latency_ms),
         "--no-default-webhooks", "--login", "sim", "--password", "sim"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    started = [Node(f"bench-{i}", env, log_dir=logs).start() for i in range(nodes)]
    try:
        wait_for(f"http://127.0.0.1:{port}/stats")
        for node in started:
            node.wait_ready(seconds=120)
        sent = Message.objects.filter(campaign=campaign, status=Message.Status.SENT)
        began = time.monotonic()
        campaign_start(campaign=campaign)
        done = wait_until(lambda: sent.count() == messages, seconds=600, interval=0.05)
        wall = time.monotonic() - began
        stats = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{port}/stats").read())
        dispatchers = dict(Message.objects.filter(campaign=campaign).values_list("claimed_by").annotate(n=Count("id")))
        groups = [node.pids() for node in started]  # read while the nodes live
    finally:
        for node in started:
            node.stop()
        gateway.terminate()
        gateway.wait()

    per_node = [sum(n for name, n in dispatchers.items() if name and worker_pid(name) in pids) for pids in groups]
    recorded = sent.count()
    return {
        "messages": messages,
        "nodes": nodes,
        "workers_per_node": workers,
        "latency_ms": latency_ms,
        "finished": done,
        "seconds": round(wall, 2),
        "messages_per_s": round(recorded / wall),
        "duplicates": stats["duplicate_receipts"],
        "lost": messages - recorded,
        "gateway_accepted": stats["accepted"],
        "dispatcher_processes": len([name for name in dispatchers if name]),
        "per_node_sent": per_node,
        "logs": str(logs),
    }


def wait_for(url: str) -> None:
    if not wait_until(lambda: _answers(url), seconds=30):
        raise RuntimeError(f"{url} did not come up")


def _answers(url: str) -> bool:
    try:
        urllib.request.urlopen(url, timeout=1)
        return True
    except OSError:
        return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--nodes", default="1,2", help="Node counts to run, comma-separated.")
    parser.add_argument("--workers", type=int, default=2, help="Q_WORKERS of every node.")
    parser.add_argument("--dispatchers", type=int, default=4, help="SMS_DISPATCHERS: dispatchers at once, all nodes.")
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/5", help="Flushed at every run: its own db.")
    args = parser.parse_args()
    setup_database(args.redis_url)

    results = [
        run(messages=args.messages, nodes=int(n), workers=args.workers, dispatchers=args.dispatchers,
            latency_ms=args.latency_ms, redis_url=args.redis_url)
        for n in args.nodes.split(",")
    ]  # fmt: skip
    one = next((r for r in results if r["nodes"] == 1), None)
    for r in results:
        r["ratio_to_one_node"] = round(r["messages_per_s"] / one["messages_per_s"], 2) if one else None
    command = " ".join(["python bench/scale_bench.py", *sys.argv[1:]])
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "scale_bench.json").write_text(json.dumps({"command": command, "results": results}, indent=2))
    print(f"$ {command}\n\n({os.cpu_count()} CPUs shared by the nodes, the simulator and PostgreSQL)\n")
    print("| nodes | workers each | messages | seconds | messages/s | ratio to 1 node | sent per node "
          "| duplicates | lost |")  # fmt: skip
    print("|---:|---:|---:|---:|---:|---:|---|---:|---:|")
    for r in results:
        per_node = " / ".join(f"{n:,}" for n in r["per_node_sent"])
        print(f"| {r['nodes']} | {r['workers_per_node']} | {r['messages']:,} | {r['seconds']} "
              f"| {r['messages_per_s']:,} | {r['ratio_to_one_node']} | {per_node} | {r['duplicates']} "
              f"| {r['lost']} |")  # fmt: skip
    clean = all(r["finished"] and r["duplicates"] == 0 and r["lost"] == 0 for r in results)
    print(f"\n{'PASS' if clean else 'FAIL'}  no duplicate and no lost message")
    sys.exit(0 if clean else 1)


if __name__ == "__main__":
    main()
