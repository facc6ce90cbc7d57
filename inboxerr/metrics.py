"""Prometheus metrics, shared by every process: web, workers and the dispatcher.

prometheus_client's multiprocess mode keeps each process's samples in files
under PROMETHEUS_MULTIPROC_DIR (settings set it before anything imports the
client), and /metrics adds them up, so a counter bumped in a qcluster worker is
seen by whichever gunicorn worker answers the scrape.
"""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import Counter, Histogram

# Every family's name starts with this, so ours are told apart from the other exporters' on one server.
PREFIX = "inboxerr_"

IMPORT_ROWS = Counter(f"{PREFIX}import_rows_processed", "CSV data rows read by the import parser.", ["outcome"])
MESSAGES = Counter(
    f"{PREFIX}messages_sent",
    "Send outcomes by status: sent, retry, failed, cancelled (dispatcher); delivered, failed (receipts).",
    ["status"],
)
DISPATCH_LOOP = Histogram(
    f"{PREFIX}dispatcher_loop_duration_seconds",
    "One dispatcher batch: claim, send, record.",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30),
)
WEBHOOK_EVENTS = Counter(f"{PREFIX}webhook_events", "Gateway webhook events received, by source, kind and result.",
                         ["source", "kind", "result"])  # fmt: skip
OUTBOUND_DELIVERIES = Counter(
    f"{PREFIX}outbound_webhook_attempts",
    "Attempts to deliver our webhooks to users' endpoints, by result: delivered, retry, given_up.",
    ["result"],
)


def start_at_zero(counter: Counter, label_sets: Iterable[tuple[str, ...]]) -> None:
    """Give each of these label sets a sample of 0, so a family is there from a process's start, not only
    from its first event (in multiprocess mode a label set nobody has used has no sample anywhere)."""
    for labels in label_sets:
        counter.labels(*labels)
