"""What a campaign's admin page shows: before it starts, what it will send; while it runs, how far it is."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.timesince import timeuntil

from campaigns import selectors, services
from campaigns.models import Campaign
from imports.models import ImportJob
from inboxerr.admin import short_time
from inboxerr.exceptions import InboxerrException
from messaging.errors import explain
from messaging.inbox_admin import conversation_url
from messaging.models import InboundMessage

PREVIEWED = 5
# Why QUEUED messages are held back (Message.waiting), as the campaign's page says it.
WAITING = {
    "quiet_hours": "for quiet hours to end where the recipient is",
    "quota": "for the owner's quota to reset",
    "review": "for staff to review a burst to one country",
}


def new_campaign_from(job: ImportJob) -> tuple[str, str]:
    """The import page's "New campaign from this import": the add form, its owner and import filled in."""
    query = urlencode({"owner": job.owner_id, "import_job": job.pk})
    return "New campaign from this import", f"{reverse('admin:campaigns_campaign_add')}?{query}"


def messages_url(campaign: Campaign, status: str | None = None) -> str:
    """The messages list narrowed to this campaign (and one status)."""
    query = {"campaign": campaign.pk, **({"status__exact": status} if status else {})}
    return f"{reverse('admin:messaging_message_changelist')}?{urlencode(query)}"


def progress(stats: dict[str, Any]) -> SafeString:
    """The bar, the rate over its stated window, and the estimated finish; why the system paused it."""
    if stats["pause_reason"]:
        resume_at = stats["resume_at"]
        return format_html(
            "<strong>Paused by the system: {}.</strong> It resumes by itself at {}.",
            stats["pause_reason"],
            short_time(resume_at),
        )
    if not stats["fan_out_complete"] and stats["status"] == Campaign.Status.RUNNING:
        return format_html("Creating its messages: {} so far.", f"{stats['messages']:,}")
    eta = stats["estimated_completion_at"]
    finish = (
        format_html("; about {} to go (done at {})", timeuntil(eta), f"{timezone.localtime(eta):%H:%M}") if eta else ""
    )
    return format_html(
        '<progress max="100" value="{}" style="width: 20em"></progress> <strong>{}%</strong> of {} messages done'
        "<br>{} sent per second over the last {} s{}",
        stats["progress_percent"],
        stats["progress_percent"],
        f"{stats['messages']:,}",
        stats["send_rate_per_second"],
        stats["send_rate_window_seconds"],
        finish,
    )


def breakdown(campaign: Campaign, stats: dict[str, Any]) -> SafeString:
    """Counts by status, each a link to those messages."""
    rows = format_html_join(
        "",
        '<tr><td>{}</td><td style="text-align: right"><a href="{}">{}</a></td></tr>',
        ((status.capitalize(), messages_url(campaign, status), f"{n:,}") for status, n in stats["by_status"].items()),
    )
    skipped = [
        (reason, n)
        for reason, n in [
            ("opted out", campaign.skipped_opted_out),
            ("missing a variable", campaign.skipped_missing_variables),
            ("over the parts limit", campaign.skipped_too_long),
            ("not mobile (fixed line, toll-free, premium rate, ...)", campaign.skipped_not_mobile),
            ("in a country, or on a kind of number, the owner may not send to", campaign.skipped_not_allowed),
            ("no hour inside its quiet hours in all the number's time zones", campaign.skipped_quiet_hours),
        ]
        if n
    ]
    skipped_rows = format_html_join("", "<tr><td>Skipped: {}</td><td style='text-align: right'>{}</td></tr>",
                                    ((reason, f"{n:,}") for reason, n in skipped))  # fmt: skip
    waiting = [(WAITING[reason], n) for reason, n in stats["waiting"].items() if n]
    waiting_rows = format_html_join("", "<tr><td>Waiting {}</td><td style='text-align: right'>{}</td></tr>",
                                    ((reason, f"{n:,}") for reason, n in waiting))  # fmt: skip
    return format_html(
        '<table><tbody>{}{}{}</tbody></table><p><a href="{}">All {} messages</a></p>',
        rows,
        waiting_rows,
        skipped_rows,
        messages_url(campaign),
        f"{stats['messages']:,}",
    )


LATEST_REPLIES = 5


