"""Fan-out: one QUEUED Message per contact of a campaign's import, in batches.

Safe to run twice, or to resume after a dead worker: each batch is one
transaction, the (campaign, phone) unique constraint keeps a message from being
written twice, and the skip counters are recomputed from scratch on every full
pass. On PostgreSQL a batch is COPYed straight into the messages table; one that
meets a message written before (a repeated or resumed fan-out) is rolled back
whole and written again with INSERT ... ON CONFLICT DO NOTHING.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any

from django.db import DataError, IntegrityError, connection, transaction
from django.db.models import Exists, OuterRef, Q, TextField
from django.db.models.functions import Cast
from django.utils import timezone

# The generator behind inboxerr.ids.uuid7 (Message.id's default), without the conversion to the standard
# library's UUID: the ids go into COPY as text.
from uuid_utils import uuid7

from campaigns.models import Campaign
from campaigns.services import campaign_compile, campaign_fail
from imports.line_types import TEXTABLE, LineType
from imports.models import Contact, contact_values
from inboxerr import shutdown
from inboxerr.bulk import defaults_for, insert_ignoring_conflicts
from inboxerr.exceptions import Conflict, InboxerrException
from messaging.destinations import destinations_for
from messaging.models import Message, OptOut, Waiting, opted_out_for
from messaging.opt_out_line import already_messaged, opt_out_line_of, with_opt_out_line
from messaging.send_windows import WindowClock, effective_window
from messaging.tasks import kick_dispatcher
from templates.limits import max_parts
from templates.renderer import CompiledTemplate, MissingVariables
from templates.segments import analyse

log = logging.getLogger(__name__)

BATCH_SIZE = 2000
# A fan-out that has not reported for this long is taken over by the next one queued.
STALL = timedelta(minutes=2)
ACTIVE = (Campaign.Status.RUNNING, Campaign.Status.PAUSED)


@dataclass
class FanOutResult:
    recipients: int = 0
    queued: int = 0
    skipped_opted_out: int = 0
    skipped_missing_variables: int = 0
    skipped_too_long: int = 0
    skipped_not_mobile: int = 0
    skipped_not_allowed: int = 0  # a country or a kind of number the owner may not send to
    skipped_quiet_hours: int = 0  # the number's time zones share no time inside the campaign's quiet hours

    def add(self, other: FanOutResult) -> None:
        for field in fields(self):
            setattr(self, field.name, getattr(self, field.name) + getattr(other, field.name))


def campaign_fan_out(
    *, campaign_id: int, on_batch: Callable[[FanOutResult], None] | None = None
) -> FanOutResult | None:
    """Create the campaign's messages. Returns None when another fan-out holds it or there is nothing to do.

    A fan-out that fails for a reason that will not change (its text does not compile, the database refuses a
    value) fails the campaign with that reason, instead of being queued again by the clock for ever.
    """
    if not _claim(campaign_id):
        return None
    try:
        return _fan_out(campaign_id, on_batch)
    except (InboxerrException, DataError) as exc:
        reason = exc.message if isinstance(exc, InboxerrException) else f"the database refused a message: {exc}"
        log.error("campaign %s: fan-out failed for good: %s", campaign_id, reason)
        campaign = Campaign.objects.get(pk=campaign_id)
        with contextlib.suppress(Conflict):  # ended meanwhile (cancelled): nothing left to fail
            campaign_fail(campaign=campaign, reason=f"Its messages could not be written: {reason}")
        return None


def _fan_out(campaign_id: int, on_batch: Callable[[FanOutResult], None] | None) -> FanOutResult:
    campaign = Campaign.objects.select_related("template", "import_job").get(pk=campaign_id)
    compiled = campaign_compile(campaign)
    result = FanOutResult()

    def settle(written: Future[bool], batch: _Batch) -> bool:
        """Take a batch's outcome; False when the fan-out ends there."""
        result.add(batch.counts)  # a batch refused was read and counted, as the ones written were
        if not written.result():
            log.info("campaign %s: fan-out stopped, the campaign is no longer running", campaign_id)
            return False
        if on_batch:
            on_batch(result)
        if shutdown.requested():
            # Free for the next fan-out the clock queues (within a minute), which goes on from here.
            Campaign.objects.filter(pk=campaign_id).update(fanout_heartbeat_at=None)
            log.warning("campaign %s: fan-out stopped at a batch's end because the worker is stopping", campaign_id)
            return False
        return True

    with _writer() as write:
        pending: tuple[Future[bool], _Batch] | None = None
        # Each batch is made while the one before is being written.
        for batch in _batches(campaign, compiled):
            if pending and not settle(*pending):
                return result
            pending = (write(campaign, batch), batch)
        if pending and not settle(*pending):
            return result

    Campaign.objects.filter(pk=campaign_id).update(
        recipients_count=result.recipients,
        skipped_opted_out=result.skipped_opted_out,
        skipped_missing_variables=result.skipped_missing_variables,
        skipped_too_long=result.skipped_too_long,
        skipped_not_mobile=result.skipped_not_mobile,
        skipped_not_allowed=result.skipped_not_allowed,
        skipped_quiet_hours=result.skipped_quiet_hours,
        fanout_completed_at=timezone.now(),
    )
    return result


