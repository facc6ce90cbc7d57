"""Benchmark of the hot paths on empty tables and on grown ones: each must stay within 1.2x as the tables grow.

    .venv/bin/python bench/growth_bench.py                       # 10M messages, 1M contacts, 5M events
    .venv/bin/python bench/growth_bench.py --messages 1000000 --contacts 100000 --events 500000   # a quick run
    .venv/bin/python bench/growth_bench.py --keep                # reuse a grown database this script filled

Three databases on 127.0.0.1:5432: inboxerr_growthbench_base, freshly migrated, with one customer (the
bench user, an API token, a superuser) and one finished import of 10,000 contacts; inboxerr_growthbench_empty,
a copy of it made at every run; and inboxerr_growthbench, a copy of it then grown with set-based SQL (INSERT
... SELECT over generate_series, in chunks of --chunk rows, so neither this process nor the server's memory
grows with the size; foreign-key triggers off for the load, the rows being valid by construction; every
index kept and written as the app would): --contacts contacts in imports of 10,000 owned by four customers
(two fifths by the bench user; the first import holds the same numbers as the bench user's own); --messages
final messages, one campaign over each import in turn, the campaigns spread over the last 90 days, ids
time-ordered UUIDv7 as the app's (inboxerr.ids), about 92% DELIVERED, 3% FAILED, 2% SENT awaiting a receipt
and 3% CANCELLED; --events message events (the gateway's receipts, the dispatcher's and the API's), written
with their messages; then VACUUM ANALYZE.

After a warm-up round (code loaded, caches filled; not counted), --rounds rounds; in each, the empty
database and then the grown one go through the same steps:

- fan-out: a new campaign over the bench user's 10,000 contacts is started and fanned out by the worker code
  (campaigns.fanout.campaign_fan_out), timed;
- claim: a dispatcher's claim of a 200-message batch of it (messaging.dispatcher.claims.claim_due), one
  untimed and --repeat timed, each taking the next 200 QUEUED messages;
- stats: campaigns.selectors.campaign_stats of that campaign, as its API and admin page read it;
- the messages list through the API (GET /api/v1/messages/ with the bench user's token, Django's test
  client in this process): the first page, and a cursor page halfway down the user's messages (10,000 to
  50,000 messages deep on the empty tables, about 2 million on the grown ones);
- a phone lookup: GET /api/v1/messages/?phone=07400 000123 (one of the bench user's contacts, which other
  customers have messaged too once the tables have grown);
- dispatch: that campaign's unsent messages are cancelled, a second new 10,000-message campaign is fanned
  out (timed too) and sent by --dispatchers dispatcher processes (messaging.dispatcher.dispatch, the android
  backend on its aiohttp transport) to the gateway simulator (manage.py fake_gateway, answering each send
  after 50 ms), as bench/dispatch_bench.py does; messages/s from the first claim to the last record.

Each round starts with ANALYZE of the tables in use, as autovacuum would have by then (the empty database
is minutes old). Alternating the databases round by round keeps the load of a shared machine (2 CPUs) out
of the ratios. The "empty" tables hold only the bench's own campaigns: 10,000 to 110,000 messages. Each
figure is the median of its samples over all rounds; the ratio is grown / empty for times and empty / grown
for the dispatch rate (over 1 means slower on the grown tables). Target: each ratio at most 1.2. Prints a
Markdown table and writes bench/out/growth_bench.json.
"""

from __future__ import annotations

import argparse
import base64
import json
import math
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
import warnings
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

from dispatch_bench import dispatcher_script, run_together

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
SERVER_URL = "postgres://postgres@127.0.0.1:5432"
BASE_DB, EMPTY_DB, GROWN_DB = "inboxerr_growthbench_base", "inboxerr_growthbench_empty", "inboxerr_growthbench"
# Bumped whenever the fill changes, so that --keep fills again a database an older version filled.
SEED_VERSION = 1
TARGET_RATIO = 1.2

