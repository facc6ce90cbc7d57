"""Campaigns: creation with its checks, the lifecycle, and what happens when its import finishes.

Every status change goes through campaigns.lifecycle, inside one transaction
with the action's other writes.
"""

from __future__ import annotations

import logging
from datetime import datetime
from functools import partial
from typing import Any

from django.db import transaction
from django.db.models import Count, Exists, OuterRef, QuerySet
from django.utils import timezone

from campaigns import tasks
from campaigns.lifecycle import TRANSITIONS, Action, in_sources_of, require, transition
from campaigns.models import Campaign, CampaignTestSend
from imports.models import Contact, ImportJob
from inboxerr.exceptions import Conflict, InboxerrException
from messaging import outbound
from messaging.models import Message, OutboundEvent
from messaging.services import Recipient, messages_send
from templates.limits import check_literal_text
from templates.models import MessageTemplate
from templates.renderer import CompiledTemplate, compile_template

log = logging.getLogger(__name__)

Status = Campaign.Status
# Merge fields every contact has, whatever its import's columns.
BUILT_IN_VARIABLES = frozenset({"phone", "name"})


class MissingColumns(InboxerrException):
    code = "missing_variables"


class CampaignFieldError(InboxerrException):
    """A 400 naming one field, in the body shape of the API's own validation errors."""

    code = "invalid"

    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(f"Invalid input: {field}.", details={field: [message]})


def check_references(*, owner_id: int, template: MessageTemplate | None, import_job: ImportJob | None) -> None:
    """A campaign's template and import are its owner's: whoever writes it (the API, the admin) gets this check."""
    if template is not None and template.owner_id != owner_id:
        raise CampaignFieldError("template", "This template belongs to another user; choose one of the owner's.")
    if import_job is not None and import_job.owner_id != owner_id:
        raise CampaignFieldError("import_job", "This import belongs to another user; choose one of the owner's.")


def check_usable(*, template: MessageTemplate | None, import_job: ImportJob | None) -> None:
    """What a campaign chosen now needs: an active template and an import that succeeded."""
    if template is not None and not template.is_active:
        raise CampaignFieldError("template", "This template is inactive; activate it or choose another.")
    if import_job is not None and import_job.status != ImportJob.Status.SUCCESS:
        raise CampaignFieldError(
            "import_job", f"This import is {import_job.status}; a campaign needs one that succeeded."
        )


# --- Creation and edits ---------------------------------------------------------


def campaign_text(campaign: Campaign) -> str:
    """What the campaign sends: the text frozen when it started, else its template's content or its own."""
    if campaign.frozen_content:
        return campaign.frozen_content
    if campaign.template is not None:
        return campaign.template.content
    return campaign.message_content


def campaign_compile(campaign: Campaign) -> CompiledTemplate:
    return compile_template(campaign_text(campaign))


def _text_field(campaign: Campaign) -> str:
    return "template_id" if campaign.template_id else "message_content"


def check_variables(*, compiled: CompiledTemplate, import_job: ImportJob) -> None:
    """Every variable used without a default must be a column of the import (or phone / name)."""
    columns = set(import_job.column_mapping.get("variables", {}).values()) | BUILT_IN_VARIABLES
    missing = sorted(set(compiled.required) - columns)
    if missing:
        raise MissingColumns(
            f"The import has no column for {', '.join(missing)}; "
            f"its columns are {', '.join(sorted(columns)) or 'none'}.",
            details={"missing": missing, "columns": sorted(columns)},
        )


@transaction.atomic
def campaign_create(
    *,
    owner_id: int,
    name: str,
    description: str = "",
    message_content: str = "",
    template: MessageTemplate | None = None,
    import_job: ImportJob | None = None,
    scheduled_at: datetime | None = None,
    start_when_imported: bool = False,
    include_non_mobile: bool = False,
    add_opt_out_line: bool = False,
    send_window: str = "",
) -> Campaign:
    campaign = Campaign(
        owner_id=owner_id,
        name=name,
        description=description,
        message_content=message_content,
        template=template,
        import_job=import_job,
        scheduled_at=scheduled_at,
        start_when_imported=start_when_imported,
        include_non_mobile=include_non_mobile,
        add_opt_out_line=add_opt_out_line,
        send_window=send_window,
    )
    check_references(owner_id=owner_id, template=template, import_job=import_job)
    compiled = campaign_compile(campaign)
    check_literal_text(compiled, field=_text_field(campaign))
    if import_job is not None and import_job.status == ImportJob.Status.SUCCESS:
        check_variables(compiled=compiled, import_job=import_job)
    campaign.save()
    return campaign