@contextlib.contextmanager
def _writer() -> Iterator[Callable[[Campaign, _Batch], Future[bool]]]:
    """How batches are written: on PostgreSQL, outside a transaction, by a thread of its own on a connection
    of its own, one batch at a time, while this thread reads and renders the next; else here, at once."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        # In the caller's transaction (which another connection could not see), or SQLite's single writer.
        def write_here(campaign: Campaign, batch: _Batch) -> Future[bool]:
            written: Future[bool] = Future()
            written.set_result(_write_batch(campaign, batch))
            return written

        yield write_here
        return
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="fan-out-writer")

    def write_there(campaign: Campaign, batch: _Batch) -> Future[bool]:
        return pool.submit(_write_batch, campaign, batch)

    try:
        yield write_there
    finally:
        pool.submit(_close_connection)  # the thread's own
        pool.shutdown(wait=True)  # a batch still being written ends first, committed or rolled back


def _close_connection() -> None:
    connection.close()


def _claim(campaign_id: int) -> bool:
    now = timezone.now()
    return bool(
        Campaign.objects.filter(pk=campaign_id, status__in=ACTIVE, fanout_completed_at__isnull=True)
        .filter(Q(fanout_heartbeat_at__isnull=True) | Q(fanout_heartbeat_at__lt=now - STALL))
        .update(fanout_heartbeat_at=now)
    )


@dataclass
class _Batch:
    rows: list[Row]  # the messages to write
    heads: list[str]  # and their lines of COPY text (_copy_heads), on PostgreSQL
    counts: FanOutResult  # its contacts, queued and skipped


def _batches(campaign: Campaign, compiled: CompiledTemplate) -> Iterator[_Batch]:
    """The import's contacts in batches of BATCH_SIZE, each made into its messages."""
    copy = connection.vendor == "postgresql"
    ends = iter(_batch_ends(campaign.import_job_id))
    last_id = 0
    while True:
        upto = next(ends, None)
        contacts = _contacts(campaign, after=last_id, upto=upto)
        if not contacts:
            if upto is None:
                return
            last_id = upto  # the batch's contacts were deleted meanwhile
            continue
        last_id = contacts[-1][0]
        counts = FanOutResult()
        rows = _messages_for(campaign, compiled, contacts, counts)
        yield _Batch(rows=rows, heads=_copy_heads(rows) if copy else [], counts=counts)


