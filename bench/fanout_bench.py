"""Benchmark of a campaign's fan-out: one rendered, QUEUED Message per contact.

    .venv/bin/python bench/fanout_bench.py                 # 100k contacts
    .venv/bin/python bench/fanout_bench.py --contacts 20000

It fills an import with N contacts (three variable columns, some non-ASCII and
some long enough for two parts), starts a template campaign on it and times the
worker code path (campaigns.fanout.campaign_fan_out) on PostgreSQL. As the
baseline, in the same run, one bare `INSERT INTO messaging_message ... SELECT
... FROM imports_contact` writes the same number of rows with a fixed text into
the same empty table: the database's floor for those rows and indexes (and their
foreign keys, checked at commit), with no rendering, segment counting or opt-out
check. Uses its own database, inboxerr_fanout_bench
(created and migrated if needed), since it empties the messages table that other
benchmarks' dispatchers read; writes bench/out/fanout_bench.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
DB_NAME = "inboxerr_fanout_bench"
DB_URL = f"postgres://postgres@127.0.0.1:5432/{DB_NAME}"
TARGET_SECONDS_100K = 20
TARGET_RATIO = 1.5  # fan-out time over the bare INSERT ... SELECT's, in the same run
TEMPLATE = 'Hi {{ name|default:"there" }}, your order {{ order_no }} ships to {{ city }}.{{ note|default:"" }}'

os.environ.update(
    DATABASE_URL=DB_URL,
    DJANGO_SETTINGS_MODULE="inboxerr.settings",
    DEBUG="false",  # no query log growing with every batch
    SECRET_KEY="bench-only-throwaway-secret-key-" + "x" * 40,
)
sys.path.insert(0, str(ROOT))


def ensure_database() -> None:
    import psycopg

    with psycopg.connect(DB_URL.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DB_NAME]).fetchone():
            conn.execute(f"CREATE DATABASE {DB_NAME}")
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, check=True)


def fill_import(owner, contacts: int):
    """An import of `contacts` contacts, written with one INSERT ... SELECT (fast, and not what is measured)."""
    from django.db import connection

    from imports.models import ImportJob

    job = ImportJob.objects.create(
        owner=owner,
        status=ImportJob.Status.SUCCESS,
        original_filename="bench.csv",
        column_mapping={"variables": {"Order No.": "order_no", "City": "city", "Note": "note"}},
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO imports_contact (owner_id, import_job_id, phone, name, variables, row_number) "
            "SELECT %s, %s, '+4474' || lpad(n::text, 8, '0'), "
            "CASE WHEN n %% 10 = 0 THEN '' WHEN n %% 7 = 0 THEN 'Zoë' ELSE 'Person ' || n END, "
            "jsonb_build_object('order_no', 'A-' || n, 'city', CASE WHEN n %% 5 = 0 THEN 'Zürich' ELSE 'Leeds' END, "
            "'note', CASE WHEN n %% 20 = 0 THEN repeat('long note ', 12) ELSE '' END), n + 1 "
            "FROM generate_series(1, %s) AS n",
            [owner.pk, job.pk, contacts],
        )
    return job


def bare_insert(campaign, job) -> float:
    from django.db import connection, transaction

    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO messaging_message (id, owner_id, campaign_id, contact_id, import_job_id, phone, content, "
            "variables, status, attempts, next_attempt_at, claimed_by, gateway_message_id, parts_count, error, "
            "verify_before_send, held, created_at, updated_at) "
            "SELECT gen_random_uuid(), owner_id, %s, id, import_job_id, phone, 'Hi there, your order ships.', "
            "variables, 'QUEUED', 0, now(), '', '', 1, '', false, false, now(), now() "
            "FROM imports_contact WHERE import_job_id = %s",
            [campaign.pk, job.pk],
        )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--contacts", type=int, default=100_000)
    args = parser.parse_args()
    ensure_database()

    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connection

    from campaigns.fanout import campaign_fan_out
    from campaigns.models import Campaign
    from campaigns.services import campaign_start
    from messaging.models import Message
    from templates.models import MessageTemplate

    with connection.cursor() as cursor:  # a clean slate in the bench database only
        cursor.execute("TRUNCATE messaging_message, campaigns_campaign, imports_contact, imports_importjob CASCADE")
    owner, _ = get_user_model().objects.get_or_create(username="bench")
    job = fill_import(owner, args.contacts)
    template, _ = MessageTemplate.objects.update_or_create(
        owner=owner, name="bench", defaults={"content": TEMPLATE, "variables": []}
    )
    campaign = campaign_start(
        campaign=Campaign.objects.create(owner=owner, name="bench", import_job=job, template=template)
    )

    started = time.perf_counter()
    result = campaign_fan_out(campaign_id=campaign.pk)
    fan_out_s = time.perf_counter() - started
    created = Message.objects.filter(campaign=campaign).count()
    assert created == result.queued, (created, result)

    # The baseline starts from the empty table the fan-out started from. Deleting the fan-out's rows instead
    # left as many dead ones behind, which the baseline's index inserts then stepped over: a slower floor
    # than the table the fan-out wrote to (BENCHMARKS.md).
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE messaging_message CASCADE")
    bare_s = bare_insert(campaign, job)

    figures = {
        "command": "python bench/fanout_bench.py"
        + (f" --contacts {args.contacts}" if args.contacts != 100_000 else ""),
        "contacts": args.contacts,
        "messages": created,
        "skipped_missing_variables": result.skipped_missing_variables,
        "fan_out_s": round(fan_out_s, 2),
        "messages_per_s": round(created / fan_out_s),
        "bare_insert_s": round(bare_s, 2),
        "ratio": round(fan_out_s / bare_s, 2),
    }
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "fanout_bench.json").write_text(json.dumps(figures, indent=2))
    print(f"$ {figures['command']}\n")
    print("| contacts | messages | fan-out | messages/s | bare INSERT...SELECT | fan-out / bare |")
    print("|---:|---:|---:|---:|---:|---:|")
    print(
        f"| {args.contacts:,} | {created:,} | {fan_out_s:.2f} s | {figures['messages_per_s']:,} "
        f"| {bare_s:.2f} s | {figures['ratio']:.2f}x |"
    )
    if args.contacts == 100_000:
        verdict = "PASS" if fan_out_s < TARGET_SECONDS_100K else "MISS"
        print(f"\n{verdict}  100k contacts fanned out in under {TARGET_SECONDS_100K} s: {fan_out_s:.1f} s")
    verdict = "PASS" if figures["ratio"] <= TARGET_RATIO else "MISS"
    print(f"{verdict}  fan-out at most {TARGET_RATIO}x the bare INSERT ... SELECT: {figures['ratio']:.2f}x")


if __name__ == "__main__":
    main()
