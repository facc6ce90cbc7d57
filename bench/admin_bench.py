"""Benchmark of the admin pages on a big database: every page staff use, beside a bare admin of the same table.

    .venv/bin/python bench/admin_bench.py                  # seed inboxerr_admin_bench afresh (~2 min), then time
    .venv/bin/python bench/admin_bench.py --keep           # reuse the seeded database: timing only
    .venv/bin/python bench/admin_bench.py --keep --pages messages --requests 50 --queries

It drops and creates the database inboxerr_admin_bench on 127.0.0.1:5432 (with --keep it reuses it when it
holds this seed), migrates it and fills it with set-based SQL (INSERT ... SELECT over generate_series and
over the rows already written; the message and event tables' secondary indexes are dropped for the load and
built again after it, foreign-key triggers are off for the load, the rows being valid by construction):

- 4 customers; 41 imports holding 1,000,000 contacts (one file of 600,000, forty of 10,000), and a few
  imports that failed or are still being read;
- 141 campaigns holding 5,000,000 messages: six over the big file (one RUNNING: 45% sent, a few SENDING,
  the rest QUEUED), 135 over the small ones (one PAUSED, its unsent messages held; one CANCELLED half-way),
  scheduled ones and drafts with none (one draft over the big file), and 50,000 single sends from the API;
  about 94% DELIVERED, 3% FAILED with the gateways' error codes, the rest SENT, over the last 60 days;
- 3,000,000 message events (the dispatcher's `sent` and the gateway's receipt of the newest messages, and
  inbound SMS), 20,000 opt-outs, 200 templates;
- the hourly tallies the dashboard reads, written by the migration's own backfill over those messages;
- then VACUUM ANALYZE, as autovacuum would have left a table that size.

Each page is requested through Django's test client in this process, logged in as a superuser, with
DEBUG off: one request first (its SQL queries counted with CaptureQueriesContext), then --requests timed
ones; median and p95 (nearest rank) in milliseconds. The baseline for each page is the same kind of page of
the same table on a second AdminSite where every model has a bare `admin.ModelAdmin` (the admin's defaults:
COUNT(*) for the paginator and for the "of N" total), timed the same way. The machine is shared and has
2 cores: compare the ratio to the baseline more than the absolute times. Target: every page's median under
300 ms. Prints a Markdown table and writes bench/out/admin_bench.json.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import statistics
import subprocess
import sys
import time
import types
import warnings
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
SERVER_URL = "postgres://postgres@127.0.0.1:5432"
DEFAULT_DB = "inboxerr_admin_bench"
TARGET_MS = 300
# Bumped whenever the seed changes, so that --keep seeds again a database an older seed filled.
SEED_VERSION = 3

# The data, at --scale 1.
BIG_IMPORT_ROWS = 600_000
SMALL_IMPORTS, SMALL_IMPORT_ROWS = 40, 10_000
BIG_CAMPAIGNS = 6  # over the big import: five COMPLETED and the newest RUNNING
SMALL_CAMPAIGNS = 135  # over the small imports, in turn
API_SENDS = 50_000
EVENTS = 3_000_000
OPT_OUTS = 20_000
TEMPLATES_EACH = 50
CUSTOMERS = ["northwind", "acme", "globex", "initech"]
ADMIN_USERNAME = "bench-admin"
# What a failed message keeps: the android gateway's SmsManager results and Twilio's error codes.
GATEWAY_ERRORS = [
    "RESULT_ERROR_GENERIC_FAILURE",
    "RESULT_ERROR_NO_SERVICE",
    "RESULT_NETWORK_REJECT",
    "RESULT_ERROR_LIMIT_EXCEEDED",
    "30003",
    "30005",
    "30006",
    "30007",
]
# A number every import of the big file holds, searched as people type it (national format).
SEARCHED_PHONE = "07400 012345"
RARE_NAME = "Quist"  # one contact in 50,000 has it: a search that must look through a whole import


def configure(db_name: str) -> None:
    os.environ.update(
        DATABASE_URL=f"{SERVER_URL}/{db_name}",
        DJANGO_SETTINGS_MODULE="inboxerr.settings",
        DEBUG="false",  # as in production: no query log, cached templates
        SECRET_KEY="bench-only-throwaway-secret-key-" + "x" * 40,
        ALLOWED_HOSTS="testserver",
        SECURE_SSL_REDIRECT="false",  # the test client speaks plain HTTP
        LOG_LEVEL="WARNING",
    )
    sys.path.insert(0, str(ROOT))
    # WhiteNoise looks for collected static files, which the bench neither needs nor makes.
    warnings.filterwarnings("ignore", message="No directory at")


def log(started: float, text: str) -> None:
    print(f"[{time.monotonic() - started:6.1f} s] {text}", flush=True)


# --- The database ----------------------------------------------------------------------------------------


def seed_marker(scale: float) -> str:
    return f"admin_bench seed v{SEED_VERSION} scale {scale}"


def prepare_database(db_name: str, keep: bool, scale: float) -> bool:
    """Create the database unless --keep finds it seeded; answer whether it needs seeding."""
    import psycopg

    with psycopg.connect(f"{SERVER_URL}/postgres", autocommit=True) as conn:
        found = conn.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s", [db_name]
        ).fetchone()
        if keep and found and found[0] == seed_marker(scale):
            return False
        if found:
            conn.execute(f'DROP DATABASE "{db_name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{db_name}"')
    return True


def mark_seeded(db_name: str, scale: float) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"COMMENT ON DATABASE \"{db_name}\" IS '{seed_marker(scale)}'")


# --- Seeding -----------------------------------------------------------------------------------------------

# A UUIDv7 (our message ids: inboxerr.ids.uuid7) for a moment, its random bits drawn from `salt`, so that
# the ids of seeded messages sort by their creation time as real ones do.
UUID7_FUNCTION = """
CREATE FUNCTION pg_temp.uuid7_at(ts timestamptz, salt text) RETURNS uuid LANGUAGE sql IMMUTABLE AS $$
    SELECT (lpad(to_hex(floor(extract(epoch FROM ts) * 1000)::bigint), 12, '0') || '7'
            || substr(md5(salt), 1, 3) || '8' || substr(md5(salt), 4, 15))::uuid
