"""Benchmark of fairness between users: one user's single sends while another's big campaign is sending.

    .venv/bin/python bench/fairness_bench.py                         # a 100k campaign, 1 dispatcher
    .venv/bin/python bench/fairness_bench.py --messages 20000 --workers 2

Two runs on PostgreSQL (database inboxerr_dispatchbench) against the local gateway
simulator at 50 ms latency, with the dispatcher processes bench/dispatch_bench.py
uses. In each, user "big" has a campaign of N QUEUED messages, all due at once.
Run "alone": only that campaign. Run "shared": the same campaign, and 2 s after
the dispatchers start, user "small" queues one single send every 0.5 s (20 of
them) while the campaign is still sending. It reports the campaign's send rate in
each run (its messages over the span from its first to its last sent_at) and the
ratio, and each single send's queue-to-sent time (sent_at - created_at), whose
maximum must stay under 2 s; the campaign's rate may drop by at most 10%. It
also checks that no message was sent twice or lost. Writes
bench/out/fairness_bench.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
import urllib.request

from dispatch_bench import OUT, setup_database, simulator_and_dispatchers, sql

SINGLE_SENDS = 20
SEND_EVERY = 0.5
MAX_SINGLE_SEND_SECONDS = 2.0
MAX_RATE_DROP = 0.10


def user(name: str) -> int:
    sql(
        "INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, email, is_staff, "
        "is_active, date_joined) VALUES ('!', false, %s, '', '', '', false, true, now()) "
        "ON CONFLICT (username) DO NOTHING",
        [name],
    )
    return sql("SELECT id FROM auth_user WHERE username = %s", [name])[0][0]


def campaign(owner: int) -> int:
    """A RUNNING campaign row with what the table requires; its messages are written below, as a fan-out would."""
    return sql(
        "INSERT INTO campaigns_campaign (owner_id, name, description, status, message_content, failure_reason, "
        "frozen_content, start_when_imported, include_non_mobile, add_opt_out_line, send_window, recipients_count, "
        "skipped_opted_out, skipped_missing_variables, skipped_too_long, skipped_not_mobile, skipped_not_allowed, "
        "skipped_quiet_hours, pause_reason, started_at, created_at, updated_at) VALUES (%s, 'Big campaign', '', "
        "'RUNNING', 'Benchmark', '', 'Benchmark', false, false, false, '', 0, 0, 0, 0, 0, 0, 0, '', now(), now(), "
        "now()) RETURNING id",
        [owner],
    )[0][0]


def queue_campaign(owner: int, campaign_id: int, count: int) -> None:
    sql(
        "INSERT INTO messaging_message (id, owner_id, campaign_id, phone, content, variables, status, attempts, "
        "next_attempt_at, claimed_by, gateway_message_id, parts_count, error, verify_before_send, held, "
        "created_at, updated_at) "
        "SELECT gen_random_uuid(), %s, %s, '+4474' || lpad(n::text, 8, '0'), 'Benchmark message ' || n, '{}', "
        "'QUEUED', 0, now(), '', '', 1, '', false, false, now(), now() FROM generate_series(1, %s) AS n",
        [owner, campaign_id, count],
    )


def single_sends(owner: int, started: threading.Event) -> None:
    """One QUEUED single send every SEND_EVERY seconds, as POST /api/v1/messages/send writes it."""
    started.wait()
    time.sleep(2)
    for n in range(SINGLE_SENDS):
        sql(
            "INSERT INTO messaging_message (id, owner_id, phone, content, variables, status, attempts, "
            "next_attempt_at, claimed_by, gateway_message_id, parts_count, error, verify_before_send, held, "
            "created_at, updated_at) VALUES (gen_random_uuid(), %s, %s, 'A single send', '{}', 'QUEUED', 0, "
            "clock_timestamp(), '', '', 1, '', false, false, clock_timestamp(), clock_timestamp())",
            [owner, f"+4475{n:08d}"],
        )
        time.sleep(SEND_EVERY)


def run(messages: int, workers: int, shared: bool) -> dict:
    sql("TRUNCATE messaging_message, messaging_messageevent, messaging_ratelimitwindow, messaging_quotausage, "
        "messaging_countryusage, campaigns_campaign CASCADE")  # fmt: skip
    big, small = user("big"), user("small")
    expected = messages + (SINGLE_SENDS if shared else 0)
    with simulator_and_dispatchers(workers=workers, expected=expected, latency_ms=50) as (stats_url, procs):
        started = threading.Event()
        sender = threading.Thread(target=single_sends, args=(small, started)) if shared else None
        if sender:
            sender.start()
        queue_campaign(big, campaign(big), messages)
        started.set()
        for process in procs:
            process.communicate()
        if sender:
            sender.join()
        stats = json.loads(urllib.request.urlopen(stats_url).read())

    ((sent, first, last),) = sql(
        "SELECT count(*), extract(epoch FROM min(sent_at)), extract(epoch FROM max(sent_at)) FROM messaging_message "
        "WHERE owner_id = %s AND status = 'SENT'",
        [big],
    )
    singles = [
        row[0]
        for row in sql(
            "SELECT extract(epoch FROM sent_at - created_at) FROM messaging_message WHERE owner_id = %s "
            "ORDER BY created_at",
            [small],
        )
    ]
    (total_sent,) = sql("SELECT count(*) FROM messaging_message WHERE status = 'SENT'")[0]
    # The last single send must have been queued while the campaign still sent, or the run proves nothing.
    (last_single,) = sql("SELECT extract(epoch FROM max(created_at)) FROM messaging_message WHERE owner_id = %s",
                         [small])[0]  # fmt: skip
    return {
        "shared": shared,
        "messages": messages,
        "workers": workers,
        "campaign_messages_per_s": round(sent / (float(last) - float(first))),
        "single_sends": len(singles),
        "single_send_seconds": [round(float(s), 3) for s in singles],
        "single_sends_during_campaign": bool(singles) and float(last_single) < float(last),
        "duplicates": stats["duplicate_receipts"],
        "lost": expected - total_sent,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    setup_database()
    alone = run(args.messages, args.workers, shared=False)
    shared = run(args.messages, args.workers, shared=True)
    command = " ".join(["python bench/fairness_bench.py", *sys.argv[1:]])
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "fairness_bench.json").write_text(json.dumps({"command": command, "runs": [alone, shared]}, indent=2))

    ratio = shared["campaign_messages_per_s"] / alone["campaign_messages_per_s"]
    times = sorted(shared["single_send_seconds"])
    worst, median = times[-1], times[len(times) // 2]
    print(f"$ {command}\n")
    print("| run | campaign messages/s | single sends | queue→sent median | queue→sent max | duplicates | lost |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for r in (alone, shared):
        singles = f"{median} s | {worst} s" if r["shared"] else "- | -"
        print(f"| {'with single sends' if r['shared'] else 'campaign alone'} | {r['campaign_messages_per_s']:,} "
              f"| {r['single_sends']} | {singles} | {r['duplicates']} | {r['lost']} |")  # fmt: skip
    print(f"\ncampaign rate with single sends / alone: {ratio:.2f}x")
    checks = [
        (worst < MAX_SINGLE_SEND_SECONDS, f"every single send out within {MAX_SINGLE_SEND_SECONDS} s"),
        (ratio >= 1 - MAX_RATE_DROP, f"the campaign's rate drops by at most {MAX_RATE_DROP:.0%}"),
        (shared["single_sends_during_campaign"], "the single sends were queued while the campaign was sending"),
        (all(r["duplicates"] == 0 and r["lost"] == 0 for r in (alone, shared)), "no duplicate and no lost message"),
    ]
    for ok, what in checks:
        print(f"{'PASS' if ok else 'FAIL'}  {what}")
    sys.exit(0 if all(ok for ok, _ in checks) else 1)


if __name__ == "__main__":
    main()
