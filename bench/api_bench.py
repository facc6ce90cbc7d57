"""Benchmark of the send API (POST /api/v1/messages/send) under gunicorn on PostgreSQL, with a baseline.

    .venv/bin/python bench/api_bench.py                          # 20 s a phase, 100 req/s, 50 clients (~1.5 min)
    .venv/bin/python bench/api_bench.py --seconds 10 --rate 200

It uses the database inboxerr_apibench on 127.0.0.1:5432 (created and migrated
if needed; its messages, task records and task queue are emptied and the
database vacuumed first, so every run starts alike), makes
a user with a fresh API token (manage.py create_api_user apibench) and starts
gunicorn with gunicorn.conf.py's own workers and threads on a free port
(DEBUG=false, plain HTTP, SMS_BACKEND=locmem). No qcluster runs, so a send only
writes its QUEUED message and task record and queues (debounced) a dispatch
task: what is measured is the request path, never a gateway.

The load comes from this process: asyncio and one aiohttp session (keep-alive).
Two phases, each after a 2 s warm-up, each run for the send endpoint and, as the
baseline on the same server in the same run, GET /api/v1/auth/me (token auth and
one serializer, no write):

- open loop: a request starts every 1/rate s on a fixed schedule, however long
  earlier ones take, and its latency runs from its scheduled start, so a stall
  counts against every request it delays (no coordinated omission);
- closed loop: N clients, each sending its next request when the last answered.

Latencies are of the answers with the expected status (202 for a send, 200 for
the baseline); any other status, or no answer, is an error. Target: p95 of a send
at most 50 ms at 100 req/s, open loop, with no error (shown, not asserted). The
load generator, gunicorn and PostgreSQL share the machine's CPUs, so compare the
ratios more than the absolute figures; for each phase it also shows the CPU that
gunicorn, PostgreSQL, the generator and every other process used (from /proc:
Linux only) and how many gunicorn workers max_requests recycled. It prints a
Markdown table, checks the QUEUED messages in the database against the 202s,
counts the catalog (pg_class) rows the run updated, writes bench/out/api_bench.json
and gunicorn's log to bench/out/api_bench_gunicorn.log, and stops gunicorn however
the run ends.
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import itertools
import json
import math
import os
import re
import runpy
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import psycopg

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out"
GUNICORN_LOG = OUT / "api_bench_gunicorn.log"
SERVER_URL = "postgres://postgres@127.0.0.1:5432"
DB_NAME = "inboxerr_apibench"
DB_URL = f"{SERVER_URL}/{DB_NAME}"
USERNAME = "apibench"
TARGET_P95_MS, TARGET_RATE = 50, 100
CHILD_ENV = {
    "DATABASE_URL": DB_URL,
    "DJANGO_SETTINGS_MODULE": "inboxerr.settings",
    "DEBUG": "false",
    "SECRET_KEY": "bench-only-throwaway-secret-key-" + "x" * 40,
    "ALLOWED_HOSTS": "127.0.0.1",
    "SECURE_SSL_REDIRECT": "false",  # plain HTTP: no redirect to https
    "SMS_BACKEND": "locmem",
    "AUTH_THROTTLE_RATE": "100000/min",
    "PYTHONUNBUFFERED": "1",
}
ENV = {**os.environ, **CHILD_ENV}  # WEB_CONCURRENCY, GUNICORN_THREADS and the like pass through from the caller
OPEN, CLOSED = "open loop", "closed loop"
JSON_HEADERS = {"Content-Type": "application/json"}
TICK = os.sysconf("SC_CLK_TCK")


def send_body(n: int) -> bytes:
    return json.dumps({"phone": f"+4474000{n % 100_000:05d}", "content": "Benchmark message"}).encode()


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    expect: int
    body: Callable[[int], bytes] | None = None

    @property
    def name(self) -> str:
        return f"{self.method} {self.path}"


SEND = Endpoint("POST", "/api/v1/messages/send", 202, send_body)
BASELINE = Endpoint("GET", "/api/v1/auth/me", 200)


# --- Set-up: database, token, gunicorn --------------------------------------------------


def manage(*args: str) -> str:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=ENV, check=True, capture_output=True, text=True
    ).stdout


def prepare_database() -> str:
    """Create and migrate the bench database, empty what the sends fill, and return a new API token."""
    with psycopg.connect(f"{SERVER_URL}/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DB_NAME]).fetchone():
            conn.execute(f"CREATE DATABASE {DB_NAME}")
    manage("migrate", "-v0")
    with psycopg.connect(DB_URL, autocommit=True) as conn:  # a clean slate, in the bench database only
        # inboxerr_tokenuse: earlier runs' tokens are deleted below, and their use rows point at them.
        conn.execute(
            "TRUNCATE messaging_message, messaging_taskrecord, django_q_ormq, inboxerr_tokenuse, "
            "messaging_quotausage CASCADE"
        )
        conn.execute(
            "DELETE FROM knox_authtoken WHERE user_id IN (SELECT id FROM auth_user WHERE username = %s)", [USERNAME]
        )
        # Inserts through a COPY staging temp table update the catalog (pg_class) as they truncate it: vacuum
        # what earlier runs left, which would slow this one down where autovacuum is off.
        conn.execute("VACUUM")
    found = re.search(r"^token:\s*(\S+)", manage("create_api_user", USERNAME), re.MULTILINE)
    if not found:
        raise SystemExit("manage.py create_api_user printed no token")
    return found.group(1)


def code_version() -> str:
    """The commit under test (read-only: rev-parse neither refreshes nor writes the index)."""
    try:
        found = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    except OSError:  # no git here
        return "unknown"
    return found.stdout.strip() or "unknown"


def gunicorn_settings() -> dict:
    """What gunicorn.conf.py gives in this environment (the same as gunicorn's, which gets the same variables)."""
    conf = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    names = ("workers", "threads", "keepalive", "max_requests", "max_requests_jitter", "timeout")
    settings = {name: conf[name] for name in names}
    settings["worker_class"] = "gthread" if settings["threads"] > 1 else "sync"
    return settings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def die_with_parent() -> None:
    """In the child, before exec: the kernel sends gunicorn SIGTERM should this process die, even by SIGKILL."""
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # 1: PR_SET_PDEATHSIG (Linux)


def start_gunicorn(port: int, log) -> subprocess.Popen:
    command = [str(ROOT / ".venv" / "bin" / "gunicorn"), "inboxerr.wsgi", "--config", "gunicorn.conf.py"]
    command += ["--bind", f"127.0.0.1:{port}"]
    return subprocess.Popen(
        command, cwd=ROOT, env=ENV, stdout=log, stderr=subprocess.STDOUT, preexec_fn=die_with_parent
    )


def exit_on_sigterm(signum, frame) -> None:
    raise SystemExit(128 + signum)  # so that the finally clause stops gunicorn


def wait_healthy(server: subprocess.Popen, url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited with {server.returncode}; see {GUNICORN_LOG}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:  # not listening yet, or 503 while a check fails
            pass
        time.sleep(0.2)
    raise SystemExit(f"gunicorn did not answer {url} with 200 within {timeout:.0f} s; see {GUNICORN_LOG}")


def stop_gunicorn(server: subprocess.Popen) -> None:
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)  # graceful: the load has stopped, nothing is in flight
        try:
            server.wait(timeout=45)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def database_counts() -> dict:
    with psycopg.connect(DB_URL, autocommit=True) as conn:
        # gunicorn's connections report their statistics as they close: wait for them to have closed.
        deadline = time.monotonic() + 10
        others = "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        while conn.execute(others).fetchone()[0] and time.monotonic() < deadline:
            time.sleep(0.1)
        queued = conn.execute("SELECT count(*) FROM messaging_message WHERE status = 'QUEUED'").fetchone()[0]
        messages = conn.execute("SELECT count(*) FROM messaging_message").fetchone()[0]
        dispatch_tasks = conn.execute("SELECT count(*) FROM django_q_ormq").fetchone()[0]
        catalog_updates = conn.execute("SELECT n_tup_upd FROM pg_stat_sys_tables WHERE relname = 'pg_class'").fetchone()
        autovacuum = conn.execute("SHOW autovacuum").fetchone()[0]
    return {
        "queued_messages": queued,
        "messages": messages,
        "dispatch_tasks_queued": dispatch_tasks,
        "pg_class_updates_total": catalog_updates[0],
        "autovacuum": autovacuum,
    }


# --- Load --------------------------------------------------------------------------------


@dataclass
class Run:
    """The answers of one stretch of load on one endpoint."""

    latencies_ms: list[float] = field(default_factory=list)
    start_lags_ms: list[float] = field(default_factory=list)  # open loop: how late the generator started each
    errors: int = 0
    elapsed_s: float = 0.0


@dataclass
class Client:
    session: aiohttp.ClientSession
    sequence: itertools.count = field(default_factory=itertools.count)
    statuses: dict[str, Counter] = field(default_factory=dict)  # per endpoint, warm-ups included
    error_samples: list[str] = field(default_factory=list)


async def call(client: Client, endpoint: Endpoint, started: float, run: Run, label: str) -> None:
    """One request; its latency runs from `started` (loop time), which may be its scheduled start."""
    loop = asyncio.get_running_loop()
    body = endpoint.body(next(client.sequence)) if endpoint.body else None
    try:
        headers = JSON_HEADERS if body else None
        async with client.session.request(endpoint.method, endpoint.path, data=body, headers=headers) as response:
            status, text = response.status, await response.read()
    except (TimeoutError, aiohttp.ClientError) as exc:
        status, text = 0, repr(exc).encode()
    elapsed_ms = (loop.time() - started) * 1000
    client.statuses.setdefault(endpoint.name, Counter())[status] += 1
    if status == endpoint.expect:
        run.latencies_ms.append(elapsed_ms)
        return
    run.errors += 1
    if len(client.error_samples) < 5:
        client.error_samples.append(f"{endpoint.name}, {label}: {status or 'no answer'} {text[:300]!r}")


async def open_loop(client: Client, endpoint: Endpoint, rate: float, seconds: float, label: str) -> Run:
    """Start a request every 1/rate s on a fixed schedule, whatever the earlier ones are doing."""
    loop = asyncio.get_running_loop()
    run, in_flight = Run(), []
    first = loop.time() + 0.01
    for i in range(round(rate * seconds)):
        scheduled = first + i / rate
        if (delay := scheduled - loop.time()) > 0:
            await asyncio.sleep(delay)
        run.start_lags_ms.append((loop.time() - scheduled) * 1000)
        in_flight.append(asyncio.create_task(call(client, endpoint, scheduled, run, label)))
    await asyncio.gather(*in_flight)
    run.elapsed_s = loop.time() - first
    return run


async def closed_loop(client: Client, endpoint: Endpoint, clients: int, seconds: float, label: str) -> Run:
    """`clients` clients, each sending its next request as soon as the last one answered, until time is up."""
    loop = asyncio.get_running_loop()
    run = Run()
    started = loop.time()
    end = started + seconds

    async def one_client() -> None:
        while loop.time() < end:
            await call(client, endpoint, loop.time(), run, label)

    await asyncio.gather(*(one_client() for _ in range(clients)))
    run.elapsed_s = loop.time() - started
    return run


# --- Measuring ---------------------------------------------------------------------------


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest rank."""
    if not sorted_values:
        return math.nan
    return sorted_values[min(len(sorted_values) - 1, max(0, math.ceil(q * len(sorted_values)) - 1))]


def machine_busy_ticks() -> int:
    """CPU time the whole machine spent busy since boot, in clock ticks (/proc/stat)."""
    user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, Path("/proc/stat").read_text().split()[1:9])
    return user + nice + system + irq + softirq + steal


def process_table() -> dict[int, tuple[int, int]]:
    """pid: (parent pid, CPU ticks of the process and of its children it has reaped), from /proc/PID/stat."""
    table = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:  # gone meanwhile
                continue
            table[int(entry.name)] = (int(fields[1]), sum(map(int, fields[11:15])))  # ppid; utime .. cstime
    return table


def tree_ticks(table: dict[int, tuple[int, int]], root: int | None) -> int:
    """CPU ticks of a process and all its descendants, the exited ones included (in their parents' counts)."""
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    total, todo = 0, [root] if root else []
    while todo:
        pid = todo.pop()
        total += table.get(pid, (0, 0))[1]
        todo += children.get(pid, [])
    return total


def cpu_sample(roots: dict[str, int | None]) -> dict[str, float]:
    table = process_table()
    sample = {name: tree_ticks(table, pid) / TICK for name, pid in roots.items()}
    return {**sample, "load_generator": time.process_time(), "machine": machine_busy_ticks() / TICK}


def cpu_cores(before: dict[str, float], after: dict[str, float], wall: float) -> dict[str, float]:
    """CPU used meanwhile, in cores (CPU seconds per second); `other` is everything else on the machine."""
    cores = {name: (after[name] - before[name]) / wall for name in before}
    cores["other"] = max(cores["machine"] - sum(v for k, v in cores.items() if k != "machine"), 0.0)
    return {name: round(value, 2) for name, value in cores.items()}


def postmaster_pid() -> int | None:
    """PostgreSQL's main process, when it runs on this machine (the parent of our backend)."""
    with psycopg.connect(DB_URL) as conn:
        backend = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
        try:
            return int(Path(f"/proc/{backend}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except OSError:  # another machine, or another container
            return None


def worker_restarts(log_offset: int) -> int:
    with GUNICORN_LOG.open("rb") as log:
        log.seek(log_offset)
        return log.read().count(b"Autorestarting worker")


def summarise(endpoint: Endpoint, phase: str, offered: str, run: Run, probes: dict) -> dict:
    latencies = sorted(run.latencies_ms)
    row = {
        "endpoint": endpoint.name,
        "phase": phase,
        "offered": offered,
        "requests": len(latencies) + run.errors,
        "ok": len(latencies),
        "errors": run.errors,
        "seconds": round(run.elapsed_s, 2),
        "achieved_rps": round(len(latencies) / run.elapsed_s, 1),
        **{f"p{q}_ms": round(percentile(latencies, q / 100), 1) for q in (50, 95, 99)},
        "max_ms": round(latencies[-1], 1) if latencies else math.nan,
        **probes,
    }
    if run.start_lags_ms:
        lags = sorted(run.start_lags_ms)
        row["generator_start_lag_p99_ms"] = round(percentile(lags, 0.99), 1)
        row["generator_start_lag_max_ms"] = round(lags[-1], 1)
    return row


async def measure_phase(load: Callable[[float, str], Awaitable[Run]], args, roots: dict) -> tuple[Run, dict]:
    """Warm up, then measure; returns the run and what the CPUs and gunicorn did meanwhile."""
    await load(args.warmup, "warm-up")
    log_offset = GUNICORN_LOG.stat().st_size
    before, wall = cpu_sample(roots), time.monotonic()
    run = await load(args.seconds, "measured")
    wall = time.monotonic() - wall
    probes = {
        "cpu_cores": cpu_cores(before, cpu_sample(roots), wall),
        "gunicorn_worker_restarts": worker_restarts(log_offset),
    }
    return run, probes


async def measure_all(base_url: str, token: str, args: argparse.Namespace, keepalive: int, roots: dict) -> tuple:
    # Idle connections are dropped client-side before gunicorn's keep-alive timeout closes them, so none is reused
    # just as the server closes it.
    connector = aiohttp.TCPConnector(limit=256, keepalive_timeout=max(keepalive - 1, 1))
    timeout = aiohttp.ClientTimeout(total=30)
    headers = {"Authorization": f"Token {token}"}
    rows = []
    async with aiohttp.ClientSession(base_url, connector=connector, timeout=timeout, headers=headers) as session:
        client = Client(session)
        for phase, offered in ((OPEN, f"{args.rate:g} req/s"), (CLOSED, f"{args.clients} clients")):
            for endpoint in (SEND, BASELINE):
                print(f"  {endpoint.name}, {phase} ...", file=sys.stderr, flush=True)
                if phase == OPEN:
                    load = lambda s, label, e=endpoint: open_loop(client, e, args.rate, s, label)  # noqa: E731
                else:
                    load = lambda s, label, e=endpoint: closed_loop(client, e, args.clients, s, label)  # noqa: E731
                run, probes = await measure_phase(load, args, roots)
                rows.append(summarise(endpoint, phase, offered, run, probes))
    return rows, client


# --- Report ------------------------------------------------------------------------------


def find_row(rows: list[dict], endpoint: Endpoint, phase: str) -> dict:
    return next(row for row in rows if row["endpoint"] == endpoint.name and row["phase"] == phase)


def ratios(rows: list[dict]) -> dict:
    p95 = find_row(rows, SEND, OPEN)["p95_ms"] / find_row(rows, BASELINE, OPEN)["p95_ms"]
    throughput = find_row(rows, SEND, CLOSED)["achieved_rps"] / find_row(rows, BASELINE, CLOSED)["achieved_rps"]
    return {
        "p95_open_loop_send_over_baseline": round(p95, 2),
        "throughput_closed_loop_send_over_baseline": round(throughput, 2),
    }


def verdict(rows: list[dict], rate: float) -> str:
    row = find_row(rows, SEND, OPEN)
    claim = f"p95 of {SEND.name} <= {TARGET_P95_MS} ms at {TARGET_RATE} req/s, open loop, no errors"
    if rate != TARGET_RATE:
        return f"n/a   {claim} (this run offered {rate:g} req/s)"
    met = row["p95_ms"] <= TARGET_P95_MS and row["errors"] == 0
    return f"{'PASS' if met else 'MISS'}  {claim}: p95 {row['p95_ms']} ms, {row['errors']} errors"


def table(rows: list[dict]) -> list[str]:
    lines = [
        "| endpoint | phase | offered | achieved req/s | p50 | p95 | p99 | max | errors |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| `{r['endpoint']}` | {r['phase']} | {r['offered']} | {r['achieved_rps']:,} | {r['p50_ms']} ms "
            f"| {r['p95_ms']} ms | {r['p99_ms']} ms | {r['max_ms']} ms | {r['errors']} |"
        )
    return lines


def notes(rows: list[dict]) -> list[str]:
    lines = []
    for r in rows:
        c = r["cpu_cores"]
        lag = (
            f"; generator started requests late by at most {r['generator_start_lag_max_ms']} ms"
            if "generator_start_lag_max_ms" in r
            else ""
        )
        lines.append(
            f"- {r['endpoint']}, {r['phase']}: {r['requests']:,} requests in {r['seconds']} s; CPU in cores: "
            f"gunicorn {c['gunicorn']}, PostgreSQL {c['postgresql']}, load generator {c['load_generator']}, "
            f"other processes {c['other']} (machine busy {c['machine']}); gunicorn workers recycled "
            f"(max_requests): {r['gunicorn_worker_restarts']}{lag}"
        )
    return lines


def report(figures: dict) -> None:
    g, rows, db = figures["gunicorn"], figures["rows"], figures["database"]
    print(f"$ {figures['command']}\n")
    print(f"code: commit {figures['commit']} (plus any uncommitted changes)")
    print(
        f"gunicorn {g['worker_class']}: {g['workers']} workers x {g['threads']} threads, keepalive {g['keepalive']} s, "
        f"max_requests {g['max_requests']} (+0..{g['max_requests_jitter']}), from gunicorn.conf.py"
    )
    print(
        f"{figures['cpus']} CPUs shared by the load generator (this process), gunicorn and PostgreSQL (and whatever "
        "else runs): absolute figures are this machine's; the ratios to the baseline travel better. "
        f"Load average before the run: {figures['load_average_before']}\n"
    )
    print("\n".join(table(rows)))
    r = figures["ratios"]
    print(
        f"\nsend / baseline: p95 (open loop) {r['p95_open_loop_send_over_baseline']}x, "
        f"throughput (closed loop) {r['throughput_closed_loop_send_over_baseline']}x\n"
    )
    print(figures["verdict"])
    match = "match" if db["queued_messages"] == figures["send_202s"] else "MISMATCH"
    print(
        f"QUEUED messages in the database: {db['queued_messages']:,}; 202 answers (warm-ups included): "
        f"{figures['send_202s']:,}: {match}. Dispatch tasks queued: {db['dispatch_tasks_queued']}. Catalog rows "
        f"(pg_class) updated: {db['pg_class_updates']:,} (PostgreSQL autovacuum: {db['autovacuum']})\n"
    )
    print("\n".join(notes(rows)))
    if figures["error_samples"]:
        print("\nfirst errors:\n" + "\n".join(f"- {sample}" for sample in figures["error_samples"]))


# --- Main --------------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=20, help="length of each measured phase")
    parser.add_argument("--rate", type=float, default=100, help="open loop: requests started per second")
    parser.add_argument("--clients", type=int, default=50, help="closed loop: concurrent clients")
    parser.add_argument("--warmup", type=float, default=2, help="warm-up before each phase, in seconds")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    signal.signal(signal.SIGTERM, exit_on_sigterm)
    load_average = " ".join(f"{x:.2f}" for x in os.getloadavg())
    commit = code_version()
    OUT.mkdir(parents=True, exist_ok=True)
    token = prepare_database()
    catalog_updates = database_counts()["pg_class_updates_total"]
    settings = gunicorn_settings()
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    with GUNICORN_LOG.open("wb") as log:
        server = start_gunicorn(port, log)
        try:
            wait_healthy(server, f"{base_url}/healthz")
            roots = {"gunicorn": server.pid, "postgresql": postmaster_pid()}
            rows, client = asyncio.run(measure_all(base_url, token, args, settings["keepalive"], roots))
        finally:
            stop_gunicorn(server)
    database = database_counts()
    database["pg_class_updates"] = database.pop("pg_class_updates_total") - catalog_updates
    figures = {
        "command": shlex.join([".venv/bin/python", "bench/api_bench.py", *sys.argv[1:]]),
        "commit": commit if commit == (now := code_version()) else f"{commit}, then {now} (changed during the run)",
        "cpus": os.cpu_count(),
        "load_average_before": load_average,
        "gunicorn": settings,
        "rows": rows,
        "ratios": ratios(rows),
        "verdict": verdict(rows, args.rate),
        "send_202s": client.statuses.get(SEND.name, Counter())[SEND.expect],
        "statuses": {name: dict(counts) for name, counts in client.statuses.items()},
        "database": database,
        "error_samples": client.error_samples,
    }
    (OUT / "api_bench.json").write_text(json.dumps(figures, indent=2))
    report(figures)


if __name__ == "__main__":
    main()