$$
"""

CONTACTS_SQL = """
INSERT INTO imports_contact (owner_id, import_job_id, phone, name, variables, row_number)
SELECT %(owner)s, %(job)s, '+4474' || lpad(((%(first)s + n * %(step)s) %% 700000)::text, 8, '0'),
       CASE WHEN n %% 50000 = 7 THEN 'Ptolemy Quist'
            WHEN n %% 10 = 0 THEN ''
            ELSE (ARRAY['Ann','Bola','Chen','Dara','Eve','Femi','Gus','Hana','Ivo','Jo','Kemi','Lars','Mia',
                        'Nia','Olu','Pia','Raj','Sam','Tess','Zoë'])[1 + n %% 20]
                 || ' ' || (ARRAY['Adams','Brown','Clark','Davies','Evans','Green','Hall','Jones','King','Lewis',
                        'Moore','Okafor','Patel','Roberts','Smith','Taylor','Walker','White','Wood','Young'])
                        [1 + (n / 20) %% 20]
       END,
       jsonb_build_object('order_no', 'A-' || n, 'city', (ARRAY['Leeds','York','Zürich','Bath','Hull'])[1 + n %% 5],
                          'plan', CASE WHEN n %% 3 = 0 THEN 'gold' ELSE 'basic' END),
       n + 1
FROM generate_series(1, %(rows)s) AS n
"""

# One campaign's messages, one per contact of its import: as the fan-out writes them, then as the dispatcher
# and the receipts left them. `done` is how many (in file order) were sent; past it, `rest` (QUEUED, held
# when the campaign is paused, or CANCELLED with the reason message_sync gives) and, for a RUNNING campaign,
# the first few SENDING under a lease.
MESSAGES_SQL = """
INSERT INTO messaging_message (id, owner_id, campaign_id, contact_id, import_job_id, phone, content, variables,
    status, attempts, next_attempt_at, lease_expires_at, claimed_by, verify_before_send, held, gateway_message_id,
    parts_count, error, created_at, updated_at, sent_at, delivered_at, failed_at)
SELECT pg_temp.uuid7_at(created, id::text || ':' || %(campaign)s), %(owner)s, %(campaign)s, id, import_job_id,
       phone, content, variables, status, CASE WHEN status IN ('QUEUED', 'CANCELLED') THEN 0 ELSE 1 END, created,
       CASE WHEN status = 'SENDING' THEN now() + interval '60 seconds' END,
       CASE WHEN status = 'SENDING' THEN 'bench-worker-1' ELSE '' END, false, status = 'QUEUED' AND %(held)s, '',
       CASE WHEN h %% 10 = 0 THEN 2 ELSE 1 END,
       CASE WHEN status = 'FAILED' THEN (%(errors)s::text[])[1 + h %% %(n_errors)s]
            WHEN status = 'CANCELLED' THEN 'The campaign was cancelled.' ELSE '' END,
       created, coalesce(delivered, failed, sent, created), sent, delivered, failed