def replies(campaign: Campaign, stats: dict[str, Any]) -> SafeString:
    """How many wrote back (how many unread), the latest few, each a link to its conversation."""
    if not stats["replies"]:
        return format_html("{}", "No replies yet.")
    inbox_url = f"{reverse('admin:messaging_inboundmessage_changelist')}?{urlencode({'campaign': campaign.pk})}"
    summary = format_html(
        '<p>{} repl{} ({} unread) · <a href="{}">See them all in the Inbox</a></p>',
        f"{stats['replies']:,}",
        "y" if stats["replies"] == 1 else "ies",
        f"{stats['unread_replies']:,}",
        inbox_url,
    )
    latest = InboundMessage.objects.filter(campaign=campaign).order_by("-received_at")[:LATEST_REPLIES]
    rows = format_html_join(
        "",
        '<tr><td><a href="{}">{}</a></td><td>{}</td><td>{}</td><td>{}</td></tr>',
        (
            (conversation_url(m.phone, m.owner_id), m.phone, m.text[:100] or "(no text)",
             m.keyword.upper() or "", timezone.localtime(m.received_at).strftime("%d %b %H:%M"))
            for m in latest
        ),
    )  # fmt: skip
    return format_html("{}<table><tbody>{}</tbody></table>", summary, rows)


def before_start(campaign: Campaign) -> SafeString:
    """Recipients, the parts it will take (what the gateway bills), the variables its import lacks, and its
    first messages rendered from real contacts: what Start will send."""
    import_job = campaign.import_job
    if import_job is None:
        return format_html("{}", "Choose an import to see who it goes to.")
    try:
        compiled = services.campaign_compile(campaign)
        services.check_variables(compiled=compiled, import_job=import_job)
        preview = selectors.campaign_preview(campaign=campaign, limit=PREVIEWED)
    except InboxerrException as error:
        return format_html('<p class="errornote">{}</p>', error.message)
    samples = format_html_join(
        "",
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
        (
            (
                item["phone"],
                item["rendered"] if item["rendered"] is not None else f"Skipped: no {', '.join(item['missing'])}",
                item["encoding"] or "",
                item["parts"] or "",
            )
            for item in preview["messages"]
        ),
    )
    left_out = preview["skipped_not_mobile"]
    not_mobile = (
        format_html(
            " {} numbers that are not mobile (fixed line, toll-free, premium rate, ...) are left out; tick "
            "“Include non-mobile numbers” to send to them too.",
            f"{left_out:,}",
        )
        if left_out
        else ""
    )
    return format_html(
        "<p><strong>{}</strong> recipients (before opt-outs), about <strong>{}</strong> parts: "
        "the units the gateway bills, one per part.{}</p>"
        "<table><thead><tr><th>Phone</th><th>First messages, as they will be sent</th><th>Encoding</th>"
        "<th>Parts</th></tr></thead><tbody>{}</tbody></table>",
        f"{preview['recipients']:,}",
        f"{preview['estimated_total_parts']:,}",
        not_mobile,
        samples,
    )


TEST_SENDS_SHOWN = 5


def test_sends(campaign: Campaign) -> SafeString:
    """The latest test sends, each with where its message is now."""
    sends = campaign.test_sends.select_related("message", "requested_by")[:TEST_SENDS_SHOWN]
    rows = format_html_join(
        "",
        '<tr><td><a href="{}">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>',
        (
            (
                reverse("admin:messaging_message_change", args=[send.message.pk]),
                send.message.phone,
                send.message.status.capitalize(),
                f"{timezone.localtime(send.created_at):%d %b %H:%M}",
                send.requested_by or "",
                explain(send.message.error) if send.message.error else "",
            )
            for send in sends
        ),
    )
    table = format_html(
        "<table><thead><tr><th>Phone</th><th>Status</th><th>Sent</th><th>By</th><th>Error</th></tr></thead>"
        "<tbody>{}</tbody></table>",
        rows,
    )
    return format_html(
        "{}<p>{}</p>",
        table if sends else "",
        "Send a test (the box above) to see the message on a phone. Tests are never counted in the campaign's figures.",
    )


def in_words(error: InboxerrException) -> str:
    """An API error as sentences: its message, then what each detail says (a field's errors, a bad phone's)."""
    details = error.details if isinstance(error.details, dict) else {}
    said = [_said(item) for value in details.values() for item in (value if isinstance(value, list) else [value])]
    return " ".join([error.message, *filter(None, said)])


def _said(item: Any) -> str:
    return str(item.get("message", "")) if isinstance(item, dict) else str(item)