def _batch_ends(import_job_id: int | None) -> list[int]:
    """The id that ends each full batch of the import's contacts, in one pass over its index.

    Each batch's query then reads its own range. A query for "the next BATCH_SIZE after an id" alone is
    planned, on an import written a moment ago and not yet analysed, as a read of every contact left
    and a sort: the fan-out read its import over again for every batch.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM {Contact._meta.db_table} "
            "WHERE import_job_id = %s) AS numbered WHERE n %% %s = 0 ORDER BY id",
            [import_job_id, BATCH_SIZE],
        )
        return [end for (end,) in cursor.fetchall()]


def _contacts(campaign: Campaign, *, after: int, upto: int | None) -> list[tuple]:
    """The import's next contacts, after id `after` and up to `upto`: (id, phone, name, variables as JSON
    text, line type, opted out). The opt-outs are read by the same query, a lookup per contact."""
    opted_out = OptOut.objects.filter(opted_out_for(campaign.owner_id), phone=OuterRef("phone"))
    contacts = Contact.objects.filter(import_job_id=campaign.import_job_id, id__gt=after)
    if upto is not None:
        contacts = contacts.filter(id__lte=upto)
    return list(
        contacts.order_by("id")
        # As text: decoded here once, and written to the messages as it is.
        .annotate(variables_text=Cast("variables", TextField()), opted_out=Exists(opted_out))
        .values_list("id", "phone", "name", "variables_text", "line_type", "opted_out")[:BATCH_SIZE]
    )


# A message, as _messages_for makes it: (contact_id, phone, content, variables as JSON text, variables,
# parts_count, next_attempt_at, waiting); the rest is the campaign's or the model's defaults.
Row = tuple[int, str, str, str, dict, int, datetime, str]


def _messages_for(campaign: Campaign, compiled: CompiledTemplate, contacts: list, result: FanOutResult) -> list[Row]:
    """The messages of a batch of contacts (from _contacts); skips are counted in `result`."""
    destinations = destinations_for(campaign.owner_id)
    opt_out_line = opt_out_line_of(campaign.owner_id) if campaign.add_opt_out_line else ""
    messaged_before = (
        already_messaged(owner_id=campaign.owner_id, phones=(c[1] for c in contacts), campaign_id=campaign.pk)
        if opt_out_line
        else set()
    )
    now = timezone.now()
    # Looked up once a batch, not once a contact.
    refusal, opening_for = destinations.refusal, WindowClock(effective_window(campaign.send_window), now).opening_for
    render, loads, unknown, limit = compiled.render, json.loads, LineType.UNKNOWN.value, max_parts()
    rows: list[Row] = []
    for contact_id, phone, name, variables_text, line_type, opted_out in contacts:
        result.recipients += 1
        # Counted as the opt-outs are, in this loop that renders each message anyway: a filter in the contacts'
        # query would need another scan of the import to count what it left out.
        if line_type not in TEXTABLE and not campaign.include_non_mobile:
            result.skipped_not_mobile += 1
            continue
        if opted_out:
            result.skipped_opted_out += 1
            continue
        if refusal(phone, line_type if line_type != unknown else ""):
            result.skipped_not_allowed += 1
            continue
        # Outside the window now: written due at its next opening, so no dispatcher claims it before then.
        opening = opening_for(phone)
        if opening is None:
            result.skipped_quiet_hours += 1
            continue
        variables = loads(variables_text)
        try:
            content = render(contact_values(variables, phone=phone, name=name))
        except MissingVariables:
            result.skipped_missing_variables += 1
            continue
        if opt_out_line and phone not in messaged_before:
            content = with_opt_out_line(content, opt_out_line)
        parts = max(analyse(content).parts, 1)
        if parts > limit:  # templates.limits.within_limit, with the setting read once a batch
            result.skipped_too_long += 1
            continue
        result.queued += 1
        waiting = Waiting.QUIET_HOURS.value if opening > now else ""
        rows.append((contact_id, phone, content, variables_text, variables, parts, opening, waiting))
    return rows


UNIQUE_PER_CAMPAIGN = "message_phone_unique_per_campaign"


def _write_batch(campaign: Campaign, batch: _Batch) -> bool:
    """Write a batch unless the campaign stopped (False then)."""
    if batch.heads:
        try:
            return _write(campaign, batch, copy=True)
        except IntegrityError as exc:
            if getattr(getattr(exc.__cause__, "diag", None), "constraint_name", None) != UNIQUE_PER_CAMPAIGN:
                raise
            # Some of it was written before (a repeated or resumed fan-out): nothing of it went in this time.
            log.info("campaign %s: a batch met messages written before; writing the rest of it", campaign.pk)
    return _write(campaign, batch, copy=False)


def _write(campaign: Campaign, batch: _Batch, *, copy: bool) -> bool:
    """One transaction: the campaign row lock orders the batch against a concurrent cancel, pause or resume."""
    with transaction.atomic():
        status = Campaign.objects.select_for_update().values_list("status", flat=True).get(pk=campaign.pk)
        if status not in ACTIVE:
            return False
        # A paused campaign's messages are written held; the campaign row lock orders this against
        # a pause or resume, whose message sync then sees these rows.
        held = status == Campaign.Status.PAUSED
        if copy:
            _copy_messages(campaign, batch.heads, held=held)
        else:
            # A message already written (a repeated or resumed fan-out) is skipped by (campaign, phone).
            same = (campaign.owner_id, campaign.pk, campaign.import_job_id)
            window = effective_window(campaign.send_window)
            insert_ignoring_conflicts(
                model=Message,
                columns=(*MESSAGE_COLUMNS, "held"),
                rows=[
                    (*same, contact_id, phone, content, variables, parts, opening, window, waiting, held)
                    for contact_id, phone, content, _, variables, parts, opening, waiting in batch.rows
                ],
            )
        Campaign.objects.filter(pk=campaign.pk).update(fanout_heartbeat_at=timezone.now())
        kick_dispatcher()  # sending starts with the first batch, not after the last
    return True


# Written by the ON CONFLICT path; the rest (id, status QUEUED, attempts, timestamps, ...) take the model's defaults.
MESSAGE_COLUMNS = (
    "owner_id",
    "campaign_id",
    "import_job_id",
    "contact_id",
    "phone",
    "content",
    "variables",
    "parts_count",
    "next_attempt_at",
    "send_window",
    "waiting",
)
# What COPY takes from each row (_copy_heads); then the columns every message of the batch shares (_shared).
COPY_COLUMNS = ("id", "contact_id", "phone", "content", "variables", "parts_count", "next_attempt_at", "waiting")


def _copy_heads(rows: list[Row]) -> list[str]:
    """Each message's own columns as the start of its line of COPY text; the shared ones end it when written."""
    due: dict[datetime, str] = {}  # a batch has a few distinct due times, most of them "now"
    heads = []
    for contact_id, phone, content, variables_text, _, parts, opening, waiting in rows:
        when = due.get(opening) or due.setdefault(opening, opening.isoformat())
        heads.append(
            f"{uuid7()}\t{contact_id}\t{_escape(phone)}\t{_escape(content)}\t{_escape(variables_text)}"
            f"\t{parts}\t{when}\t{waiting}"
        )
    return heads