@transaction.atomic
def campaign_update(*, campaign: Campaign, **fields: object) -> Campaign:
    """Edit a DRAFT campaign; the same checks as at creation."""
    locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
    require(locked, Action.EDIT)
    for name, value in fields.items():
        setattr(locked, name, value)
    check_references(owner_id=locked.owner_id, template=locked.template, import_job=locked.import_job)
    compiled = campaign_compile(locked)
    check_literal_text(compiled, field=_text_field(locked))
    if locked.import_job and locked.import_job.status == ImportJob.Status.SUCCESS:
        check_variables(compiled=compiled, import_job=locked.import_job)
    locked.save()
    return locked


@transaction.atomic
def campaign_delete(*, campaign: Campaign) -> None:
    locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
    require(locked, Action.DELETE)
    locked.delete()


# --- Lifecycle ------------------------------------------------------------------


@transaction.atomic
def campaign_start(*, campaign: Campaign, now: datetime | None = None) -> Campaign:
    """DRAFT -> RUNNING (fan-out queued), or SCHEDULED when scheduled_at is still ahead.

    Starting twice is refused (409); a retried fan-out never doubles a message.
    """
    now = now or timezone.now()
    locked = (
        Campaign.objects.select_for_update(of=("self",)).select_related("import_job", "template").get(pk=campaign.pk)
    )
    require(locked, Action.START)
    job = locked.import_job
    if job is None or job.status != ImportJob.Status.SUCCESS:
        state = "no import" if job is None else f"an import that is {job.status}"
        raise Conflict(f"The campaign has {state}; it needs one that finished successfully.")
    if locked.template is not None and not locked.template.is_active:
        raise Conflict(f"The template {locked.template.name!r} is inactive.")
    check_variables(compiled=campaign_compile(locked), import_job=job)

    if locked.scheduled_at and locked.scheduled_at > now:
        return transition(locked, Action.START, to=Status.SCHEDULED)
    return _run(locked, Action.START, now)


def _run(campaign: Campaign, action: Action, now: datetime) -> Campaign:
    """To RUNNING with its text frozen; the fan-out is queued once this commits."""
    campaign = transition(campaign, action, to=Status.RUNNING, started_at=now, frozen_content=campaign_text(campaign))
    transaction.on_commit(partial(tasks.enqueue_fan_out, campaign_id=campaign.pk))
    return campaign


@transaction.atomic
def campaign_pause(*, campaign: Campaign, reason: str = "", resume_at: datetime | None = None) -> Campaign:
    """RUNNING -> PAUSED: the dispatcher skips its messages at once; a worker then holds them.

    A person's pause has no reason and lasts until a person resumes; the system's (a quota ran out) says why,
    and resumes by itself at `resume_at` (campaigns_resume_due)."""
    campaign = transition(campaign, Action.PAUSE, pause_reason=reason, resume_at=resume_at)
    # Once committed, so the task reads the new status.
    transaction.on_commit(partial(tasks.enqueue_message_sync, campaign_id=campaign.pk))
    return campaign


@transaction.atomic
def campaign_resume(*, campaign: Campaign) -> Campaign:
    """PAUSED -> RUNNING: a worker releases its held messages to the dispatcher."""
    campaign = transition(campaign, Action.RESUME, pause_reason="", resume_at=None)
    transaction.on_commit(partial(tasks.enqueue_message_sync, campaign_id=campaign.pk))
    if campaign.fanout_completed_at is None:
        transaction.on_commit(partial(tasks.enqueue_fan_out, campaign_id=campaign.pk))
    return campaign


@transaction.atomic
def campaign_cancel(*, campaign: Campaign) -> Campaign:
    """Any campaign not yet finished -> CANCELLED; a worker then cancels its still-QUEUED messages.

    The dispatcher never claims a cancelled campaign's messages, so they are as good as cancelled
    from this moment; turning 200,000 of them CANCELLED takes seconds, too long for a request.
    """
    campaign = transition(campaign, Action.CANCEL, completed_at=timezone.now())
    transaction.on_commit(partial(tasks.enqueue_message_sync, campaign_id=campaign.pk))
    return campaign


@transaction.atomic
def campaign_fail(*, campaign: Campaign, reason: str) -> Campaign:
    """A campaign that cannot start, or cannot go on: FAILED with the reason; a worker cancels what it queued."""
    campaign = transition(campaign, Action.FAIL, failure_reason=reason, completed_at=timezone.now())
    transaction.on_commit(partial(tasks.enqueue_message_sync, campaign_id=campaign.pk))
    return campaign


# --- Test sends -----------------------------------------------------------------


