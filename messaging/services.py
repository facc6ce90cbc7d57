"""Queuing messages from the API, cancelling them, and opt-outs.

A request only queues: it writes QUEUED messages and a TaskRecord, and the
dispatcher is woken once the transaction commits. No gateway call happens here.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from imports.phones import InvalidPhone, read_phone
from inboxerr.bulk import SMALL_BATCH, Query, Statement, insert_ignoring_conflicts, insert_statement, run_together
from inboxerr.exceptions import Conflict, InboxerrException, Unprocessable
from inboxerr.ids import uuid7
from messaging.destinations import destinations_from
from messaging.models import (
    EventKind,
    EventSource,
    Message,
    MessageEvent,
    OptOut,
    SendingLimits,
    TallyKind,
    TaskRecord,
    Waiting,
)
from messaging.quotas import charge, counted, quota_of
from messaging.send_windows import NEVER, WindowClock
from messaging.tallies import tally
from messaging.tasks import kick_dispatcher
from templates.limits import TooManyParts, check_literal_text, max_parts, within_limit
from templates.models import MessageTemplate
from templates.renderer import CompiledTemplate, MissingVariables, compile_template
from templates.segments import analyse

Status = Message.Status
MAX_BATCH = 1000


class InvalidRecipients(InboxerrException):
    code = "invalid_recipients"


class MessagesTooLong(InboxerrException):
    code = "too_many_parts"


@dataclass(frozen=True)
class Recipient:
    phone: str
    variables: dict[str, str] = field(default_factory=dict)
    line_type: str = ""  # read with the phone by normalise_recipients: no second parse to check where it goes


@dataclass
class Queued:
    task: TaskRecord
    message_ids: list[str]
    skipped: list[dict[str, Any]]  # {index, phone, reason}


# --- Queuing --------------------------------------------------------------------------


def normalise_recipients(recipients: list[Recipient], region: str | None = None) -> list[Recipient]:
    """Every phone to E.164, or InvalidRecipients listing each bad one by index (nothing is created)."""
    region = region or settings.PHONE_DEFAULT_REGION
    normalised, invalid = [], []
    for index, recipient in enumerate(recipients):
        try:
            phone = read_phone(recipient.phone, region)
            normalised.append(Recipient(phone.e164, recipient.variables, phone.line_type))
        except InvalidPhone as exc:
            invalid.append({"index": index, "phone": recipient.phone, "message": str(exc)})
    if invalid:
        raise InvalidRecipients(
            f"{len(invalid)} of {len(recipients)} phone numbers are not valid.", details={"invalid": invalid}
        )
    return normalised


def messages_send(
    *,
    owner_id: int,
    recipients: list[Recipient],
    content: str = "",
    template: MessageTemplate | None = None,
    scheduled_at: datetime | None = None,
    single: bool = False,
    send_window: str = "",
    enforce_quota: bool = True,
) -> Queued:
    """Queue one message per recipient, the one path of single sends and batches.

    Every phone is normalised first (a 400 listing the bad ones, nothing created). A single send to an
    opted-out number is refused (422); in a batch it is skipped. Missing variables, or a message over
    SMS_MAX_PARTS, refuse the whole request; so does a request over the owner's quota (429, counted all or
    nothing; `enforce_quota` off counts without refusing, for automatic answers). With `send_window` (quiet
    hours, "08:00-21:00") each message waits for the window to open in its recipient's time zones; a number
    whose zones never share an hour inside it is refused (422) or, in a batch, skipped.
    """
    recipients = normalise_recipients(recipients)
    field = "template_id" if template else "content"
    compiled = compile_template(template.content if template else content)
    check_literal_text(compiled, field=field)
    now = timezone.now()
    plan = partial(
        _plan,
        owner_id=owner_id,
        recipients=recipients,
        compiled=compiled,
        field=field,
        start=max(scheduled_at or now, now),
        send_window=send_window,
        single=single,
    )
    screening = _screening(owner_id, {r.phone for r in recipients})
    few_unlimited = len(recipients) <= SMALL_BATCH and not (enforce_quota and quota_of(None).limited)
    if few_unlimited and (assumed := _plan_assuming_nothing_screened(plan)):
        # Most sends go to numbers that never opted out, from users with no limits of their own (so the
        # deployment's, none of which can refuse them here). Planned for that, the one statement that queues
        # them also checks it, and writes nothing when it does not hold: one round trip instead of two.
        found = run_together([*assumed.writes(), *counted(owner_id, assumed.parts)], unless=screening)
        if not found:
            kick_dispatcher()
            return assumed.queued
    else:
        with connection.cursor() as cursor:
            cursor.execute(*screening)
            found = cursor.fetchall()
    opted_out, limits = _screened(owner_id, found)
    planned = plan(opted_out=opted_out, limits=limits)
    quota = quota_of(limits)
    # The task, its messages (when few) and the quota's count are one statement: one round trip. When no
    # limit can refuse them, that statement is the whole transaction (no BEGIN and COMMIT to wait for, and
    # the quota rows unlocked as it ends, not when this process gets round to committing).
    alone = len(planned.rows) <= SMALL_BATCH and not (enforce_quota and quota.limited)
    with nullcontext() if alone else transaction.atomic():
        if len(planned.rows) > SMALL_BATCH:
            insert_ignoring_conflicts(model=Message, columns=QUEUE_COLUMNS, rows=planned.rows)
        # Last, so the quota row is locked only for the commit; a refusal rolls the messages back.
        charge(owner_id=owner_id, parts=planned.parts, enforce=enforce_quota, quota=quota, along=planned.writes())
        kick_dispatcher()
    return planned.queued


@dataclass
class _Planned:
    """What a send queues: its task and messages, the parts they count, and the recipients skipped."""

    task: TaskRecord
    rows: list[tuple[Any, ...]]  # QUEUE_COLUMNS
    parts: int
    skipped: list[dict[str, Any]]

    def writes(self) -> list[Statement]:
        """The task's INSERT and, when few, the messages'; more are inserted on their own (SMALL_BATCH)."""
        task_row = (self.task.pk, self.task.owner_id, self.task.kind, self.task.total)
        writes = [insert_statement(model=TaskRecord, columns=TASK_COLUMNS, rows=[task_row])]
        if 0 < len(self.rows) <= SMALL_BATCH:
            writes.append(insert_statement(model=Message, columns=QUEUE_COLUMNS, rows=self.rows))
        return writes

    @property
    def queued(self) -> Queued:
        return Queued(task=self.task, message_ids=[str(row[0]) for row in self.rows], skipped=self.skipped)


def _plan_assuming_nothing_screened(plan: Callable[..., _Planned]) -> _Planned | None:
    """The send's plan if none of its numbers opted out and the owner has no limits of their own; None when
    that plan refuses it, as an opt-out or the owner's own limits might not."""
    try:
        return plan(opted_out=set(), limits=None)
    except InboxerrException:
        return None


