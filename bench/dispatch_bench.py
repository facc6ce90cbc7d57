"""Benchmark of the dispatcher against the local gateway simulator at 50 ms latency.

    .venv/bin/python bench/dispatch_bench.py                    # 10k messages, 1 then 2 workers, 3 rounds
    .venv/bin/python bench/dispatch_bench.py --messages 2000 --workers 2

For each worker count it queues N messages on PostgreSQL (database
inboxerr_dispatchbench), starts the simulator (manage.py fake_gateway, 50 ms before
answering each send) and that many dispatcher processes (each runs
messaging.dispatcher.dispatch with the android backend and its aiohttp
transport), and waits for all messages to be recorded. It reports messages/s
(from the first claim to the last record), p50/p99 queue-to-sent latency, and
checks the two things that must be zero: duplicates (the simulator's count of
ids it received more than once) and lost messages (not SENT in the database).

The baseline, in the same run and for each worker count: as many processes of
the official client alone (AsyncAPIClient on its aiohttp transport, the same
SMS_CONCURRENCY in flight per process, the same message shape) sending the same
number of messages to the same simulator, with no database and no Django: what
the gateway and this machine allow. Rounds alternate between the two (3 by
default) and the medians are compared. Writes bench/out/dispatch_bench.json.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
DB_URL = "postgres://postgres@127.0.0.1:5432/inboxerr_dispatchbench"
TARGET_RATIO = 0.8  # of the official client alone, same simulator and concurrency
ENV = {
    **os.environ,
    "DATABASE_URL": DB_URL,
    "DJANGO_SETTINGS_MODULE": "inboxerr.settings",
    "DEBUG": "false",  # no query log growing with every batch
    "SECRET_KEY": "bench-only-throwaway-secret-key-" + "x" * 40,
    "SMS_BACKEND": "android",
    "SMS_GATEWAY_LOGIN": "sim",
    "SMS_GATEWAY_PASSWORD": "sim",
    "PYTHONPATH": str(ROOT),
}


def dispatcher_script(*, done: str, wait_for_go: bool = False) -> str:
    """A dispatcher process (`python -c`; argv: its worker name, then the bench's own argument): prints "ready",
    with `wait_for_go` waits for a line on stdin, then dispatches until `done` (a Python expression over
    Message and sys.argv) holds, and prints its first claim, last record and messages sent as JSON."""
    wait = "sys.stdin.readline()  # every dispatcher starts at once\n" if wait_for_go else ""
    return f"""
import json, sys, time, django
django.setup()
from messaging.dispatcher import dispatch
from messaging.models import Message
first, last, sent = None, None, 0
print("ready", flush=True)
{wait}deadline = time.time() + 300
while time.time() < deadline:
    started = time.time()
    report = dispatch(worker=sys.argv[1], seconds=60)
    if report.claimed:
        first, last, sent = first or started, time.time(), sent + report.sent
    elif {done}:
        break
    else:
        time.sleep(0.02)
print(json.dumps({{"first_claim": first, "last_record": last, "sent": sent}}))
"""


# It polls until all argv[2] queued messages are recorded, so it can start before the messages are queued and
# queue-to-sent latency excludes its own start-up.
WORKER = dispatcher_script(done='Message.objects.exclude(status__in=["QUEUED", "SENDING"]).count() >= int(sys.argv[2])')

# The baseline's process: the official client alone sends its share, SMS_CONCURRENCY at a time, once told to go
# (every process is up first, as the dispatchers are before their messages are queued).
BARE_CLIENT = """
import asyncio, json, sys, time, uuid
import aiohttp
from android_sms_gateway import client, domain
from android_sms_gateway.ahttp import AiohttpAsyncHttpClient
url, count, concurrency, offset = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])

async def main():
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        api = client.AsyncAPIClient("sim", "sim", base_url=url, http_client=AiohttpAsyncHttpClient(session))
        semaphore, sent = asyncio.Semaphore(concurrency), 0

        async def one(n):
            nonlocal sent
            text = domain.TextMessage(text=f"Benchmark message {n}")
            message = domain.Message(phone_numbers=[f"+4474{n:08d}"], text_message=text, with_delivery_report=True,
                                     id=str(uuid.uuid4()))
            async with semaphore:
                await api.send(message)
                sent += 1

        print("ready", flush=True)
        sys.stdin.readline()
        started = time.time()
        await asyncio.gather(*(one(offset + n) for n in range(count)))
        print(json.dumps({"first_claim": started, "last_record": time.time(), "sent": sent}))

asyncio.run(main())
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def setup_database() -> None:
    import psycopg

    with psycopg.connect(DB_URL.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = 'inboxerr_dispatchbench'").fetchone():
            conn.execute("CREATE DATABASE inboxerr_dispatchbench")
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=ENV, check=True)