FROM (
    SELECT *, CASE WHEN status IN ('SENT', 'DELIVERED', 'FAILED') THEN sending END AS sent,
           CASE WHEN status = 'DELIVERED' THEN sending + (3 + h %% 20) * interval '1 second' END AS delivered,
           CASE WHEN status = 'FAILED' THEN sending + (2 + h %% 9) * interval '1 second' END AS failed
    FROM (
        SELECT *, CASE WHEN pos > %(done)s + %(sending)s THEN %(rest)s
                       WHEN pos > %(done)s THEN 'SENDING'
                       WHEN h < 30 THEN 'FAILED' WHEN h < 45 THEN 'SENT' ELSE 'DELIVERED' END AS status
        FROM (
            SELECT c.id, c.import_job_id, c.phone, c.variables, c.row_number - 1 AS pos,
                   (c.id * 7919 + %(campaign)s * 104729) %% 1000 AS h,
                   %(started)s::timestamptz + (c.row_number - 1) * interval '100 microseconds' AS created,
                   %(started)s::timestamptz + (c.row_number - 1) * %(gap)s * interval '1 millisecond' AS sending,
                   'Hi ' || coalesce(nullif(c.name, ''), 'there') || ', your order ' || (c.variables->>'order_no')
                       || ' ships to ' || (c.variables->>'city') || '. Reply STOP to opt out.' AS content
            FROM imports_contact c WHERE c.import_job_id = %(job)s
        ) AS contacts
    ) AS fates
) AS messages
"""

# Single sends from the API: no campaign, no contact.
API_SENDS_SQL = """
INSERT INTO messaging_message (id, owner_id, phone, content, variables, status, attempts, next_attempt_at,
    claimed_by, verify_before_send, held, gateway_message_id, parts_count, error, created_at, updated_at,
    sent_at, delivered_at, failed_at)
SELECT pg_temp.uuid7_at(created, 'api:' || n), owner, phone, 'Your code is ' || (100000 + n %% 900000), '{}',
       status, 1, created, '', false, false, '', 1,
       CASE WHEN status = 'FAILED' THEN (%(errors)s::text[])[1 + h %% %(n_errors)s] ELSE '' END,
       created, created + interval '8 seconds', created + interval '1 second',
       CASE WHEN status = 'DELIVERED' THEN created + interval '6 seconds' END,
       CASE WHEN status = 'FAILED' THEN created + interval '8 seconds' END
FROM (
    SELECT n, (%(owners)s::bigint[])[1 + n %% %(n_owners)s] AS owner,
           '+4479' || lpad((n * 7)::text, 8, '0') AS phone, (n * 7919) %% 1000 AS h,
           CASE WHEN (n * 7919) %% 1000 < 30 THEN 'FAILED' WHEN (n * 7919) %% 1000 < 45 THEN 'SENT'
                ELSE 'DELIVERED' END AS status,
           now() - interval '30 days' + n * (interval '30 days' / %(rows)s) AS created
    FROM generate_series(1, %(rows)s) AS n
) AS sends
"""

# The events of some messages, oldest first (event ids grow with time): the dispatcher's `sent` and the
# gateway's signed receipt (its own event id, unique per source).
EVENTS_SQL = """
INSERT INTO messaging_messageevent (message_id, source, external_id, kind, status, detail, payload, created_at)
SELECT message_id, source, external_id, kind, status, detail, payload, created_at FROM (
    SELECT id AS message_id, 'dispatcher' AS source, '' AS external_id, 'sent' AS kind, 'SENT' AS status,
           '' AS detail, '{}'::jsonb AS payload, sent_at AS created_at
    FROM messaging_message WHERE {where} AND sent_at IS NOT NULL
    UNION ALL
    SELECT id, 'android', 'evt_' || replace(id::text, '-', ''), lower(status), status, error,
           jsonb_build_object('event', 'sms:' || lower(status), 'deviceId', 'bench-phone',
                              'payload', jsonb_build_object('messageId', id, 'phoneNumber', phone)),
           coalesce(delivered_at, failed_at)
    FROM messaging_message WHERE {where} AND status IN ('DELIVERED', 'FAILED')
) AS events ORDER BY created_at
"""

INBOUND_SQL = """
INSERT INTO messaging_messageevent (message_id, source, external_id, kind, status, detail, payload, created_at)
SELECT NULL, 'android', 'in_' || n, CASE WHEN n %% 10 = 0 THEN 'ping' ELSE 'received' END, '', '',
       jsonb_build_object('event', 'sms:received', 'payload', jsonb_build_object('message', 'Thanks')),
       now() - interval '2 days' + n * (interval '2 days' / %(rows)s)
FROM generate_series(1, %(rows)s) AS n
"""

OPT_OUTS_SQL = """
INSERT INTO messaging_optout (owner_id, phone, source, keyword, created_at)
SELECT (%(owners)s::bigint[])[1 + n %% %(n_owners)s], '+4474' || lpad(((n * 37) %% 700000)::text, 8, '0'),
       CASE WHEN n %% 10 < 7 THEN 'android' WHEN n %% 10 < 9 THEN 'api' ELSE 'admin' END,
       CASE WHEN n %% 10 < 7 THEN 'STOP' ELSE '' END,
       now() - interval '60 days' + n * (interval '60 days' / %(rows)s)