def _plan(
    *,
    owner_id: int,
    recipients: list[Recipient],
    compiled: CompiledTemplate,
    field: str,
    start: datetime,
    send_window: str,
    single: bool,
    opted_out: set[str],
    limits: SendingLimits | None,
) -> _Planned:
    """Each recipient's message, or why it is skipped, given who opted out and the owner's limits; a refusal
    of the whole request raises (messages_send)."""
    destinations = destinations_from(limits)
    skipped: list[dict[str, Any]] = []
    rendered: list[tuple[Recipient, str, int]] = []
    missing: set[str] = set()
    too_long: list[dict[str, Any]] = []
    clock = WindowClock(send_window, start)
    openings: dict[str, datetime] = {}
    for index, recipient in enumerate(recipients):
        if recipient.phone in opted_out:
            if single:
                raise Unprocessable(f"{recipient.phone} has opted out of your messages.", code="opted_out")
            skipped.append({"index": index, "phone": recipient.phone, "reason": "opted_out"})
            continue
        refused = destinations.refusal(recipient.phone, recipient.line_type)
        if refused:
            if single:
                raise Unprocessable(destinations.explain(recipient.phone, refused), code=refused)
            skipped.append({"index": index, "phone": recipient.phone, "reason": refused})
            continue
        opening = clock.opening_for(recipient.phone)
        if opening is None:
            if single:
                raise Unprocessable(
                    f"{recipient.phone}'s time zones share no time inside {send_window}; it can never be sent "
                    "within these quiet hours.",
                    code=NEVER,
                )
            skipped.append({"index": index, "phone": recipient.phone, "reason": NEVER})
            continue
        openings[recipient.phone] = opening
        try:
            text = compiled.render({**recipient.variables, "phone": recipient.phone})
        except MissingVariables as exc:
            missing.update(exc.names)
            continue
        parts = max(analyse(text).parts, 1)
        if not within_limit(parts):
            too_long.append({"index": index, "phone": recipient.phone, "parts": parts})
        rendered.append((recipient, text, parts))
    if missing:
        raise MissingVariables(sorted(missing)) from None
    if too_long:
        if single:
            raise TooManyParts(field, too_long[0]["parts"])
        raise MessagesTooLong(
            f"{len(too_long)} of {len(recipients)} messages would be over {max_parts()} SMS parts.",
            details={"too_long": too_long, "max_parts": max_parts()},
        )

    window = str(clock.window) if clock.window else ""
    kind = TaskRecord.Kind.SEND if single else TaskRecord.Kind.BATCH
    task = TaskRecord(owner_id=owner_id, kind=kind, total=len(rendered))
    rows = []
    for r, text, parts in rendered:
        due = openings[r.phone]
        waiting = Waiting.QUIET_HOURS if due > start else ""
        rows.append((uuid7(), owner_id, task.pk, r.phone, text, r.variables, parts, due, window, waiting))
    return _Planned(task=task, rows=rows, parts=sum(parts for *_, parts in rendered), skipped=skipped)