def sql(statement: str, params=()):
    import psycopg

    with psycopg.connect(DB_URL, autocommit=True) as conn:
        cursor = conn.execute(statement, params)
        return cursor.fetchall() if cursor.description else None


def queue_messages(count: int) -> None:
    """N QUEUED direct messages, created now (one statement), with every column the model requires."""
    sql(
        "TRUNCATE messaging_message, messaging_messageevent, messaging_ratelimitwindow, messaging_gatewayhealth CASCADE"
    )
    sql(
        "INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, email, is_staff, "
        "is_active, date_joined) VALUES ('!', false, 'bench', '', '', '', false, true, now()) "
        "ON CONFLICT (username) DO NOTHING"
    )
    sql(
        "INSERT INTO messaging_message (id, owner_id, phone, content, variables, status, attempts, next_attempt_at, "
        "claimed_by, gateway_message_id, parts_count, error, verify_before_send, held, created_at, updated_at) "
        "SELECT gen_random_uuid(), (SELECT id FROM auth_user WHERE username = 'bench'), "
        "'+4474' || lpad(n::text, 8, '0'), "
        "'Benchmark message ' || n, '{}', 'QUEUED', 0, now(), '', '', 1, '', false, false, now(), now() "
        "FROM generate_series(1, %s) AS n",
        [count],
    )


