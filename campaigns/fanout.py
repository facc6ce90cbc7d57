"""Fan-out: one QUEUED Message per contact of a campaign's import, in batches.

Safe to run twice, or to resume after a dead worker: messages are inserted with
ON CONFLICT DO NOTHING against the (campaign, phone) unique constraint, and the
skip counters are recomputed from scratch on every full pass.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.db import DataError, transaction
from django.db.models import Q
from django.utils import timezone

from campaigns.models import Campaign
from campaigns.services import campaign_compile, campaign_fail
from imports.line_types import TEXTABLE, LineType
from imports.models import Contact, contact_values
from inboxerr import shutdown
from inboxerr.bulk import insert_ignoring_conflicts
from inboxerr.exceptions import Conflict, InboxerrException
from messaging.destinations import destinations_for
from messaging.models import Message, OptOut, Waiting, opted_out_for
from messaging.opt_out_line import already_messaged, opt_out_line_of, with_opt_out_line
from messaging.send_windows import WindowClock, effective_window
from messaging.tasks import kick_dispatcher
from templates.limits import within_limit
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
    last_id = 0
    while True:
        contacts = list(
            Contact.objects.filter(import_job_id=campaign.import_job_id, id__gt=last_id)
            .order_by("id")
            .values_list("id", "phone", "name", "variables", "line_type")[:BATCH_SIZE]
        )
        if not contacts:
            break
        last_id = contacts[-1][0]
        rows = _messages_for(campaign, compiled, contacts, result)
        if not _write_batch(campaign_id, rows):
            log.info("campaign %s: fan-out stopped, the campaign is no longer running", campaign_id)
            return result
        if on_batch:
            on_batch(result)
        if shutdown.requested():
            # Free for the next fan-out the clock queues (within a minute), which goes on from here.
            Campaign.objects.filter(pk=campaign_id).update(fanout_heartbeat_at=None)
            log.warning("campaign %s: fan-out stopped at a batch's end because the worker is stopping", campaign_id)
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


def _claim(campaign_id: int) -> bool:
    now = timezone.now()
    return bool(
        Campaign.objects.filter(pk=campaign_id, status__in=ACTIVE, fanout_completed_at__isnull=True)
        .filter(Q(fanout_heartbeat_at__isnull=True) | Q(fanout_heartbeat_at__lt=now - STALL))
        .update(fanout_heartbeat_at=now)
    )


# The rest (id, status QUEUED, attempts, timestamps, ...) take the model's defaults.
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


def _messages_for(campaign: Campaign, compiled: CompiledTemplate, contacts: list, result: FanOutResult) -> list[tuple]:
    """Message rows (in MESSAGE_COLUMNS order) for a batch of contacts; skips are counted in `result`."""
    opted_out = set(
        OptOut.objects.filter(
            opted_out_for(campaign.owner_id), phone__in=[phone for _, phone, *_ in contacts]
        ).values_list("phone", flat=True)
    )
    destinations = destinations_for(campaign.owner_id)
    opt_out_line = opt_out_line_of(campaign.owner_id) if campaign.add_opt_out_line else ""
    messaged_before = (
        already_messaged(owner_id=campaign.owner_id, phones=(c[1] for c in contacts), campaign_id=campaign.pk)
        if opt_out_line
        else set()
    )
    now = timezone.now()
    window = effective_window(campaign.send_window)
    clock = WindowClock(window, now)
    same = (campaign.owner_id, campaign.pk, campaign.import_job_id)  # in every row
    rows = []
    for contact_id, phone, name, variables, line_type in contacts:
        result.recipients += 1
        # Counted as the opt-outs are, in this loop that renders each message anyway: a filter in the contacts'
        # query would need another scan of the import to count what it left out.
        if line_type not in TEXTABLE and not campaign.include_non_mobile:
            result.skipped_not_mobile += 1
            continue
        if phone in opted_out:
            result.skipped_opted_out += 1
            continue
        if destinations.refusal(phone, line_type if line_type != LineType.UNKNOWN else ""):
            result.skipped_not_allowed += 1
            continue
        # Outside the window now: written due at its next opening, so no dispatcher claims it before then.
        opening = clock.opening_for(phone)
        if opening is None:
            result.skipped_quiet_hours += 1
            continue
        try:
            content = compiled.render(contact_values(variables, phone=phone, name=name))
        except MissingVariables:
            result.skipped_missing_variables += 1
            continue
        if opt_out_line and phone not in messaged_before:
            content = with_opt_out_line(content, opt_out_line)
        parts = max(analyse(content).parts, 1)
        if not within_limit(parts):
            result.skipped_too_long += 1
            continue
        result.queued += 1
        waiting = Waiting.QUIET_HOURS if opening > now else ""
        rows.append((*same, contact_id, phone, content, variables, parts, opening, window, waiting))
    return rows


def _write_batch(campaign_id: int, rows: list[tuple]) -> bool:
    """Insert a batch unless the campaign stopped; the row lock orders it against a concurrent cancel."""
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().only("status").get(pk=campaign_id)
        if campaign.status not in ACTIVE:
            return False
        # A paused campaign's messages are written held; the campaign row lock orders this against
        # a pause or resume, whose message sync then sees these rows.
        held = campaign.status == Campaign.Status.PAUSED
        # A message already written (a repeated or resumed fan-out) is skipped by (campaign, phone).
        insert_ignoring_conflicts(model=Message, columns=(*MESSAGE_COLUMNS, "held"), rows=[(*r, held) for r in rows])
        Campaign.objects.filter(pk=campaign_id).update(fanout_heartbeat_at=timezone.now())
        kick_dispatcher()  # sending starts with the first batch, not after the last
    return True