def _screening(owner_id: int, phones: set[str]) -> Query:
    """The query for which of `phones` are opted out of the owner's messages, and for the owner's limits:
    read once for whether the messages may go, where, and how many parts the owner may send."""
    placeholders = ", ".join(["%s"] * len(phones)) or "NULL"
    return OPT_OUTS_AND_LIMITS.format(phones=placeholders), [owner_id, *phones, owner_id]


def _screened(owner_id: int, found: list[tuple[Any, ...]]) -> tuple[set[str], SendingLimits | None]:
    """What _screening's query found: the opted-out phones, and the owner's limits (None: none set)."""
    opted_out = {phone for phone, *_ in found if phone is not None}
    limits_rows = [row for row in found if row[0] is None]
    if not limits_rows:
        return opted_out, None
    _, countries, premium_rate, daily, monthly = limits_rows[0]
    limits = SendingLimits(
        owner_id=owner_id,
        allowed_countries=json.loads(countries),
        allow_premium_rate=bool(premium_rate),
        daily_parts=daily,
        monthly_parts=monthly,
    )
    return opted_out, limits


# The opt-outs that bind a user are theirs and those texted to the gateway (no owner), as opted_out_for says.
# A UNION rather than two queries: the request makes one round trip for both.
OPT_OUTS_AND_LIMITS = (
    f"SELECT phone, NULL, NULL, NULL, NULL FROM {OptOut._meta.db_table} "
    "WHERE (owner_id = %s OR owner_id IS NULL) AND phone IN ({phones}) "
    "UNION ALL "
    "SELECT NULL, CAST(allowed_countries AS text), allow_premium_rate, daily_parts, monthly_parts "
    f"FROM {SendingLimits._meta.db_table} WHERE owner_id = %s"
)
TASK_COLUMNS = ("id", "owner_id", "kind", "total")
# The rest (status QUEUED, attempts, timestamps, ...) take the model's defaults.
QUEUE_COLUMNS = (
    "id",
    "owner_id",
    "task_id",
    "phone",
    "content",
    "variables",
    "parts_count",
    "next_attempt_at",
    "send_window",
    "waiting",
)


def message_cancel(*, message: Message) -> Message:
    """QUEUED -> CANCELLED; once claimed by a dispatcher it is too late (409)."""
    now = timezone.now()
    with transaction.atomic():
        cancelled = Message.objects.filter(pk=message.pk, status=Status.QUEUED).update(
            status=Status.CANCELLED, error="Cancelled by its owner.", updated_at=now
        )
        if cancelled:
            MessageEvent.objects.create(
                message=message, source=EventSource.API, kind=EventKind.CANCELLED, status=Status.CANCELLED
            )
    message.refresh_from_db()
    if not cancelled:
        raise Conflict(
            f"The message is {message.status}; only a QUEUED message can be cancelled.",
            details={"status": message.status},
        )
    return message