@contextmanager
def simulator(latency_ms: int) -> Iterator[tuple[dict, str]]:
    """The gateway simulator answering each send after `latency_ms`: yields the environment that points a
    process at it and its stats URL; it stops after."""
    port = free_port()
    env = {**ENV, "SMS_GATEWAY_URL": f"http://127.0.0.1:{port}"}
    gateway = subprocess.Popen(
        [sys.executable, "manage.py", "fake_gateway", "--port", str(port), "--latency-ms", str(latency_ms),
         "--no-default-webhooks", "--login", "sim", "--password", "sim"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        stats_url = f"http://127.0.0.1:{port}/stats"
        wait_for(stats_url)
        yield env, stats_url
    finally:
        gateway.terminate()
        gateway.wait()


@contextmanager
def simulator_and_dispatchers(*, workers: int, expected: int, latency_ms: int) -> Iterator[tuple[str, list]]:
    """The gateway simulator and `workers` dispatcher processes (WORKER), each up and polling until `expected`
    messages are recorded: yields the simulator's stats URL and the processes; the simulator stops after."""
    with simulator(latency_ms) as (env, stats_url):
        procs = [
            subprocess.Popen([sys.executable, "-c", WORKER, f"bench-{i}", str(expected)], cwd=ROOT, env=env,
                             stdout=subprocess.PIPE, text=True)
            for i in range(workers)
        ]  # fmt: skip
        for process in procs:  # every dispatcher up and polling before anything is queued
            assert process.stdout.readline().strip() == "ready"
        yield stats_url, procs


def run(messages: int, workers: int, latency_ms: int) -> dict:
    sql(
        "TRUNCATE messaging_message, messaging_messageevent, messaging_ratelimitwindow, messaging_gatewayhealth CASCADE"
    )
    with simulator_and_dispatchers(workers=workers, expected=messages, latency_ms=latency_ms) as (stats_url, procs):
        queue_messages(messages)
        reports = [json.loads(p.communicate()[0].strip().splitlines()[-1]) for p in procs]
        stats = json.loads(urllib.request.urlopen(stats_url).read())

    (sent, p50, p99), = sql(
        "SELECT count(*) FILTER (WHERE status = 'SENT'), "
        "percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM sent_at - created_at)), "
        "percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM sent_at - created_at)) "
        "FROM messaging_message"
    )  # fmt: skip
    span = _span(reports)
    return {
        "messages": messages,
        "workers": workers,
        "latency_ms": latency_ms,
        "seconds": round(span, 2),
        "messages_per_s": round(sent / span),
        "p50_queue_to_sent_s": round(p50, 2),
        "p99_queue_to_sent_s": round(p99, 2),
        "duplicates": stats["duplicate_receipts"],
        "duplicate_ids": stats["duplicate_ids"],
        "lost": messages - sent,
        "gateway_accepted": stats["accepted"],
        "per_worker_sent": [r["sent"] for r in reports],
    }


def run_bare(messages: int, workers: int, latency_ms: int, concurrency: int) -> dict:
    """The baseline: `workers` processes of the official client alone share `messages` sends, no database."""
    shares = [messages // workers + (i < messages % workers) for i in range(workers)]
    with simulator(latency_ms) as (env, stats_url):
        procs = [
            subprocess.Popen([sys.executable, "-c", BARE_CLIENT, env["SMS_GATEWAY_URL"], str(share), str(concurrency),
                              str(sum(shares[:i]))], cwd=ROOT, env=env, stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
            for i, share in enumerate(shares)
        ]  # fmt: skip
        reports = run_together(procs)
        stats = json.loads(urllib.request.urlopen(stats_url).read())
    sent = sum(r["sent"] for r in reports)
    assert sent == messages == stats["accepted"], (sent, messages, stats)
    span = _span(reports)
    return {"messages": messages, "workers": workers, "seconds": round(span, 2), "messages_per_s": round(sent / span)}


def run_together(procs: list[subprocess.Popen]) -> list[dict]:
    """Processes that print "ready" and wait for a line on stdin: once all are ready, each is told to go, and
    the JSON each prints last is returned."""
    for process in procs:
        assert process.stdout.readline().strip() == "ready"
    for process in procs:
        process.stdin.write("go\n")
        process.stdin.flush()
    return [json.loads(process.communicate()[0].strip().splitlines()[-1]) for process in procs]


def _span(reports: list[dict]) -> float:
    """From the first process's first claim (or send) to the last one's last record."""
    return max(r["last_record"] or 0 for r in reports) - min(r["first_claim"] or 1e12 for r in reports)


def wait_for(url: str) -> None:
    for _ in range(100):
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--workers", default="1,2", help="Worker counts to run, comma-separated.")
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=100, help="Sends in flight per process (SMS_CONCURRENCY).")
    parser.add_argument("--rounds", type=int, default=3, help="Rounds of each side, alternating.")
    args = parser.parse_args()
    setup_database()

    ENV["SMS_CONCURRENCY"] = str(args.concurrency)  # the dispatchers' and the baseline's, the same
    results = []
    for workers in [int(n) for n in args.workers.split(",")]:
        # Rounds alternate between the dispatchers and the baseline, so a burst of other work on the machine
        # falls on both; each side's median is compared.
        rounds = []
        for _ in range(args.rounds):
            ours = run(args.messages, workers, args.latency_ms)
            ours["bare_client_messages_per_s"] = run_bare(args.messages, workers, args.latency_ms, args.concurrency)[
                "messages_per_s"
            ]
            rounds.append(ours)
        results.append(summary(rounds))
    command = " ".join(["python bench/dispatch_bench.py", *sys.argv[1:]])
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "dispatch_bench.json").write_text(json.dumps({"command": command, "results": results}, indent=2))
    print(f"$ {command}\n\n(2 CPUs shared by the dispatchers, the simulator and PostgreSQL)")
    print(f"(medians of {args.rounds} rounds, each side in turn)\n")
    print(
        "| dispatchers | messages | messages/s | official client alone, messages/s | ratio "
        "| each round: ours / alone | p50 queue→sent | p99 queue→sent | duplicates | lost |"
    )
    print("|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|")
    for r in results:
        pairs = zip(r["rounds_messages_per_s"], r["rounds_bare_client"], strict=True)
        each = ", ".join(f"{ours:,} / {alone:,}" for ours, alone in pairs)
        latency = f"{r['p50_queue_to_sent_s']} s | {r['p99_queue_to_sent_s']} s"
        print(f"| {r['workers']} | {r['messages']:,} | {r['messages_per_s']:,} | {r['bare_client_messages_per_s']:,} "
              f"| {r['ratio']:.2f}x | {each} | {latency} | {r['duplicates']} | {r['lost']} |")  # fmt: skip
    for r in results:
        verdict = "PASS" if r["ratio"] >= TARGET_RATIO else "MISS"
        print(f"{verdict}  {r['workers']} dispatcher(s) at least {TARGET_RATIO}x the official client alone")
    clean = all(r["duplicates"] == 0 and r["lost"] == 0 for r in results)
    print(f"{'PASS' if clean else 'FAIL'}  no duplicate and no lost message")
    sys.exit(0 if clean else 1)


def summary(rounds: list[dict]) -> dict:
    """The rounds of one worker count: medians of the rates and latencies, duplicates and losses added up."""
    ours = statistics.median(r["messages_per_s"] for r in rounds)
    alone = statistics.median(r["bare_client_messages_per_s"] for r in rounds)
    return {
        "workers": rounds[0]["workers"],
        "messages": rounds[0]["messages"],
        "latency_ms": rounds[0]["latency_ms"],
        "messages_per_s": round(ours),
        "bare_client_messages_per_s": round(alone),
        "ratio": round(ours / alone, 2),
        "rounds_messages_per_s": [r["messages_per_s"] for r in rounds],
        "rounds_bare_client": [r["bare_client_messages_per_s"] for r in rounds],
        "p50_queue_to_sent_s": statistics.median(r["p50_queue_to_sent_s"] for r in rounds),
        "p99_queue_to_sent_s": statistics.median(r["p99_queue_to_sent_s"] for r in rounds),
        "duplicates": sum(r["duplicates"] for r in rounds),
        "lost": sum(r["lost"] for r in rounds),
        "rounds": rounds,
    }


if __name__ == "__main__":
    main()
