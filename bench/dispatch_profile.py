"""Where a dispatcher's time goes: CPU per batch of 200 by step and by process, beside the official client alone.

    .venv/bin/python bench/dispatch_profile.py
    .venv/bin/python bench/dispatch_profile.py --messages 20000

Two parts, on the database and simulator of bench/dispatch_bench.py (Linux: CPU is read from /proc, and
PostgreSQL must run on this host):

1. The database steps without a gateway: N QUEUED messages claimed, screened and recorded SENT in batches of
   200, in this process. For each step: this process's CPU (Python, Django, psycopg), the PostgreSQL backend's
   CPU, and the wall time, per batch.
2. A whole run: one dispatcher process sends N messages to the simulator (50 ms); then the official client
   alone sends N. CPU per 200 messages of each process (the dispatcher's split between its database thread and
   its network thread), of the simulator, and of the PostgreSQL backend.

Writes bench/out/dispatch_profile.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from functools import partial
from pathlib import Path

from dispatch_bench import BARE_CLIENT, ENV, OUT, ROOT, WORKER, queue_messages, setup_database, simulator, sql

BATCH = 200
TICK = os.sysconf("SC_CLK_TCK")

# The dispatcher process of dispatch_bench, telling at its end how its CPU split between its threads and how
# much its PostgreSQL backend used.
PROFILED_WORKER = WORKER.replace(
    "django.setup()\n",
    """django.setup()
import atexit, os, threading
from django.db import connection
cpu_at_start = time.process_time(), time.thread_time()
def cpu_report():
    pid = connection.connection.info.backend_pid
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    backend = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    process, main = time.process_time() - cpu_at_start[0], time.thread_time() - cpu_at_start[1]
    print(json.dumps({"process_cpu": process, "main_thread_cpu": main, "backend_cpu": backend}), file=sys.stderr)