# --- Task status ----------------------------------------------------------------------


def task_status(task: TaskRecord) -> dict[str, Any]:
    """A task's state, derived from its messages' statuses: exact, whatever the workers did meanwhile."""
    counts = {status: 0 for status in Status.values}
    for row in task.messages.values("status").annotate(n=Count("id")):
        counts[row["status"]] = row["n"]
    pending = counts[Status.QUEUED] + counts[Status.SENDING]
    if task.total and counts[Status.QUEUED] == task.total:
        state = TaskRecord.Status.QUEUED
    elif pending:
        state = TaskRecord.Status.RUNNING
    elif task.total and counts[Status.FAILED] + counts[Status.CANCELLED] == task.total and counts[Status.FAILED]:
        state = TaskRecord.Status.FAILED
    else:
        state = TaskRecord.Status.SUCCEEDED
    done = task.total - pending
    errors = list(task.messages.filter(status=Status.FAILED).exclude(error="").values("id", "phone", "error")[:20])
    return {
        "id": task.pk,
        "kind": task.kind,
        "total": task.total,
        "created_at": task.created_at,
        "status": state,
        "counts": counts,
        "done": done,
        "errors": errors,
    }


# --- Opt-outs ---------------------------------------------------------------------------


def opt_out_add(*, owner_id: int, phone: str, source: EventSource = EventSource.API, keyword: str = "") -> OptOut:
    """Opt a number out (idempotent); the owner's QUEUED messages to it are cancelled, reason `opted_out`."""
    with transaction.atomic():
        opt_out, created = OptOut.objects.get_or_create(
            owner_id=owner_id, phone=phone, defaults={"source": source, "keyword": keyword}
        )
        if created:
            tally(TallyKind.OPTED_OUT)
        _cancel_waiting(Message.objects.filter(owner_id=owner_id, phone=phone), source)
    return opt_out


def opt_out_everyone(*, phone: str, source: EventSource, keyword: str) -> int:
    """A STOP texted to the gateway: the number is opted out of every user sending through it (an opt-out
    without an owner), and every QUEUED message to it is cancelled. Returns how many were."""
    with transaction.atomic():
        _, created = OptOut.objects.get_or_create(
            owner=None, phone=phone, defaults={"source": source, "keyword": keyword}
        )
        if created:
            tally(TallyKind.OPTED_OUT)
        return _cancel_waiting(Message.objects.filter(phone=phone), source)


def opt_in_everyone(*, phone: str) -> int:
    """A START texted to the gateway undoes what texts did: the gateway-wide opt-out and those a STOP made
    for one user before they were gateway-wide. Opt-outs a user added by hand (API, admin) stay."""
    texted = (EventSource.ANDROID, EventSource.TWILIO)
    removed, _ = OptOut.objects.filter(phone=phone).filter(Q(owner__isnull=True) | Q(source__in=texted)).delete()
    return removed


def _cancel_waiting(messages: QuerySet[Message], source: EventSource) -> int:
    return cancel_queued(messages, source=source, error="opted_out", kind=EventKind.OPTED_OUT)


def cancel_queued(messages: QuerySet[Message], *, source: EventSource, error: str, kind: EventKind) -> int:
    """Cancel the QUEUED ones among `messages` with `error` as the reason, each with its event; how many."""
    waiting = messages.filter(status=Status.QUEUED)
    cancelled = list(waiting.values_list("id", flat=True))
    waiting.filter(id__in=cancelled).update(status=Status.CANCELLED, error=error, updated_at=timezone.now())
    MessageEvent.objects.bulk_create(
        [MessageEvent(message_id=i, source=source, kind=kind, status=Status.CANCELLED) for i in cancelled]
    )
    return len(cancelled)


def opt_out_remove(*, opt_out: OptOut) -> None:
    opt_out.delete()
