"""Load: 1,000 concurrent small CSV uploads from 250 users against gunicorn, with the workers parsing.

    .venv/bin/python bench/upload_load.py                       # 1,000 uploads, 250 users, 100 at once
    .venv/bin/python bench/upload_load.py --uploads 200 --users 50

Starts gunicorn (gunicorn.conf.py) and a qcluster on PostgreSQL (database
inboxerr_load), uploads N ten-row CSVs through POST /api/v1/imports/ with up to
--concurrency requests in flight, then waits for every job to finish. Checks:
every answer is 202 or 429 (a user at IMPORT_MAX_PROCESSING), no 5xx, no job
left PROCESSING, no upload file left in IMPORT_TMP_DIR. Reports the wall time
of the uploads and of the whole run; writes bench/out/upload_load.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
DB_URL = "postgres://postgres@127.0.0.1:5432/inboxerr_load"
CSV = b"Name,Phone,Order No.\n" + b"".join(f"P{i},07400 {i:06d},A-{i}\n".encode() for i in range(10))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def django_env(upload_dir: str) -> dict:
    return {
        **os.environ,
        "DATABASE_URL": DB_URL,
        "DJANGO_SETTINGS_MODULE": "inboxerr.settings",
        "DEBUG": "false",
        "SECRET_KEY": "load-test-throwaway-secret-key-" + "x" * 40,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "IMPORT_TMP_DIR": upload_dir,
        "IMPORT_PARSE_PROCESSES": "0",  # ten-row files: forking parsers would cost more than it saves
        "SMS_BACKEND": "locmem",
        "PYTHONPATH": str(ROOT),
    }


def prepare(users: int, env: dict) -> list[str]:
    """A fresh database with `users` users, and one API token each."""
    import psycopg

    with psycopg.connect(DB_URL.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS inboxerr_load")
        conn.execute("CREATE DATABASE inboxerr_load")
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    script = (
        "import django; django.setup()\n"
        "from django.contrib.auth.models import User\nfrom knox.models import AuthToken\n"
        f"for i in range({users}):\n"
        "    print(AuthToken.objects.create(user=User.objects.create(username=f'load{i}'))[1])\n"
    )
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, check=True, capture_output=True, text=True)
    return out.stdout.split()


async def upload_all(url: str, tokens: list[str], uploads: int, concurrency: int) -> Counter:
    statuses: Counter = Counter()
    semaphore = asyncio.Semaphore(concurrency)
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=120)) as session:

        async def one(n: int) -> None:
            form = aiohttp.FormData()
            form.add_field("file", CSV, filename=f"contacts-{n}.csv", content_type="text/csv")
            headers = {"Authorization": f"Token {tokens[n % len(tokens)]}"}
            async with semaphore:
                try:
                    async with session.post(f"{url}/api/v1/imports/", data=form, headers=headers) as response:
                        statuses[response.status] += 1
                except aiohttp.ClientError as exc:
                    statuses[type(exc).__name__] += 1

        await asyncio.gather(*(one(n) for n in range(uploads)))
    return statuses


def count(sql: str) -> int:
    import psycopg

    with psycopg.connect(DB_URL) as conn:
        return conn.execute(sql).fetchone()[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--uploads", type=int, default=1000)
    parser.add_argument("--users", type=int, default=250)
    parser.add_argument("--concurrency", type=int, default=100)
    args = parser.parse_args()
    upload_dir = tempfile.mkdtemp(prefix="inboxerr-load-")
    env = django_env(upload_dir)
    tokens = prepare(args.users, env)
    port = free_port()
    processes = [
        subprocess.Popen([str(ROOT / ".venv/bin/gunicorn"), "inboxerr.wsgi", "--config", "gunicorn.conf.py",
                          "--bind", f"127.0.0.1:{port}"], cwd=ROOT, env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
        subprocess.Popen([sys.executable, "manage.py", "qcluster"], cwd=ROOT, env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
    ]  # fmt: skip
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        started = time.monotonic()
        statuses = asyncio.run(upload_all(f"http://127.0.0.1:{port}", tokens, args.uploads, args.concurrency))
        uploaded = time.monotonic() - started
        deadline = time.monotonic() + 300
        while (
            count("SELECT count(*) FROM imports_importjob WHERE status = 'PROCESSING'") and time.monotonic() < deadline
        ):
            time.sleep(0.5)
        finished = time.monotonic() - started
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            process.wait(timeout=60)

    result = {
        "command": " ".join(["python bench/upload_load.py", *sys.argv[1:]]),
        "uploads": args.uploads,
        "users": args.users,
        "concurrency": args.concurrency,
        "statuses": {str(k): v for k, v in sorted(statuses.items(), key=str)},
        "upload_seconds": round(uploaded, 2),
        "all_jobs_finished_seconds": round(finished, 2),
        "jobs": count("SELECT count(*) FROM imports_importjob"),
        "jobs_succeeded": count("SELECT count(*) FROM imports_importjob WHERE status = 'SUCCESS'"),
        "jobs_still_processing": count("SELECT count(*) FROM imports_importjob WHERE status = 'PROCESSING'"),
        "files_left": len(os.listdir(upload_dir)),
    }
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "upload_load.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
    only_202_429 = set(statuses) <= {202, 429}
    clean = only_202_429 and not result["jobs_still_processing"] and not result["files_left"]
    print(f"\n{'PASS' if clean else 'FAIL'}  only 202/429, no job left PROCESSING, no upload file left behind")
    sys.exit(0 if clean else 1)


if __name__ == "__main__":
    main()