atexit.register(cpu_report)
""",
)


def process_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def database_steps(messages: int) -> dict:
    """Claim, screen and record SENT, batch after batch, with no gateway: each step's CPU here and in PostgreSQL."""
    os.environ.update({k: ENV[k] for k in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE", "DEBUG", "SECRET_KEY")})
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.db import connection

    from messaging.backends.base import BaseBackend, SendResult
    from messaging.dispatcher.claims import claim_due
    from messaging.dispatcher.outcomes import record
    from messaging.dispatcher.safeguards import screened

    class OursAsIds(BaseBackend):  # as the android backend: the gateway's id is ours
        reuses_our_ids = True

    queue_messages(messages)
    connection.ensure_connection()
    backend_pid = connection.connection.info.backend_pid
    steps = {name: {"python_ms": 0.0, "postgresql_ms": 0.0, "wall_ms": 0.0} for name in ("claim", "screen", "record")}

    def timed(name, step):
        pg, py, wall = process_cpu(backend_pid), time.thread_time(), time.perf_counter()
        result = step()
        figures = steps[name]
        figures["python_ms"] += (time.thread_time() - py) * 1000
        figures["postgresql_ms"] += (process_cpu(backend_pid) - pg) * 1000
        figures["wall_ms"] += (time.perf_counter() - wall) * 1000
        return result

    batches = 0
    while claimed := timed("claim", lambda: claim_due(worker="profile", limit=BATCH)):
        ready = timed("screen", partial(screened, claimed, "profile"))
        answers = [SendResult(c.id, str(c.id)) for c in ready]
        timed("record", partial(record, ready, answers, backend=OursAsIds(), worker="profile"))
        batches += 1
    return {name: {k: round(v / batches, 1) for k, v in figures.items()} for name, figures in steps.items()}


def whole_runs(messages: int, latency_ms: int) -> dict:
    """CPU per 200 messages of each process: one dispatcher run, then the official client alone."""
    sql(
        "TRUNCATE messaging_message, messaging_messageevent, messaging_ratelimitwindow, messaging_gatewayhealth CASCADE"
    )
    per_batch = BATCH / messages * 1000  # seconds of CPU for all messages -> ms per 200
    with simulator(latency_ms) as (env, _stats):
        simulator_pid = _simulator_pid(env)
        before = process_cpu(simulator_pid)
        worker = subprocess.Popen([sys.executable, "-c", PROFILED_WORKER, "profile-0", str(messages)], cwd=ROOT,
                                  env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
        assert worker.stdout.readline().strip() == "ready"
        queue_messages(messages)
        out, err = worker.communicate()
        report, cpu = json.loads(out.strip().splitlines()[-1]), json.loads(err.strip().splitlines()[-1])
        simulator_ours = process_cpu(simulator_pid) - before

        before = process_cpu(simulator_pid)
        alone = subprocess.Popen([sys.executable, "-c", BARE_CLIENT, env["SMS_GATEWAY_URL"], str(messages),
                                  ENV.get("SMS_CONCURRENCY", "100"), "0"], cwd=ROOT, env=env, stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, text=True)  # fmt: skip
        assert alone.stdout.readline().strip() == "ready"
        started = process_cpu(alone.pid)
        alone.stdin.write("go\n")
        alone.stdin.flush()
        last_line = alone.stdout.read().strip().splitlines()[-1]
        client_cpu = process_cpu(alone.pid) - started  # read before it is reaped
        alone.wait()
        bare = json.loads(last_line)
        simulator_alone = process_cpu(simulator_pid) - before
    span = report["last_record"] - report["first_claim"]
    # The dispatcher's own figures include Django's start-up in its main thread: taken out with an idle run.
    startup = _startup_cpu()
    return {
        "dispatcher": {
            "messages_per_s": round(report["sent"] / span),
            "process_ms": round((cpu["process_cpu"] - startup) * per_batch, 1),
            "database_thread_ms": round((cpu["main_thread_cpu"] - startup) * per_batch, 1),
            "network_thread_ms": round((cpu["process_cpu"] - cpu["main_thread_cpu"]) * per_batch, 1),
            "postgresql_backend_ms": round(cpu["backend_cpu"] * per_batch, 1),
            "simulator_ms": round(simulator_ours * per_batch, 1),
        },
        "official_client_alone": {
            "messages_per_s": round(bare["sent"] / (bare["last_record"] - bare["first_claim"])),
            "process_ms": round(client_cpu * per_batch, 1),
            "simulator_ms": round(simulator_alone * per_batch, 1),
        },
    }


def _simulator_pid(env: dict) -> int:
    port = env["SMS_GATEWAY_URL"].rsplit(":", 1)[1]
    found = subprocess.run(["pgrep", "-f", f"fake_gateway --port {port}"], capture_output=True, text=True).stdout
    return int(found.split()[0])


def _startup_cpu() -> float:
    """CPU of a dispatcher process that starts, finds nothing to send and ends: Django's start-up."""
    sql("TRUNCATE messaging_message CASCADE")
    worker = subprocess.run([sys.executable, "-c", PROFILED_WORKER, "profile-idle", "0"], cwd=ROOT, env=ENV,
                            capture_output=True, text=True, check=True)  # fmt: skip
    return json.loads(worker.stderr.strip().splitlines()[-1])["process_cpu"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--latency-ms", type=int, default=50)
    args = parser.parse_args()
    setup_database()
    runs = whole_runs(args.messages, args.latency_ms)
    steps = database_steps(args.messages)
    command = " ".join(["python bench/dispatch_profile.py", *sys.argv[1:]])
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "dispatch_profile.json").write_text(json.dumps({"command": command, "steps": steps, "runs": runs}, indent=2))
    print(f"$ {command}\n\nDatabase steps, per batch of {BATCH} (no gateway):\n")
    print("| step | this process's CPU | PostgreSQL backend's CPU | wall |")
    print("|---|---:|---:|---:|")
    for name, f in steps.items():
        print(f"| {name} | {f['python_ms']} ms | {f['postgresql_ms']} ms | {f['wall_ms']} ms |")
    ours, alone = runs["dispatcher"], runs["official_client_alone"]
    print(f"\nA whole run, CPU per {BATCH} messages ({args.latency_ms} ms simulator):\n")
    print("| | messages/s | sender process | of it: database thread | network thread | PostgreSQL backend "
          "| simulator |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|---:|")
    print(
        f"| dispatcher | {ours['messages_per_s']:,} | {ours['process_ms']} ms | {ours['database_thread_ms']} ms "
        f"| {ours['network_thread_ms']} ms | {ours['postgresql_backend_ms']} ms | {ours['simulator_ms']} ms |"
    )
    print(f"| official client alone | {alone['messages_per_s']:,} | {alone['process_ms']} ms | - | - | - "
          f"| {alone['simulator_ms']} ms |")  # fmt: skip


if __name__ == "__main__":
    main()