BENCH_CONTACTS = 10_000  # the bench user's own import: each round's new campaigns go to these
IMPORT_ROWS = 10_000  # the size of each grown import, and so of each grown campaign
DAYS = 90
CLAIM_BATCH = 200
LOOKED_UP_PHONE = "07400 000123"  # +447400000123, as people type it
USERNAME, OTHER_USERS, ADMIN_USERNAME = "bench", ["acme", "globex", "initech"], "bench-admin"
TEXT = 'Hi {{ name|default:"there" }}, your order {{ order_no }} ships to {{ city }}.'


def configure() -> None:
    os.environ.update(
        DATABASE_URL=f"{SERVER_URL}/{BASE_DB}",
        DJANGO_SETTINGS_MODULE="inboxerr.settings",
        DEBUG="false",  # as in production: no query log
        SECRET_KEY="bench-only-throwaway-secret-key-" + "x" * 40,
        ALLOWED_HOSTS="testserver",
        SECURE_SSL_REDIRECT="false",  # the test client speaks plain HTTP
        LOG_LEVEL="WARNING",
        SMS_BACKEND="android",
        SMS_GATEWAY_LOGIN="sim",
        SMS_GATEWAY_PASSWORD="sim",
    )
    sys.path.insert(0, str(ROOT))
    warnings.filterwarnings("ignore", message="No directory at")  # WhiteNoise's static files: not needed here