def campaign_test_send(*, campaign: Campaign, phone: str, requested_by_id: int | None) -> CampaignTestSend:
    """The campaign's text, rendered with its import's first contact but sent to `phone`, through the normal
    send path (normalised, opt-outs refused, queued for the dispatcher). Its message belongs to no campaign,
    so the campaign's statistics never count it."""
    first = Contact.objects.filter(import_job_id=campaign.import_job_id).order_by("id").first()
    values = {**first.variables, "name": first.name} if first is not None else {}
    with transaction.atomic():
        queued = messages_send(
            owner_id=campaign.owner_id,
            recipients=[Recipient(phone=phone, variables=values)],
            content=campaign_text(campaign),
            single=True,
        )
        return CampaignTestSend.objects.create(
            campaign=campaign, message_id=queued.message_ids[0], requested_by_id=requested_by_id
        )


# --- Scheduling and imports --------------------------------------------------------


def campaigns_start_due(*, now: datetime | None = None) -> list[int]:
    """SCHEDULED campaigns whose time has come -> RUNNING, with their fan-out queued."""
    now = now or timezone.now()
    started = []
    for campaign_id in in_sources_of(Action.RUN).filter(scheduled_at__lte=now).values_list("pk", flat=True):
        with transaction.atomic():
            campaign = Campaign.objects.select_for_update().get(pk=campaign_id)
            if campaign.status == Status.SCHEDULED:
                _run(campaign, Action.RUN, now)
                started.append(campaign_id)
    return started


def campaign_import_finished(*, import_job_id: int) -> list[int]:
    """A from-csv campaign's import is done: start it (or schedule it), or fail it with the import's reason.

    Safe to run twice at once (the import's task and the minute clock): the campaign row is
    locked and must still be a waiting DRAFT.
    """
    handled = []
    for campaign_id in campaigns_waiting_for(import_job_id=import_job_id).values_list("pk", flat=True):
        with transaction.atomic():
            campaign = Campaign.objects.select_for_update(of=("self",)).select_related("import_job").get(pk=campaign_id)
            job = campaign.import_job
            if campaign.status != Status.DRAFT or job is None or not job.is_finished:
                continue
            try:
                if job.status != ImportJob.Status.SUCCESS:
                    reason = job.failure_reason or "it was cancelled"
                    raise Conflict(f"The campaign's import {job.status.lower()}: {reason}")
                with transaction.atomic():
                    campaign_start(campaign=campaign)
            except InboxerrException as exc:
                log.info("campaign %s cannot start: %s", campaign.pk, exc.message)
                campaign_fail(campaign=campaign, reason=exc.message)
            handled.append(campaign.pk)
    return handled


def campaigns_waiting_for(*, import_job_id: int) -> QuerySet[Campaign]:
    """The from-csv campaigns that start (or fail) when this import finishes."""
    return Campaign.objects.filter(import_job_id=import_job_id, status=Status.DRAFT, start_when_imported=True)


def campaigns_waiting_for_finished_imports() -> list[int]:
    """The safety net for a lost import_finished task: every import that finished under a waiting campaign."""
    return list(
        Campaign.objects.filter(
            status=Status.DRAFT, start_when_imported=True, import_job__status__in=ImportJob.FINISHED
        ).values_list("import_job_id", flat=True)
    )


def campaigns_complete_finished(*, now: datetime | None = None) -> int:
    """RUNNING campaigns whose fan-out is done and with nothing QUEUED or SENDING left -> COMPLETED.

    Each by one conditional UPDATE, exact however many dispatchers and webhooks run meanwhile, in the
    transaction that tells the owner's webhooks (campaign.completed).
    """
    now = now or timezone.now()
    pending = Message.objects.filter(
        campaign=OuterRef("pk"), status__in=[Message.Status.QUEUED, Message.Status.SENDING]
    )
    finished = in_sources_of(Action.COMPLETE).filter(fanout_completed_at__isnull=False).filter(~Exists(pending))
    completed = 0
    for campaign_id, owner_id in finished.values_list("pk", "owner_id"):
        with transaction.atomic():
            moved = finished.filter(pk=campaign_id).update(
                status=TRANSITIONS[Action.COMPLETE].targets[0], completed_at=now, updated_at=timezone.now()
            )
            if moved:
                completed += 1
                if outbound.wants(owner_id=owner_id, event=OutboundEvent.CAMPAIGN_COMPLETED):
                    outbound.emit(
                        owner_id=owner_id, event=OutboundEvent.CAMPAIGN_COMPLETED, data=_completed_data(campaign_id)
                    )
    return completed


def _completed_data(campaign_id: int) -> dict[str, Any]:
    """What campaign.completed tells: the campaign, and its messages counted by status."""
    campaign = Campaign.objects.values("id", "name", "status", "started_at", "completed_at").get(pk=campaign_id)
    counts = {status: 0 for status in Message.Status.values}
    # COUNT(*) by status alone: message_campaign_status_idx answers without visiting the rows.
    for row in Message.objects.filter(campaign_id=campaign_id).values("status").annotate(n=Count("*")):
        counts[row["status"]] = row["n"]
    return {**campaign, "messages": counts}