def _copy_messages(campaign: Campaign, heads: list[str], *, held: bool) -> None:
    """COPY the batch into the messages table; a unique violation rolls the whole batch back."""
    shared = _shared(campaign, held=held)
    tail = "".join("\t" + _copy_value(value) for value in shared.values()) + "\n"
    statement = f"COPY {Message._meta.db_table} ({', '.join((*COPY_COLUMNS, *shared))}) FROM STDIN"
    with connection.cursor() as cursor, connection.wrap_database_errors, cursor.cursor.copy(statement) as copy:
        copy.write(tail.join(heads) + tail)


def _shared(campaign: Campaign, *, held: bool) -> dict[str, Any]:
    """Every column COPY_COLUMNS leave out, with its value for all of this batch: the campaign's, and the
    model's defaults as Message.save() would write them (auto_now fields the current time)."""
    values: dict[str, Any] = {
        "owner_id": campaign.owner_id,
        "campaign_id": campaign.pk,
        "import_job_id": campaign.import_job_id,
        "send_window": effective_window(campaign.send_window),
        "held": held,
    }
    for field, make in defaults_for(Message, [*COPY_COLUMNS, *values]):
        values[field.attname] = make()
    return values


_SPECIAL = re.compile(r"[\\\t\n\r]").search
_ESCAPED = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _escape(text: str) -> str:
    """`text` as a value of COPY's text format."""
    return text.translate(_ESCAPED) if _SPECIAL(text) else text


def _copy_value(value: Any) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (dict, list)):
        return _escape(json.dumps(value, ensure_ascii=False))
    return _escape(str(value))  # a Choices member's str() is its value