def log(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", flush=True)


# --- The databases -----------------------------------------------------------------------------------------


def server(statement: str, params=()) -> list:
    import psycopg

    with psycopg.connect(f"{SERVER_URL}/postgres", autocommit=True) as conn:
        cursor = conn.execute(statement, params)
        return cursor.fetchall() if cursor.description else []


def seed_marker(args) -> str:
    return f"growth_bench seed v{SEED_VERSION}: {args.messages} messages {args.contacts} contacts {args.events} events"


def use_database(name: str) -> None:
    """Point Django's connection at another of the bench's databases (it reconnects on the next query)."""
    from django.db import connection

    connection.close()
    connection.settings_dict["NAME"] = name


def clone(source: str, target: str) -> None:
    import psycopg
    from django.db import connection

    connection.close()  # CREATE DATABASE ... TEMPLATE needs the source to have no session
    server(f'DROP DATABASE IF EXISTS "{target}" WITH (FORCE)')
    for attempt in range(20):
        try:
            server(f'CREATE DATABASE "{target}" TEMPLATE "{source}"')
            return
        except psycopg.errors.ObjectInUse:  # an autovacuum worker visiting the source: wait for it
            if attempt == 19:
                raise
            time.sleep(0.5)


def prepare(args) -> bool:
    """The base database (made afresh unless --keep finds the grown one filled as asked), the empty copy;
    answers whether the grown database must be filled."""
    import django

    found = server("SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s", [GROWN_DB])
    base = server("SELECT 1 FROM pg_database WHERE datname = %s", [BASE_DB])
    reuse = args.keep and base and found and found[0][0] == seed_marker(args)
    if not reuse:
        for name in (GROWN_DB, EMPTY_DB, BASE_DB):
            server(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        server(f'CREATE DATABASE "{BASE_DB}"')
        subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, check=True)
    django.setup()
    if not reuse:
        set_up_base()
        clone(BASE_DB, GROWN_DB)
    else:
        forget_earlier_runs()
    clone(BASE_DB, EMPTY_DB)  # the empty database starts empty at every run
    return not reuse


def set_up_base() -> None:
    """One customer as a new deployment has it: the bench user with an import of 10,000 contacts."""
    from django.contrib.auth import get_user_model
    from django.db import connection

    from imports.models import ImportJob

    users = get_user_model().objects
    owner = users.create(username=USERNAME, email="ops@bench.example")
    users.create_superuser(ADMIN_USERNAME, "admin@bench.example", None)
    job = ImportJob.objects.create(
        owner=owner,
        status=ImportJob.Status.SUCCESS,
        original_filename="bench.csv",
        column_mapping={"variables": {"Order No.": "order_no", "City": "city"}},
        total_rows=BENCH_CONTACTS,
        imported_rows=BENCH_CONTACTS,
    )
    with connection.cursor() as cursor:
        cursor.execute(CONTACTS_SQL, {"first": 0, "rows": BENCH_CONTACTS, "per_import": BENCH_CONTACTS,
                                      "jobs": [job.pk], "owners": [owner.pk], "base": 0})  # fmt: skip
        cursor.execute("SELECT setval(pg_get_serial_sequence('imports_contact', 'id'), max(id)) FROM imports_contact")


def forget_earlier_runs() -> None:
    """The grown database as filled: without the campaigns earlier runs sent over the bench user's import, which
    would lengthen its phone lookup's answer and leave their dead rows and index entries to this run."""
    from django.db import connection

    use_database(GROWN_DB)
    ours = (
        "SELECT c.id FROM campaigns_campaign c JOIN imports_importjob j ON j.id = c.import_job_id "
        "WHERE j.original_filename = 'bench.csv'"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM messaging_messageevent WHERE message_id IN "
            f"(SELECT id FROM messaging_message WHERE campaign_id IN ({ours}))"
        )
        cursor.execute(f"DELETE FROM messaging_message WHERE campaign_id IN ({ours})")
        log(f"{cursor.rowcount:,} messages of earlier runs deleted; VACUUM ANALYZE")
        cursor.execute(f"DELETE FROM campaigns_campaign WHERE id IN ({ours})")
        cursor.execute("VACUUM ANALYZE messaging_message, messaging_messageevent, campaigns_campaign")


# --- Growing the tables ------------------------------------------------------------------------------------

# A UUIDv7 (our message ids: inboxerr.ids.uuid7) for a moment, its random bits drawn from `salt`, so that
# the ids of the grown messages sort by their creation time as real ones do.
UUID7_FUNCTION = """
CREATE FUNCTION pg_temp.uuid7_at(ts timestamptz, salt text) RETURNS uuid LANGUAGE sql IMMUTABLE AS $$
    SELECT (lpad(to_hex(floor(extract(epoch FROM ts) * 1000)::bigint), 12, '0') || '7'
            || substr(md5(salt), 1, 3) || '8' || substr(md5(salt), 4, 15))::uuid
$$
"""

# Contacts n = first .. first + rows - 1 (0-based over every grown contact): import n / per_import, number
# +4474 followed by n + 1 on 8 digits, so the first import holds the bench user's own 10,000 numbers.
CONTACTS_SQL = """
INSERT INTO imports_contact (id, owner_id, import_job_id, phone, name, variables, row_number, line_type, phone_column)
SELECT %(base)s + n + 1, (%(owners)s::bigint[])[1 + n / %(per_import)s], (%(jobs)s::bigint[])[1 + n / %(per_import)s],
       '+4474' || lpad((n + 1)::text, 8, '0'),
       CASE WHEN n %% 10 = 0 THEN '' WHEN n %% 7 = 0 THEN 'Zoë' ELSE 'Person ' || n END,
       jsonb_build_object('order_no', 'A-' || n, 'city', CASE WHEN n %% 5 = 0 THEN 'Zürich' ELSE 'Leeds' END),
       n %% %(per_import)s + 2, 'mobile', ''
FROM generate_series(%(first)s, %(first)s + %(rows)s - 1) AS n
"""

# Messages m = first .. first + rows - 1: campaign m / per_campaign over import (m / per_campaign) mod imports,
# one message per contact, the campaigns evenly spread over the last DAYS days, 10 ms between two messages of
# a campaign. Each message's events are written by the same statement, from the rows it inserted: a share
# `receipts` (per thousand) gets its final event (the gateway's signed receipt, the dispatcher's `sent`, the
# API's `cancelled`), a share `extra` of the sent ones also the dispatcher's `sent` before the receipt.
MESSAGES_SQL = f"""
WITH messages AS (
    INSERT INTO messaging_message (id, owner_id, campaign_id, contact_id, import_job_id, task_id, phone, content,
        variables, status, attempts, next_attempt_at, lease_expires_at, claimed_by, gateway_message_id, parts_count,
        error, created_at, updated_at, sent_at, delivered_at, failed_at, verify_before_send, held, send_window,
        waiting)
    SELECT pg_temp.uuid7_at(created, m::text), owner, campaign, %(contact_base)s + contact + 1, job, NULL, phone,
           'Hi ' || CASE WHEN contact %% 10 = 0 THEN 'there' ELSE 'Person ' || contact END || ', your order A-'
               || contact || ' ships to Leeds.' || CASE WHEN h %% 10 = 0 THEN repeat(' More news soon.', 8) ELSE '' END,
           jsonb_build_object('order_no', 'A-' || contact, 'city', 'Leeds'),
           status, CASE WHEN status = 'CANCELLED' THEN 0 ELSE 1 END, created, NULL, '', '',
           CASE WHEN h %% 10 = 0 THEN 2 ELSE 1 END,
           CASE WHEN status = 'FAILED' THEN 'RESULT_ERROR_GENERIC_FAILURE'
                WHEN status = 'CANCELLED' THEN 'The campaign was cancelled.' ELSE '' END,
           created, coalesce(delivered, failed, sent, created), sent, delivered, failed, false, false, '', ''
    FROM (
        SELECT *, CASE WHEN status = 'DELIVERED' THEN sent + (3 + h %% 20) * interval '1 second' END AS delivered,
                  CASE WHEN status = 'FAILED' THEN sent + (2 + h %% 9) * interval '1 second' END AS failed
        FROM (
            SELECT *, CASE WHEN status <> 'CANCELLED' THEN created + interval '2 seconds' END AS sent
            FROM (
                SELECT m, campaign, owner, job, contact, '+4474' || lpad((contact + 1)::text, 8, '0') AS phone, h,
                       CASE WHEN h < 30 THEN 'FAILED' WHEN h < 50 THEN 'SENT' WHEN h < 80 THEN 'CANCELLED'
                            ELSE 'DELIVERED' END AS status,
                       %(now)s::timestamptz - interval '{DAYS} days' + k * (interval '{DAYS} days' / %(campaigns)s)
                           + (m %% %(per_campaign)s) * interval '10 milliseconds' AS created
                FROM (
                    SELECT m, k, (%(campaign_ids)s::bigint[])[1 + k] AS campaign,
                           (%(owners)s::bigint[])[1 + k %% %(imports)s] AS owner,
                           (%(jobs)s::bigint[])[1 + k %% %(imports)s] AS job,
                           (k %% %(imports)s) * %(per_import)s + m %% %(per_campaign)s AS contact,
                           (m * 7919 + k * 104729) %% 1000 AS h
                    FROM (SELECT m, m / %(per_campaign)s AS k
                          FROM generate_series(%(first)s::bigint, %(first)s + %(rows)s - 1) AS m) AS numbered
                ) AS placed
            ) AS fated
        ) AS sending
    ) AS timed
    RETURNING id, phone, status, error, created_at, sent_at, delivered_at, failed_at
)
INSERT INTO messaging_messageevent (message_id, source, external_id, kind, status, detail, payload, created_at)
SELECT id, source, external_id, kind, status, detail, payload, at FROM (
    SELECT id, 'dispatcher' AS source, '' AS external_id, 'sent' AS kind, 'SENT' AS status, '' AS detail,
           '{{}}'::jsonb AS payload, sent_at AS at, 0 AS o
    FROM messages WHERE sent_at IS NOT NULL AND status <> 'SENT' AND abs(hashtext(id::text) / 1000) %% 1000 < %(extra)s
    UNION ALL
    SELECT id, CASE status WHEN 'SENT' THEN 'dispatcher' WHEN 'CANCELLED' THEN 'api' ELSE 'android' END,
           CASE WHEN status IN ('DELIVERED', 'FAILED') THEN 'evt_' || replace(id::text, '-', '') ELSE '' END,
           lower(status), status, error,
           CASE WHEN status IN ('DELIVERED', 'FAILED') THEN jsonb_build_object('event', 'sms:' || lower(status),
               'deviceId', 'bench-phone', 'payload', jsonb_build_object('messageId', id, 'phoneNumber', phone))
                ELSE '{{}}'::jsonb END,
           coalesce(delivered_at, failed_at, sent_at, created_at), 1
    FROM messages WHERE abs(hashtext(id::text)) %% 1000 < %(receipts)s
) AS events ORDER BY at, o
"""


def grow(args) -> dict:
    """Fill the grown database; answers what it wrote and how long it took."""
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.utils import timezone

    from campaigns.models import Campaign
    from imports.models import ImportJob

    started = time.monotonic()
    use_database(GROWN_DB)
    users = get_user_model().objects
    bench = users.get(username=USERNAME)
    others = [users.create(username=name, email=f"ops@{name}.example") for name in OTHER_USERS]
    # Import i belongs to this cycle's i-th customer: the first to another customer, two in five to the bench user.
    cycle = [others[0], bench, bench, others[1], others[2]]
    imports = max(1, args.contacts // IMPORT_ROWS)
    per_import = args.contacts // imports
    campaigns = math.ceil(args.messages / per_import)
    now = timezone.now()
    jobs = ImportJob.objects.bulk_create(
        ImportJob(
            owner=cycle[i % len(cycle)],
            status=ImportJob.Status.SUCCESS,
            original_filename=f"list-{i + 1:04d}.csv",
            column_mapping={"variables": {"Order No.": "order_no", "City": "city"}},
            total_rows=per_import,
            imported_rows=per_import,
            line_types={"mobile": per_import},
            created_at=now,
        )
        for i in range(imports)
    )
    job_ids, owner_ids = [job.pk for job in jobs], [job.owner_id for job in jobs]

    def begun(k: int) -> datetime:  # as MESSAGES_SQL spreads them
        return now - timedelta(days=DAYS) + k * timedelta(days=DAYS) / campaigns

    made = Campaign.objects.bulk_create(
        Campaign(
            owner_id=owner_ids[k % imports],
            name=f"Campaign {k + 1}",
            status=Campaign.Status.COMPLETED,
            message_content=TEXT,
            frozen_content=TEXT,
            import_job_id=job_ids[k % imports],
            recipients_count=per_import,
            started_at=begun(k),
            fanout_completed_at=begun(k) + timedelta(seconds=per_import / 100),
            completed_at=begun(k) + timedelta(seconds=per_import / 100 + 30),
        )
        for k in range(campaigns)
    )
    campaign_ids = [c.pk for c in made]
    log(f"{len(jobs)} imports of {per_import:,}, {len(made)} campaigns")

    receipts = min(1000, round(1000 * args.events / args.messages))
    extra = max(0, min(1000, round(1000 * args.events / args.messages) - 1000))
    with connection.cursor() as cursor:
        # Valid by construction: no foreign-key check a row (the triggers are off for this session only).
        cursor.execute("SET session_replication_role = replica")
        cursor.execute("SET synchronous_commit = off")
        cursor.execute(UUID7_FUNCTION)
        cursor.execute("SELECT coalesce(max(id), 0) FROM imports_contact")
        contact_base = cursor.fetchone()[0]
        for first in range(0, imports * per_import, args.chunk):
            rows = min(args.chunk, imports * per_import - first)
            cursor.execute(CONTACTS_SQL, {"first": first, "rows": rows, "per_import": per_import, "jobs": job_ids,
                                          "owners": owner_ids, "base": contact_base})  # fmt: skip
        cursor.execute("SELECT setval(pg_get_serial_sequence('imports_contact', 'id'), max(id)) FROM imports_contact")
        log(f"{imports * per_import:,} contacts")
        for first in range(0, args.messages, args.chunk):
            rows = min(args.chunk, args.messages - first)
            cursor.execute(MESSAGES_SQL, {
                "first": first, "rows": rows, "per_campaign": per_import, "per_import": per_import,
                "imports": imports, "campaigns": campaigns, "campaign_ids": campaign_ids, "owners": owner_ids,
                "jobs": job_ids, "contact_base": contact_base, "receipts": receipts, "extra": extra, "now": now,
            })  # fmt: skip
            done = first + rows
            rate = done / (time.monotonic() - started)
            log(f"{done:,} messages ({rate:,.0f}/s), {cursor.rowcount:,} events in the last chunk")
        cursor.execute("RESET session_replication_role")
        cursor.execute("RESET synchronous_commit")
        # The campaigns as they ran: each began with its first message and ended a little after its last.
        cursor.execute(
            "UPDATE campaigns_campaign SET created_at = started_at, updated_at = completed_at WHERE id = ANY(%s)",
            [campaign_ids],
        )
        log("VACUUM ANALYZE")
        cursor.execute("VACUUM ANALYZE")
        counts = {}
        for table in ("messaging_message", "imports_contact", "messaging_messageevent", "campaigns_campaign"):
            cursor.execute(f"SELECT count(*) FROM {table}")
            counts[table] = cursor.fetchone()[0]
        cursor.execute(f"COMMENT ON DATABASE \"{GROWN_DB}\" IS '{seed_marker(args)}'")
    seconds = time.monotonic() - started
    log(f"grown in {seconds:.0f} s: {counts}")
    return {"seconds": round(seconds), "rows": counts}


TABLES = {"messaging_message": "messages", "imports_contact": "contacts", "messaging_messageevent": "events"}


def table_sizes() -> dict:
    from django.db import connection

    sizes = {}
    with connection.cursor() as cursor:
        for table, name in TABLES.items():
            cursor.execute(f"SELECT count(*) FROM {table}")
            sizes[name] = cursor.fetchone()[0]
    return sizes


# --- The measurements --------------------------------------------------------------------------------------

# Every dispatcher starts at once, and stops when the campaign (argv[2]) has nothing QUEUED or SENDING.
WORKER = dispatcher_script(
    done='not Message.objects.filter(campaign_id=int(sys.argv[2]), status__in=["QUEUED", "SENDING"]).exists()',
    wait_for_go=True,
)


def timed(fn, repeat: int) -> list[float]:
    """Milliseconds of `repeat` calls, after one untimed call."""
    fn()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def new_campaign(name: str):
    """A new campaign over the bench user's import, started and fanned out; (campaign, fan-out seconds)."""
    from campaigns.fanout import campaign_fan_out
    from campaigns.models import Campaign
    from campaigns.services import campaign_start
    from imports.models import ImportJob

    job = ImportJob.objects.get(owner__username=USERNAME, original_filename="bench.csv")
    campaign = campaign_start(
        campaign=Campaign.objects.create(owner=job.owner, name=name, import_job=job, message_content=TEXT)
    )
    started = time.perf_counter()
    result = campaign_fan_out(campaign_id=campaign.pk)
    seconds = time.perf_counter() - started
    assert result is not None, campaign.pk
    assert result.queued == BENCH_CONTACTS, result
    return Campaign.objects.get(pk=campaign.pk), seconds


def api_client():
    from django.contrib.auth import get_user_model
    from rest_framework.test import APIClient

    from inboxerr.tokens import token_create

    _, token = token_create(user_id=get_user_model().objects.get(username=USERNAME).pk)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def deep_cursor(owner_id: int) -> tuple[str, int]:
    """A cursor halfway down the user's messages, newest first, as the API encodes it; and its depth."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM messaging_message WHERE owner_id = %s", [owner_id])
        depth = cursor.fetchone()[0] // 2
        cursor.execute(
            "SELECT id FROM messaging_message WHERE owner_id = %s ORDER BY id DESC OFFSET %s LIMIT 1", [owner_id, depth]
        )
        position = cursor.fetchone()[0]
    return base64.b64encode(urlencode({"p": str(position)}).encode()).decode(), depth


def get(client, path: str, params: dict, expect_rows: int | None = None):
    def call():
        response = client.get(path, params)
        assert response.status_code == 200, (path, params, response.status_code, response.content[:300])
        body = response.json()
        if expect_rows is not None:
            assert len(body["results"]) == expect_rows, (path, len(body["results"]))
        return body

    return call


def dispatch_campaign(campaign, db: str, gateway_port: int, dispatchers: int) -> dict:
    from messaging.models import Message

    env = {**os.environ, "DATABASE_URL": f"{SERVER_URL}/{db}", "SMS_GATEWAY_URL": f"http://127.0.0.1:{gateway_port}",
           "PYTHONPATH": str(ROOT)}  # fmt: skip
    before = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{gateway_port}/stats").read())
    procs = [
        subprocess.Popen([sys.executable, "-c", WORKER, f"growth-{db}-{i}", str(campaign.pk)], cwd=ROOT, env=env,
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        for i in range(dispatchers)
    ]  # fmt: skip
    reports = run_together(procs)
    after = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{gateway_port}/stats").read())
    sent = Message.objects.filter(campaign=campaign, status=Message.Status.SENT).count()
    span = max(r["last_record"] or 0 for r in reports) - min(r["first_claim"] or 1e12 for r in reports)
    return {
        "seconds": round(span, 2),
        "messages_per_s": round(sent / span),
        "lost": BENCH_CONTACTS - sent,
        "duplicates": after["duplicate_receipts"] - before["duplicate_receipts"],
    }


def measure(db: str, round_no: int, args, gateway_port: int, *, warm_up: bool = False) -> dict:
    """One round of every measurement on one database; a warm-up round (imports, caches) skips the dispatch."""
    from django.db import connection

    from campaigns.models import Campaign
    from campaigns.selectors import campaign_stats
    from messaging.dispatcher.claims import claim_due
    from messaging.models import Message

    use_database(db)
    with connection.cursor() as cursor:
        # As autovacuum would have by now: a database made minutes ago has no statistics at all, and its
        # planner then guesses (a phone lookup on the empty tables walked the owner's whole index without them).
        cursor.execute("ANALYZE messaging_message, messaging_messageevent, campaigns_campaign, imports_contact")
    client = api_client()
    campaign, fan_out_a = new_campaign(f"growth bench {round_no}a")

    def claim():
        claimed = claim_due(worker="growth-bench", limit=CLAIM_BATCH)
        assert len(claimed) == CLAIM_BATCH, len(claimed)

    figures = {"claim_ms": timed(claim, args.repeat)}
    figures["stats_ms"] = timed(lambda: campaign_stats(campaign=campaign), args.repeat)
    path = "/api/v1/messages/"
    figures["list_first_ms"] = timed(get(client, path, {}, expect_rows=50), args.repeat)
    cursor, depth = deep_cursor(campaign.owner_id)
    figures["list_deep_ms"] = timed(get(client, path, {"cursor": cursor}, expect_rows=50), args.repeat)
    phone = get(client, path, {"phone": LOOKED_UP_PHONE})
    figures["phone_ms"] = timed(phone, args.repeat)
    found = len(phone()["results"])

    # Out of the dispatchers' way: the rest of this campaign, as a cancel would leave it.
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.CANCELLED)
    Message.objects.filter(campaign=campaign, status__in=["QUEUED", "SENDING"]).update(status="CANCELLED")
    if warm_up:
        return {}
    second, fan_out_b = new_campaign(f"growth bench {round_no}b")
    figures["fan_out_s"] = [fan_out_a, fan_out_b]
    dispatch = dispatch_campaign(second, db, gateway_port, args.dispatchers)
    figures["dispatch_per_s"] = [dispatch["messages_per_s"]]
    Campaign.objects.filter(pk=second.pk).update(status=Campaign.Status.COMPLETED)
    connection.close()
    return {"figures": figures, "deep_cursor_depth": depth, "phone_rows": found, "dispatch": dispatch}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gateway() -> tuple[subprocess.Popen, int]:
    port = free_port()
    gateway = subprocess.Popen(
        [sys.executable, "manage.py", "fake_gateway", "--port", str(port), "--latency-ms", "50",
         "--no-default-webhooks", "--login", "sim", "--password", "sim"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/stats", timeout=1)
            return gateway, port
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("the gateway simulator did not come up")


# What the table shows: (key, label, unit, higher is better).
ROWS = [
    ("claim_ms", f"claim of a {CLAIM_BATCH}-message batch", "ms", False),
    ("stats_ms", "a campaign's stats (10,000 messages)", "ms", False),
    ("list_first_ms", "messages list (API), first page", "ms", False),
    ("list_deep_ms", "messages list (API), a deep cursor page", "ms", False),
    ("phone_ms", "phone lookup (API, ?phone=)", "ms", False),
    ("fan_out_s", "fan-out of a new 10,000-message campaign", "s", False),
    ("dispatch_per_s", "dispatch of a new 10,000-message campaign", "messages/s", True),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=10_000_000)
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=5_000_000)
    parser.add_argument("--chunk", type=int, default=500_000, help="Rows written by one statement of the fill.")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=15, help="Timed calls of each operation a round.")
    parser.add_argument("--dispatchers", type=int, default=2)
    parser.add_argument("--keep", action="store_true", help="Reuse the grown database if it holds this fill.")
    args = parser.parse_args()
    configure()

    fill = None
    if prepare(args):
        fill = grow(args)
    gateway, port = start_gateway()
    rounds: dict[str, list] = {"empty": [], "grown": []}
    try:
        for db in (EMPTY_DB, GROWN_DB):  # the first fan-out, request and claim of this process load code and data
            measure(db, 0, args, port, warm_up=True)
        for n in range(1, args.rounds + 1):
            for phase, db in (("empty", EMPTY_DB), ("grown", GROWN_DB)):
                result = measure(db, n, args, port)
                rounds[phase].append(result)
                medians = {k: round(statistics.median(v), 2) for k, v in result["figures"].items()}
                log(f"round {n}, {phase}: {medians}")
    finally:
        gateway.terminate()
        gateway.wait()

    use_database(GROWN_DB)
    grown_rows = table_sizes()
    use_database(EMPTY_DB)
    empty_rows = table_sizes()
    results = []
    for key, label, unit, higher_better in ROWS:
        empty = statistics.median(s for r in rounds["empty"] for s in r["figures"][key])
        grown = statistics.median(s for r in rounds["grown"] for s in r["figures"][key])
        ratio = empty / grown if higher_better else grown / empty
        results.append({"key": key, "operation": label, "unit": unit, "empty": round(empty, 2),
                        "grown": round(grown, 2), "ratio": round(ratio, 2), "met": ratio <= TARGET_RATIO})  # fmt: skip

    command = " ".join(["python bench/growth_bench.py", *sys.argv[1:]])
    report = {
        "command": command,
        "date": time.strftime("%Y-%m-%d"),
        "target_ratio": TARGET_RATIO,
        "grown_rows": grown_rows,
        "empty_rows": empty_rows,
        "fill": fill,
        "results": results,
        "rounds": rounds,
    }
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "growth_bench.json").write_text(json.dumps(report, indent=2, default=str))

    print(f"\n$ {command}\n")
    print(f"rows at the end, grown: {grown_rows}; empty: {empty_rows}")
    print(f"{args.rounds} rounds alternating the databases, {args.repeat} timed calls an operation a round\n")
    print("| operation | empty tables | grown tables | grown / empty | target |")
    print("|---|---:|---:|---:|---|")
    for r in results:
        shown = ".0f" if r["unit"] == "messages/s" else ".2f"
        empty, grown = (f"{r[phase]:,{shown}} {r['unit']}" for phase in ("empty", "grown"))
        print(f"| {r['operation']} | {empty} | {grown} | {r['ratio']:.2f}x "
              f"| ≤{TARGET_RATIO}x {'met' if r['met'] else 'MISSED'} |")  # fmt: skip
    clean = all(r["dispatch"]["lost"] == 0 and r["dispatch"]["duplicates"] == 0 for p in rounds.values() for r in p)
    print(f"\n{'PASS' if clean else 'FAIL'}  no lost and no duplicate message in any dispatch")
    missed = [r["operation"] for r in results if not r["met"]]
    print(f"{'PASS' if not missed else 'MISS'}  every figure within {TARGET_RATIO}x of its empty-table figure"
          + (f" (missed: {', '.join(missed)})" if missed else ""))  # fmt: skip
    sys.exit(0 if clean else 1)


if __name__ == "__main__":
    main()