FROM generate_series(1, %(rows)s) AS n
"""


def secondary_indexes(cursor, table: str) -> list[tuple[str, str]]:
    """(name, definition) of the indexes of `table` that back no constraint (the primary key stays)."""
    cursor.execute(
        "SELECT indexname, indexdef FROM pg_indexes i WHERE tablename = %s AND NOT EXISTS "
        "(SELECT 1 FROM pg_constraint c WHERE c.conindid = format('%%I.%%I', i.schemaname, i.indexname)::regclass)",
        [table],
    )
    return cursor.fetchall()


def seed(scale: float, started: float) -> None:
    from django.db import connection

    def n(count: int) -> int:
        return max(1, round(count * scale))

    owners, templates = seed_customers()
    log(started, f"{len(owners)} customers, {len(templates)} templates")
    big_job, small_jobs = seed_imports(owners, n(BIG_IMPORT_ROWS), n(SMALL_IMPORT_ROWS))
    log(started, f"{sum(job.imported_rows for job in (big_job, *small_jobs)):,} contacts")
    plans = seed_campaigns(owners, templates, big_job, small_jobs)
    owner_ids = [owner.pk for owner in owners]
    errors = {"errors": GATEWAY_ERRORS, "n_errors": len(GATEWAY_ERRORS)}
    with connection.cursor() as cursor:
        # The rows are valid by construction: no foreign-key check a row, and no index kept up a row at a time.
        cursor.execute("SET session_replication_role = replica")
        cursor.execute("SET synchronous_commit = off")
        cursor.execute("SET maintenance_work_mem = '512MB'")
        cursor.execute(UUID7_FUNCTION)
        dropped = {table: secondary_indexes(cursor, table) for table in ("messaging_message", "messaging_messageevent")}
        for name, _ in [*dropped["messaging_message"], *dropped["messaging_messageevent"]]:
            cursor.execute(f'DROP INDEX "{name}"')

        messages = 0
        for k, plan in enumerate(plans):
            cursor.execute(MESSAGES_SQL, {**plan, **errors})
            messages += cursor.rowcount
            if k < BIG_CAMPAIGNS or k % 20 == 0 or k == len(plans) - 1:
                log(started, f"campaign {k + 1}/{len(plans)}: {messages:,} messages")
        cursor.execute(API_SENDS_SQL, {"rows": n(API_SENDS), "owners": owner_ids, "n_owners": len(owners), **errors})
        messages += cursor.rowcount
        log(started, f"{messages:,} messages; building their indexes")
        for _, definition in dropped["messaging_message"]:
            cursor.execute(definition)

        events = seed_events(cursor, n(EVENTS))
        log(started, f"{events:,} message events; building their indexes")
        for _, definition in dropped["messaging_messageevent"]:
            cursor.execute(definition)

        cursor.execute(OPT_OUTS_SQL, {"rows": n(OPT_OUTS), "owners": owner_ids, "n_owners": len(owners)})
        log(started, f"{cursor.rowcount:,} opt-outs")
        cursor.execute("RESET session_replication_role")
        cursor.execute("RESET synchronous_commit")

    tallies = backfill_tallies()
    log(started, f"{tallies:,} hourly tallies (the migration's backfill); VACUUM ANALYZE")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    log(started, "seeded")


def seed_customers() -> tuple[list, list]:
    from django.contrib.auth import get_user_model

    from templates.models import MessageTemplate

    users = get_user_model().objects
    owners = [users.create(username=name, email=f"ops@{name}.example") for name in CUSTOMERS]
    users.create_superuser(ADMIN_USERNAME, "admin@bench.example", None)
    templates = MessageTemplate.objects.bulk_create(
        MessageTemplate(
            owner=owner,
            name=f"Template {i}",
            content='Hi {{ name|default:"there" }}, your order {{ order_no }} ships to {{ city }}.',
            variables=["name", "order_no", "city"],
            is_active=i % 7 != 0,
        )
        for owner in owners
        for i in range(TEMPLATES_EACH)
    )
    return owners, templates


def seed_imports(owners: list, big_rows: int, small_rows: int) -> tuple:
    """The big file, the small lists (with their contacts), and three imports that did not finish well."""
    from django.db import connection
    from django.utils import timezone

    from imports.models import ImportJob

    now = timezone.now()
    mapping = {
        "phone": "Phone",
        "name": ["Name"],
        "variables": {"Order No.": "order_no", "City": "city", "Plan": "plan"},
    }

    def finished(owner, name: str, rows: int, days_ago: float, **extra) -> ImportJob:
        created = now - timedelta(days=days_ago)
        done = created + timedelta(seconds=rows / 30_000)
        return ImportJob(
            owner=owner,
            status=ImportJob.Status.SUCCESS,
            original_filename=name,
            size_bytes=rows * 52,
            sha256=hashlib.sha256(name.encode()).hexdigest(),
            encoding="utf-8",
            delimiter=",",
            default_region="GB",
            column_mapping=mapping,
            total_rows=rows + extra.get("invalid_rows", 0) + extra.get("duplicate_rows", 0),
            imported_rows=rows,
            attempts=1,
            created_at=created,
            started_at=created,
            heartbeat_at=done,
            finished_at=done,
            **extra,
        )

    # The big file keeps its first 1,000 row errors and repeats, as an import does.
    errors = [
        {"row": 2 + i * 37, "column": "Phone", "message": f"'07{i:03d}' is not a valid phone number."}
        for i in range(1000)
    ]
    repeats = [{"row": 3 + i * 41, "phone": f"+4474{i:08d}", "first_row": 2 + i} for i in range(1000)]
    big = finished(
        owners[0],
        "customers-2026.csv",
        big_rows,
        61,
        invalid_rows=12_400,
        duplicate_rows=9_800,
        errors=errors,
        duplicates=repeats,
    )
    small = [
        finished(owners[i % len(owners)], f"list-{i + 1:02d}.csv", small_rows, 60 - i * 1.4)
        for i in range(SMALL_IMPORTS)
    ]
    unfinished = [
        ImportJob(
            owner=owners[1],
            status=ImportJob.Status.PROCESSING,
            original_filename="today.csv",
            size_bytes=4_000_000,
            total_rows=41_000,
            imported_rows=40_000,
            attempts=1,
            started_at=now,
            heartbeat_at=now,
            created_at=now,
        ),
        ImportJob(
            owner=owners[2],
            status=ImportJob.Status.FAILED,
            original_filename="export.xlsx.csv",
            failure_reason="The file is not text in any encoding tried.",
            finished_at=now,
            created_at=now,
        ),
        ImportJob(
            owner=owners[3],
            status=ImportJob.Status.CANCELLED,
            original_filename="wrong-list.csv",
            finished_at=now,
            created_at=now,
        ),
    ]
    wanted = [(job, job.created_at) for job in (big, *small, *unfinished)]
    ImportJob.objects.bulk_create([job for job, _ in wanted])
    for job, created in wanted:  # created_at is auto_now_add: bulk_create wrote now
        job.created_at = created
        ImportJob.objects.filter(pk=job.pk).update(created_at=created)
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")  # valid by construction: no FK check a row
        cursor.execute(CONTACTS_SQL, {"owner": big.owner_id, "job": big.pk, "first": 0, "step": 1, "rows": big_rows})
        for i, job in enumerate(small):
            # Numbers spread over the big file's and beyond, so that some people are on several lists.
            cursor.execute(
                CONTACTS_SQL, {"owner": job.owner_id, "job": job.pk, "first": i * 15013, "step": 13, "rows": small_rows}
            )
        cursor.execute("RESET session_replication_role")
    return big, small


def seed_campaigns(owners: list, templates: list, big_job, small_jobs: list) -> list[dict]:
    """The campaigns, and for each one with messages what MESSAGES_SQL needs to write them."""
    from django.utils import timezone

    from campaigns.models import Campaign

    now = timezone.now()
    S = Campaign.Status
    campaigns: list[Campaign] = []
    plans: list[dict] = []

    def campaign(owner, job, status, name: str, started_at, done: float = 1.0, rest: str = "QUEUED") -> None:
        """`done`: the share of its messages sent; the rest are `rest` (held while the campaign is paused)."""
        k = len(campaigns)
        template = templates[[o.pk for o in owners].index(owner.pk) * TEMPLATES_EACH + k % TEMPLATES_EACH]
        campaigns.append(
            Campaign(
                owner=owner,
                name=name,
                status=status,
                template=template if k % 2 else None,  # a template or its own text, as the database demands
                message_content="" if k % 2 else "Hi {{ name }}, your order {{ order_no }} ships.",
                import_job=job,
                frozen_content=template.content,
                recipients_count=job.imported_rows,
                fanout_heartbeat_at=started_at,
                fanout_completed_at=started_at + timedelta(minutes=1),
                started_at=started_at,
                completed_at=started_at + timedelta(hours=2) if status in (S.COMPLETED, S.CANCELLED) else None,
            )
        )
        plans.append(
            {
                "owner": owner.pk,
                "job": job.pk,
                "started": started_at,
                "done": round(job.imported_rows * done),
                "sending": 500 if status == S.RUNNING else 0,
                "rest": rest,
                "held": status == S.PAUSED,
                "gap": 5,  # ms between sends: 200 a second
            }
        )

    # The big file's every ten days, the newest running now: 45% sent, a few under a lease, the rest queued.
    for i in range(BIG_CAMPAIGNS):
        running = i == BIG_CAMPAIGNS - 1
        started_at = now - timedelta(days=(BIG_CAMPAIGNS - 1 - i) * 10, hours=2)
        campaign(
            owners[0],
            big_job,
            S.RUNNING if running else S.COMPLETED,
            f"Spring offer, wave {i + 1}",
            started_at,
            done=0.45 if running else 1.0,
        )
    # A small list's every few hours; the newest paused (its unsent messages held), one cancelled half-way.
    for i in range(SMALL_CAMPAIGNS):
        job = small_jobs[i % SMALL_IMPORTS]
        started_at = max(job.created_at, now - timedelta(days=58 - i * 0.42))
        name = f"{job.original_filename.removesuffix('.csv')} reminder {i // SMALL_IMPORTS + 1}"
        if i == SMALL_CAMPAIGNS - 1:
            campaign(job.owner, job, S.PAUSED, name, started_at, done=0.3)
        elif i == SMALL_CAMPAIGNS // 2:
            campaign(job.owner, job, S.CANCELLED, name, started_at, done=0.5, rest="CANCELLED")
        else:
            campaign(job.owner, job, S.COMPLETED, name, started_at)
    Campaign.objects.bulk_create(campaigns)
    for row, plan in zip(campaigns, plans, strict=True):
        plan["campaign"] = row.pk
        Campaign.objects.filter(pk=row.pk).update(created_at=row.started_at - timedelta(hours=1))
    # Scheduled ones and drafts, with no messages yet; one draft over the big file.
    Campaign.objects.bulk_create(
        Campaign(
            owner=owners[i % len(owners)],
            name=f"Idea {i + 1}",
            message_content="Hello {{ name }}!",
            status=S.SCHEDULED if i < 3 else S.DRAFT,
            scheduled_at=now + timedelta(days=i + 1) if i < 3 else None,
            import_job=big_job if i == 3 else small_jobs[i],
        )
        for i in range(8)
    )
    return plans


def seed_events(cursor, wanted: int) -> int:
    """Events of the newest messages, a campaign at a time back in time until there are enough, written oldest
    first (their ids grow with time, as real ones do), and inbound SMS about no message of ours."""
    inbound = wanted // 50
    cursor.execute(
        "SELECT campaign_id, count(sent_at) + count(*) FILTER (WHERE status IN ('DELIVERED', 'FAILED')) "
        "FROM messaging_message GROUP BY campaign_id ORDER BY max(created_at) DESC"
    )
    chosen, planned = [], inbound
    for campaign_id, count in cursor.fetchall():
        if planned >= wanted:
            break
        chosen.append(campaign_id)
        planned += count
    events = 0
    for campaign_id in reversed(chosen):
        where = "campaign_id IS NULL" if campaign_id is None else f"campaign_id = {int(campaign_id)}"
        cursor.execute(EVENTS_SQL.replace("{where}", where))
        events += cursor.rowcount
    cursor.execute(INBOUND_SQL, {"rows": inbound})
    return events + cursor.rowcount


def backfill_tallies() -> int:
    """The hourly tallies as the running system would hold them: the tally migration's backfill, run again
    over the seeded messages and opt-outs."""
    import importlib

    from django.db import connection

    from messaging.models import Tally

    Tally.objects.all().delete()
    migration = importlib.import_module("messaging.migrations.0009_tallies")
    migration.backfill(None, types.SimpleNamespace(connection=connection))
    return Tally.objects.count()


def database_figures() -> dict[str, int]:
    from django.db import connection

    tables = {
        "contacts": "imports_contact",
        "messages": "messaging_message",
        "events": "messaging_messageevent",
        "opt_outs": "messaging_optout",
        "campaigns": "campaigns_campaign",
        "imports": "imports_importjob",
        "templates": "message_templates_messagetemplate",
    }
    with connection.cursor() as cursor:
        figures = {}
        for name, table in tables.items():
            cursor.execute(f"SELECT count(*) FROM {table}")
            figures[name] = cursor.fetchone()[0]
    return figures


# --- The pages ----------------------------------------------------------------------------------------------


@dataclass
class Page:
    name: str
    url: str
    baseline: str  # the same kind of page on the bare admin site


def pages() -> list[Page]:
    from django.urls import reverse

    from campaigns.models import Campaign
    from imports.models import ImportJob

    def ours(name: str, *args: object) -> str:
        return reverse(f"admin:{name}", args=args)

    def bare(name: str, *args: object) -> str:
        return reverse(f"bare:{name}", args=args)

    big = list(Campaign.objects.filter(recipients_count__gte=1).order_by("-recipients_count", "id"))
    running = next(c for c in big if c.status == Campaign.Status.RUNNING)
    draft = Campaign.objects.filter(status=Campaign.Status.DRAFT).order_by("-import_job__imported_rows").first()
    oldest = min((c for c in big if c.recipients_count == running.recipients_count), key=lambda c: c.pk)
    finished = ImportJob.objects.filter(status=ImportJob.Status.SUCCESS)
    big_job, small_job = finished.order_by("-imported_rows", "id").first(), finished.order_by("-id").first()
    if big_job is None or small_job is None or draft is None:
        raise SystemExit("The database holds no seeded imports: run without --keep.")
    messages, bare_messages = ours("messaging_message_changelist"), bare("messaging_message_changelist")
    events, bare_events = ours("messaging_messageevent_changelist"), bare("messaging_messageevent_changelist")
    contacts, bare_contacts = ours("imports_contact_changelist"), bare("imports_contact_changelist")
    phone = SEARCHED_PHONE.replace(" ", "+")
    big_rows, small_rows = f"{big_job.imported_rows:,}", f"{small_job.imported_rows:,}"

    def change(model: str, pk: int) -> tuple[str, str]:
        return ours(f"{model}_change", pk), bare(f"{model}_change", pk)

    def changelist(model: str) -> tuple[str, str]:
        return ours(f"{model}_changelist"), bare(f"{model}_changelist")

    # A bare ModelAdmin has neither filters nor search: a narrowed list's baseline is its table's whole list.
    return [
        Page("dashboard", ours("index"), bare("index")),
        Page("campaigns", *changelist("campaigns_campaign")),
        Page(
            f"campaign page, running ({running.recipients_count:,} messages)", *change("campaigns_campaign", running.pk)
        ),
        Page(
            f"campaign page, completed ({oldest.recipients_count:,} messages)", *change("campaigns_campaign", oldest.pk)
        ),
        Page(f"campaign page, draft ({big_rows} contacts)", *change("campaigns_campaign", draft.pk)),
        Page("messages", messages, bare_messages),
        Page("messages of a campaign (the oldest big one)", f"{messages}?campaign={oldest.pk}", bare_messages),
        Page("messages of a campaign, failed", f"{messages}?campaign={oldest.pk}&status__exact=FAILED", bare_messages),
        Page(f"messages searched by phone ({SEARCHED_PHONE})", f"{messages}?q={phone}", bare_messages),
        Page("messages, failed", f"{messages}?status__exact=FAILED", bare_messages),
        Page("messages, cancelled", f"{messages}?status__exact=CANCELLED", bare_messages),
        Page("messages, sent (awaiting a receipt)", f"{messages}?status__exact=SENT", bare_messages),
        Page("message events", events, bare_events),
        Page("message events, failed", f"{events}?kind__exact=failed", bare_events),
        Page("contacts", contacts, bare_contacts),
        Page(f"contacts of an import ({big_rows}), its columns", f"{contacts}?import_job={big_job.pk}", bare_contacts),
        Page(
            f"contacts of an import ({small_rows}), its columns", f"{contacts}?import_job={small_job.pk}", bare_contacts
        ),
        Page(f"contacts searched by phone ({SEARCHED_PHONE})", f"{contacts}?q={phone}", bare_contacts),
        Page(
            f"contacts of an import searched by phone ({SEARCHED_PHONE})",
            f"{contacts}?import_job={big_job.pk}&q={phone}",
            bare_contacts,
        ),
        Page(
            f"contacts of an import searched by name ({RARE_NAME})",
            f"{contacts}?import_job={big_job.pk}&q={RARE_NAME}",
            bare_contacts,
        ),
        Page("imports", *changelist("imports_importjob")),
        Page(f"import page ({big_rows} contacts)", *change("imports_importjob", big_job.pk)),
        Page("opt-outs", *changelist("messaging_optout")),
        Page("templates", *changelist("message_templates_messagetemplate")),
    ]


def install_bare_site() -> None:
    """A second admin site at /bare-admin/ where the same models have the admin's defaults, beside ours."""
    from django.contrib import admin
    from django.test.utils import override_settings
    from django.urls import include, path

    from campaigns.models import Campaign
    from imports.models import Contact, ImportJob
    from messaging.models import Message, MessageEvent, OptOut
    from templates.models import MessageTemplate

    class BareAdmin(admin.ModelAdmin):
        # The admin's own page templates, not the ones our apps give their models.
        change_list_template = "admin/change_list.html"
        change_form_template = "admin/change_form.html"

    site = admin.AdminSite(name="bare")
    for model in (Campaign, ImportJob, Contact, Message, MessageEvent, OptOut, MessageTemplate):
        site.register(model, BareAdmin)
    urls = types.ModuleType("admin_bench_urls")
    # Its own namespace, not "admin": the links our templates draw ({% url 'admin:...' %}) then lead to our
    # site's pages instead of failing where the bare site lacks our extra pages.
    urls.urlpatterns = [  # type: ignore[attr-defined]
        path("bare-admin/", (site.get_urls(), "bare", "bare")),
        path("", include("inboxerr.urls")),
    ]
    sys.modules[urls.__name__] = urls
    # Static names as they are (production's manifest needs collectstatic, which the bench does not run).
    storages = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    override_settings(ROOT_URLCONF=urls.__name__, STORAGES=storages).enable()


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest rank."""
    return sorted_values[min(len(sorted_values) - 1, max(0, math.ceil(q * len(sorted_values)) - 1))]


def measure(client, url: str, requests: int, show_queries: bool) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    # A request starts by emptying the query log (Django's reset_queries): empty it first, so that the
    # context's count, taken from where the log stood, counts from nought.
    connection.queries_log.clear()
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    queries = list(captured.captured_queries)  # read now: the next request empties the log again
    if response.status_code != 200:
        raise SystemExit(f"{url} answered {response.status_code}")
    if show_queries:
        for query in sorted(queries, key=lambda q: -float(q["time"]))[:5]:
            print(f"    {float(query['time']) * 1000:7.1f} ms  {query['sql'][:400]}")
    times = []
    for _ in range(requests):
        begun = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - begun) * 1000)
        assert response.status_code == 200, url
    times.sort()
    return {
        "url": url,
        "queries": len(queries),
        "median_ms": round(statistics.median(times), 1),
        "p95_ms": round(percentile(times, 0.95), 1),
    }


def run_pages(requests: int, only: str, show_queries: bool, started: float) -> list[dict]:
    from django.contrib.auth import get_user_model
    from django.test import Client

    install_bare_site()
    client = Client()
    client.force_login(get_user_model().objects.get(username=ADMIN_USERNAME))
    rows, baselines = [], {}

    def measure_one(url: str) -> dict:
        return measure(client, url, requests, show_queries)

    for page in pages():
        if only and only.lower() not in page.name.lower():
            continue
        ours = measure_one(page.url)
        if page.baseline not in baselines:
            baselines[page.baseline] = measure_one(page.baseline)
        bare = baselines[page.baseline]
        rows.append(
            {"page": page.name, **ours, "baseline": bare, "ratio": round(ours["median_ms"] / bare["median_ms"], 2)}
        )
        log(started, f"{page.name}: {ours['median_ms']} ms ({ours['queries']} queries), bare {bare['median_ms']} ms")
    return rows


def table(rows: list[dict]) -> str:
    lines = [
        "| page | queries | median | p95 | bare admin: queries | median | p95 | page / bare |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        bare = row["baseline"]
        lines.append(
            f"| {row['page']} | {row['queries']} | {row['median_ms']:.0f} ms | {row['p95_ms']:.0f} ms "
            f"| {bare['queries']} | {bare['median_ms']:.0f} ms | {bare['p95_ms']:.0f} ms | {row['ratio']:.2f}x |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--keep", action="store_true", help="reuse the database when it holds this seed")
    parser.add_argument("--db", default=DEFAULT_DB, help=f"the database to fill (default {DEFAULT_DB})")
    parser.add_argument("--requests", type=int, default=20, help="timed requests per page (default 20)")
    parser.add_argument("--scale", type=float, default=1.0, help="a fraction of the data, for a quick try")
    parser.add_argument("--pages", default="", help="only the pages whose name contains this")
    parser.add_argument("--queries", action="store_true", help="print each page's slowest SQL queries")
    args = parser.parse_args()
    started = time.monotonic()
    configure(args.db)
    needs_seed = prepare_database(args.db, args.keep, args.scale)

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    if needs_seed:
        log(started, f"seeding {args.db} (scale {args.scale})")
        seed(args.scale, started)
        mark_seeded(args.db, args.scale)
    else:
        log(started, f"reusing {args.db}")
    figures = database_figures()
    rows = run_pages(args.requests, args.pages, args.queries, started)

    options = [("--keep", args.keep), (f"--requests {args.requests}", args.requests != 20)]
    options.append((f"--scale {args.scale}", args.scale != 1.0))
    command = "python bench/admin_bench.py" + "".join(f" {flag}" for flag, given in options if given)
    result = {
        "command": command,
        "database": args.db,
        "data": figures,
        "requests_per_page": args.requests,
        "target_median_ms": TARGET_MS,
        "pages": rows,
        "commit": code_version(),
    }
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "admin_bench.json").write_text(json.dumps(result, indent=2))
    print(f"\n$ {command}\n")
    print(", ".join(f"{n:,} {name.replace('_', '-')}" for name, n in figures.items()) + "\n")
    print(table(rows))
    missed = [row["page"] for row in rows if row["median_ms"] >= TARGET_MS]
    verdict = "PASS" if not missed else "MISS"
    print(
        f"\n{verdict}  every page's median under {TARGET_MS} ms" + (f"; over it: {', '.join(missed)}" if missed else "")
    )


def code_version() -> str:
    """The commit under test (read-only: rev-parse neither refreshes nor writes the index)."""
    try:
        found = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    except OSError:
        return "unknown"
    return found.stdout.strip() or "unknown"


if __name__ == "__main__":
    main()
