from __future__ import annotations

import uuid
from collections.abc import Iterable

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from inboxerr.ids import uuid7


class TaskStatus(models.TextChoices):
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


class TaskKind(models.TextChoices):
    SEND = "send"
    BATCH = "batch"


class TaskRecord(models.Model):
    """A unit of background work the API handed out, readable at /api/v1/tasks/{id}."""

    Status = TaskStatus
    Kind = TaskKind

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tasks")
    kind = models.CharField(max_length=32, choices=Kind.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    total = models.PositiveIntegerField(default=0)
    result = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=TaskStatus.values), name="taskrecord_status_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.id} ({self.status})"


class MessageStatus(models.TextChoices):
    QUEUED = "QUEUED"
    SENDING = "SENDING"
    SENT = "SENT"
    DELIVERED = "DELIVERED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"


class Waiting(models.TextChoices):
    QUIET_HOURS = "quiet_hours", "quiet hours"
    QUOTA = "quota", "quota reached"
    REVIEW = "review", "held for review"


class Message(models.Model):
    """One SMS to one phone number, from queueing to its final state."""

    Status = MessageStatus
    Waiting = Waiting

    FINAL = (Status.DELIVERED, Status.FAILED, Status.CANCELLED)

    # Our id is also the gateway's message id, so a resend after a crash can be detected.
    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    # owner and campaign are indexed by the composite indexes below, not on their own.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="messages", db_index=False
    )
    campaign = models.ForeignKey(
        "campaigns.Campaign",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="messages",
        db_index=False,
    )
    contact = models.ForeignKey(
        "imports.Contact", on_delete=models.SET_NULL, null=True, blank=True, related_name="messages"
    )
    import_job = models.ForeignKey(
        "imports.ImportJob", on_delete=models.SET_NULL, null=True, blank=True, related_name="messages"
    )
    task = models.ForeignKey(TaskRecord, on_delete=models.SET_NULL, null=True, blank=True, related_name="messages")
    phone = models.CharField(max_length=20, help_text="E.164")
    content = models.TextField()
    variables = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    # When the dispatcher may pick it up: now, a scheduled time, or after a backoff.
    next_attempt_at = models.DateTimeField(default=timezone.now)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(max_length=100, blank=True, default="")
    # Set when a lease expired: the worker that held it may have sent it, so ask the gateway first.
    verify_before_send = models.BooleanField(default=False)
    # Its campaign is paused: out of the dispatcher's index, so a paused backlog costs claims nothing.
    # Only a hint kept in step with the campaign by campaigns.message_sync; claims also apply the condition
    # campaigns register (dispatcher.claims.hold_back_from_claims) for the moments before the sync runs.
    held = models.BooleanField(default=False)
    gateway_message_id = models.CharField(max_length=100, blank=True, default="")
    # "08:00-21:00": sent only while the recipient's local time is inside it (messaging.send_windows).
    # Defaults in the database too: rows written by SQL that predates the column (bulk loads, an older release
    # still running during a deploy) get them.
    send_window = models.CharField(max_length=11, blank=True, default="", db_default="")
    # Why a QUEUED message is not going out yet: a safeguard holds it until next_attempt_at, or staff decide.
    waiting = models.CharField(max_length=16, choices=Waiting.choices, blank=True, default="", db_default="")
    parts_count = models.PositiveSmallIntegerField(default=1)
    error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            # The dispatcher's claim: the owners with a message due (walked one owner at a time), and each owner's
            # due QUEUED messages, oldest first, so a claim shares its batch between owners (dispatcher.claims).
            # Partial, so it holds only the waiting messages, not the millions already sent nor those held.
            models.Index(
                fields=["owner", "next_attempt_at"],
                condition=Q(status="QUEUED", held=False),
                name="message_owner_due_idx",
            ),
            # Held messages of one campaign, found again when it resumes.
            models.Index(fields=["campaign"], condition=Q(status="QUEUED", held=True), name="message_held_idx"),
            # Expired leases, looked for by the safety-net sweep.
            models.Index(fields=["lease_expires_at"], condition=Q(status="SENDING"), name="message_lease_idx"),
            # A campaign's stats (counts and parts by status) read from the index alone, without the rows.
            models.Index(fields=["campaign", "status"], include=["parts_count"], name="message_campaign_status_idx"),
            # A campaign's current send rate: its messages sent in the last few seconds.
            models.Index(fields=["campaign", "sent_at"], name="message_campaign_sent_idx"),
            # A campaign's messages newest first (its list in the admin and the API): without it PostgreSQL
            # walks the primary key back past every newer message to reach an older campaign's.
            models.Index(fields=["campaign", "-id"], name="message_campaign_id_idx"),
            models.Index(fields=["owner", "-id"], name="message_owner_id_idx"),
            # The messages list filtered to CANCELLED, a status few messages have: without it, its count and
            # its page read the whole table (0.68 s at 5M messages). Holds only cancelled rows, so sends and
            # receipts never write to it.
            models.Index(fields=["-id"], condition=Q(status="CANCELLED"), name="message_cancelled_idx"),
            # The dashboard's latest failures: the newest few, however many have failed.
            models.Index(fields=["-failed_at"], condition=Q(status="FAILED"), name="message_failed_idx"),
            models.Index(fields=["phone"], name="message_phone_idx"),
            # Messages a safeguard holds back, counted in a campaign's stats and found again when staff release a
            # review: few at any time, so these stay small however big the table.
            models.Index(
                fields=["campaign", "waiting"],
                condition=Q(status="QUEUED") & ~Q(waiting=""),
                name="message_waiting_idx",
            ),
            models.Index(
                fields=["owner", "waiting"],
                condition=Q(status="QUEUED") & ~Q(waiting=""),
                name="message_owner_waiting_idx",
            ),
            # Twilio answers with its own SID; receipts are matched on it.
            models.Index(
                fields=["gateway_message_id"], condition=~Q(gateway_message_id=""), name="message_gateway_id_idx"
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=MessageStatus.values), name="message_status_valid"),
            models.CheckConstraint(condition=Q(parts_count__gte=1), name="message_parts_positive"),
            models.UniqueConstraint(
                fields=["campaign", "phone"],
                condition=Q(campaign__isnull=False),
                name="message_phone_unique_per_campaign",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.phone} ({self.status})"


class EventSource(models.TextChoices):
    """Who reported an event, or asked for an opt-out."""

    DISPATCHER = "dispatcher"
    API = "api"
    ADMIN = "admin"
    ANDROID = "android"
    TWILIO = "twilio"


class EventKind(models.TextChoices):
    """What happened to a message. A gateway event we do not act on keeps the gateway's own name."""

    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"
    RECEIVED = "received"
    PING = "ping"
    RETRY = "retry"
    CANCELLED = "cancelled"
    OPTED_OUT = "opted_out", "opted out"
    FOUND_AT_GATEWAY = "found_at_gateway", "found at the gateway"


class MessageEvent(models.Model):
    """What happened to a message, from us or the gateway: its history and the webhooks' audit trail."""

    Source = EventSource
    Kind = EventKind

    # Empty for events about no message of ours: an inbound SMS, a ping, a receipt for an unknown id.
    message = models.ForeignKey(Message, on_delete=models.CASCADE, null=True, blank=True, related_name="events")
    source = models.CharField(max_length=16, choices=Source.choices)
    # The gateway's event id; unique per source, which makes retried webhooks count once.
    external_id = models.CharField(max_length=100, blank=True, default="")
    # One of Kind, or the gateway's own name for an event we do not act on (so no check constraint).
    kind = models.CharField(max_length=40, choices=Kind.choices)
    # The message's status after this event (unchanged when the event arrived late).
    status = models.CharField(max_length=16, choices=Message.Status.choices, blank=True, default="")
    detail = models.TextField(blank=True, default="")
    payload = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_id"],
                condition=~Q(external_id=""),
                name="messageevent_external_id_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.message_id}"


class OptOut(models.Model):
    """A number that asked its sender (the owner) to stop: never messaged again until it opts back in.

    Without an owner, the number opted out by a STOP texted to the gateway: every user sending through that
    gateway (every user of this deployment) skips it.
    """

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="opt_outs", null=True, blank=True
    )
    phone = models.CharField(max_length=20, help_text="E.164")
    # How it arrived.
    source = models.CharField(max_length=16, choices=EventSource.choices, default=EventSource.API)
    # The keyword the recipient sent (STOP, UNSUBSCRIBE, ...), when it came by SMS.
    keyword = models.CharField(max_length=32, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "phone"], name="optout_phone_unique_per_owner"),
            models.UniqueConstraint(
                fields=["phone"], condition=Q(owner__isnull=True), name="optout_phone_unique_gateway_wide"
            ),
            models.CheckConstraint(condition=Q(phone__startswith="+"), name="optout_phone_e164"),
        ]

    def __str__(self) -> str:
        return self.phone


def opted_out_for(owner_id: int) -> Q:
    """The opt-outs that bind a user: their own, and those texted to the gateway (no owner)."""
    return Q(owner_id=owner_id) | Q(owner__isnull=True)


class InboundKind(models.TextChoices):
    SMS = "sms", "SMS"
    MMS = "mms", "MMS"
    DATA = "data", "data SMS"


class Keyword(models.TextChoices):
    """What an inbound message asked of us, when it was a keyword (messaging.keywords)."""

    STOP = "stop"
    START = "start"
    HELP = "help"


class InboundMessage(models.Model):
    """A message a person sent to the gateway: a reply to a campaign, a question, a STOP.

    Stored once per gateway event (source, external_id). It belongs to the user who last messaged its phone;
    one nobody here has messaged is unassigned (no owner), seen by staff only.
    """

    Kind = InboundKind

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="inbound_messages"
    )
    source = models.CharField(max_length=16, choices=EventSource.choices)
    external_id = models.CharField(max_length=100, help_text="The gateway's event id.")
    kind = models.CharField(max_length=8, choices=InboundKind.choices, default=InboundKind.SMS)
    # E.164 when the gateway's number reads as one; else as the gateway gave it (a short code, a name).
    phone = models.CharField(max_length=40)
    text = models.TextField(blank=True, default="")
    received_at = models.DateTimeField()
    # Where it arrived: the gateway's number (Twilio's To, the android device's own number when it knows it),
    # the android device and its SIM.
    gateway_number = models.CharField(max_length=40, blank=True, default="")
    device_id = models.CharField(max_length=100, blank=True, default="")
    sim_number = models.PositiveSmallIntegerField(null=True, blank=True)
    # What it most likely answers: the latest message its owner sent to the phone within REPLY_WINDOW_DAYS.
    in_reply_to = models.ForeignKey(
        Message, on_delete=models.SET_NULL, null=True, blank=True, related_name="replies", db_index=False
    )
    campaign = models.ForeignKey(
        "campaigns.Campaign", on_delete=models.SET_NULL, null=True, blank=True, related_name="replies", db_index=False
    )
    contact = models.ForeignKey(
        "imports.Contact", on_delete=models.SET_NULL, null=True, blank=True, related_name="replies", db_index=False
    )
    # The gateway's own id for the message (android's content-based messageId, Twilio's SID).
    gateway_message_id = models.CharField(max_length=100, blank=True, default="")
    # A keyword it was (STOP, START, HELP) and what that did, for the conversation to show.
    keyword = models.CharField(max_length=8, choices=Keyword.choices, blank=True, default="")
    keyword_result = models.CharField(max_length=200, blank=True, default="")
    # The automatic answer it got (a HELP text), if any: at most one per phone an hour.
    auto_reply = models.ForeignKey(
        Message, on_delete=models.SET_NULL, null=True, blank=True, related_name="answered", db_index=False
    )
    read_at = models.DateTimeField(null=True, blank=True)
    archived_at = models.DateTimeField(null=True, blank=True)
    payload = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = "inbound message"
        verbose_name_plural = "inbox messages"
        indexes = [
            # The admin's Inbox of the messages not archived: unread first (NULLs lead a DESC order in
            # PostgreSQL), then the most recently read, the newest first.
            models.Index(F("read_at").desc(), F("id").desc(), condition=Q(archived_at__isnull=True),
                         name="inbound_inbox_idx"),
            # A user's inbox, newest first (by arrival); and its unread ones, which the inbox shows first.
            models.Index(fields=["owner", "-id"], name="inbound_owner_idx"),
            models.Index(
                fields=["owner", "-id"],
                condition=Q(read_at__isnull=True, archived_at__isnull=True),
                name="inbound_unread_idx",
            ),
            # One phone's conversation.
            models.Index(fields=["phone", "-received_at"], name="inbound_phone_idx"),
            # A campaign's replies (its count and latest on its page).
            models.Index(fields=["campaign", "-received_at"], condition=Q(campaign__isnull=False),
                         name="inbound_campaign_idx"),
        ]  # fmt: skip
        constraints = [
            models.UniqueConstraint(fields=["source", "external_id"], name="inbound_once_per_gateway_event"),
        ]

    def __str__(self) -> str:
        return f"{self.phone}: {self.text[:40]}"


class SendingLimits(models.Model):
    """What staff allow one user to send, on top of the deployment's rules (messaging.destinations)."""

    owner = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sending_limits")
    allowed_countries = models.JSONField(
        default=list,
        blank=True,
        help_text="ISO 3166 codes (GB, IE, ...) this user may send to, within SMS_ALLOWED_COUNTRIES. Empty: "
        "wherever the deployment allows.",
    )
    allow_premium_rate = models.BooleanField(
        default=False, help_text="May send to premium-rate and shared-cost numbers, which cost the sender more."
    )
    daily_parts = models.PositiveIntegerField(
        "daily quota",
        null=True,
        blank=True,
        help_text="SMS parts this user may send a day. Empty: SMS_QUOTA_DAILY_PARTS (none set: unlimited).",
    )
    monthly_parts = models.PositiveIntegerField(
        "monthly quota",
        null=True,
        blank=True,
        help_text="SMS parts this user may send a calendar month. Empty: SMS_QUOTA_MONTHLY_PARTS (none: unlimited).",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "sending limits"

    def __str__(self) -> str:
        return f"sending limits of {self.owner}"


def sending_limits_of(owner_ids: Iterable[int]) -> dict[int, SendingLimits]:
    """The limits staff set for these users, by user; a user with none set is not in it."""
    return {row.owner_id: row for row in SendingLimits.objects.filter(owner_id__in=set(owner_ids))}


class QuotaPeriod(models.TextChoices):
    DAY = "day"
    MONTH = "month"


class QuotaUsage(models.Model):
    """SMS parts one user sent in one day or month: the count quotas are checked against (messaging.quotas).

    One row per user and period, updated under its row lock, so every web and worker process agrees."""

    Period = QuotaPeriod

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    period = models.CharField(max_length=8, choices=Period.choices)
    starts = models.DateField(help_text="The day, or the month's first day, in TIME_ZONE.")
    parts = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name_plural = "quota usage"
        constraints = [
            models.UniqueConstraint(fields=["owner", "period", "starts"], name="quota_usage_one_row_per_period")
        ]

    def __str__(self) -> str:
        return f"{self.owner} {self.period} of {self.starts}: {self.parts} parts"


class CountryUsage(models.Model):
    """SMS parts one user sent to one country calling code in one day: the user's usual mix, against which a
    burst is measured (messaging.bursts)."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    calling_code = models.CharField(max_length=4)
    parts = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["owner", "day", "calling_code"], name="country_usage_one_row_per_day")
        ]

    def __str__(self) -> str:
        return f"{self.owner} +{self.calling_code} on {self.day}: {self.parts} parts"


class ReviewStatus(models.TextChoices):
    OPEN = "open"
    APPROVED = "approved"
    REJECTED = "rejected"


class SendingReview(models.Model):
    """A burst of one user's sends to one country calling code, held until staff approve or reject it.

    One per user, code and day: an approved one lets the rest of that day's sends to the code through."""

    Status = ReviewStatus

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    calling_code = models.CharField(max_length=4)
    day = models.DateField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    reason = models.TextField(help_text="The figures that opened it.")
    opened_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-opened_at"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "calling_code", "day"], name="review_one_per_code_and_day")
        ]

    def __str__(self) -> str:
        return f"+{self.calling_code} burst of {self.owner} on {self.day} ({self.status})"


class InboxSettings(models.Model):
    """A user's answers to keywords: the text a HELP (or INFO) reply gets, and the line that tells recipients
    how to opt out."""

    owner = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="inbox_settings")
    help_text = models.TextField(
        blank=True,
        default="",
        help_text="Sent to whoever texts HELP or INFO (at most once an hour per phone). Empty: no answer.",
    )
    opt_out_line = models.CharField(
        max_length=160,
        blank=True,
        default="",
        help_text="Ends the first message a recipient gets from a campaign that adds it. Empty: SMS_OPT_OUT_LINE.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "inbox settings"

    def __str__(self) -> str:
        return f"inbox settings of {self.owner}"


class RetentionProgress(models.Model):
    """How far the retention task has come through the messages (their ids are time-ordered)."""

    name = models.CharField(max_length=32, primary_key=True)
    last_id = models.UUIDField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name}: up to {self.last_id}"


class RateLimitWindow(models.Model):
    """Units (messages or segments) a backend used in one window: the rate limit all workers share."""

    key = models.CharField(max_length=64, primary_key=True)
    window = models.BigIntegerField(default=0)
    used = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.key}: {self.used} in window {self.window}"


class GatewayHealth(models.Model):
    """What the dispatcher last learnt of a backend that matters beyond one message: refused credentials."""

    backend = models.CharField(max_length=200, primary_key=True)
    auth_failed_at = models.DateTimeField(null=True, blank=True)
    detail = models.TextField(blank=True, default="")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "gateway health"

    def __str__(self) -> str:
        return self.backend


class TallyKind(models.TextChoices):
    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"
    OPTED_OUT = "opted_out", "opted out"


class Tally(models.Model):
    """How many messages were sent, delivered or failed (and numbers opted out) in one hour, for the
    dashboard: counting a table of millions of messages by time would not stay fast.

    Writers add to one of SHARDS rows per hour and kind, picked at random, so dispatchers and
    webhooks do not all queue on one row's lock; readers add the shards up.
    """

    Kind = TallyKind
    SHARDS = 8

    hour = models.DateTimeField(help_text="The hour's start, UTC.")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    shard = models.PositiveSmallIntegerField(default=0)
    count = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["hour", "kind", "shard"], name="tally_one_row_per_shard")]

    def __str__(self) -> str:
        return f"{self.kind} {self.hour:%Y-%m-%d %H:00}: {self.count}"


# --- Outbound webhooks: what we tell our users' programs (messaging.outbound) ----------------------------------


class OutboundEvent(models.TextChoices):
    """What an endpoint can be told of. `webhook.test` is sent only when asked for, to one endpoint."""

    MESSAGE_SENT = "message.sent"
    MESSAGE_DELIVERED = "message.delivered"
    MESSAGE_FAILED = "message.failed"
    INBOUND_RECEIVED = "inbound.received"
    CAMPAIGN_COMPLETED = "campaign.completed"
    IMPORT_FINISHED = "import.finished"
    WEBHOOK_TEST = "webhook.test"


class WebhookEndpoint(models.Model):
    """A URL of a user's program that is told (signed, by a worker) of the events it subscribed to."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="webhook_endpoints")
    url = models.URLField(max_length=2000)
    description = models.CharField(max_length=200, blank=True, default="")
    # The signing key: made here, shown once when the endpoint is created, kept to sign every delivery.
    # A key we must use, not a password we only check, so it is stored as it is.
    secret = models.CharField(max_length=100, editable=False)
    # A list of OutboundEvent values (webhook.test excepted).
    events = models.JSONField(default=list)
    active = models.BooleanField(default=True)
    # Why it is off (by its owner, or automatically after a run of failures), shown in the API and the admin.
    disabled_reason = models.TextField(blank=True, default="")
    disabled_at = models.DateTimeField(null=True, blank=True)
    # The current run of failed attempts (reset by a success): its length, when it began, and when the
    # endpoint may be tried again (deliveries wait for it, so a dead endpoint costs one attempt at a time).
    consecutive_failures = models.PositiveIntegerField(default=0)
    failing_since = models.DateTimeField(null=True, blank=True)
    retry_after = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return self.url


class DeliveryStatus(models.TextChoices):
    PENDING = "pending"
    DELIVERED = "delivered"
    RETRYING = "retrying", "failed, will retry"
    GIVEN_UP = "given_up", "given up"


class WebhookDelivery(models.Model):
    """One event for one endpoint, and what became of it: the endpoint's delivery log."""

    Status = DeliveryStatus
    DUE = (DeliveryStatus.PENDING, DeliveryStatus.RETRYING)

    # Time-ordered: the log reads newest first along the key; also sent as X-Inboxerr-Delivery.
    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    # No database-level foreign key: deliveries are written inside the transactions of the dispatcher and
    # the receipts, which must never fail at commit because an endpoint was deleted meanwhile. Deleting an
    # endpoint still deletes its log (Django does it); a delivery left without one is dropped by the worker.
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries", db_index=False, db_constraint=False
    )
    # The event's id, the same in every endpoint's delivery of it: what a receiver de-duplicates on.
    event_id = models.UUIDField()
    event = models.CharField(max_length=40, choices=OutboundEvent.choices)
    # The JSON body as sent, {"id", "event", "created_at", "data"}, in JSON types only (messaging.outbound.events).
    payload = models.JSONField()
    status = models.CharField(max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    # When the worker may try it (again); while a worker holds it, the end of its lease. None once final.
    next_attempt_at = models.DateTimeField(null=True, blank=True, default=timezone.now)
    first_attempt_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_response_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    last_latency_ms = models.PositiveIntegerField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "webhook deliveries"
        indexes = [
            # The worker's claim: each endpoint's due deliveries, oldest first. Partial, so it holds only
            # what waits, never the log of what was delivered or given up.
            models.Index(
                fields=["endpoint", "next_attempt_at"],
                condition=Q(status__in=["pending", "retrying"]),
                name="webhookdelivery_due_idx",
            ),
            # An endpoint's log, newest first (the API's cursor pages and the admin).
            models.Index(fields=["endpoint", "-id"], name="webhookdelivery_log_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=DeliveryStatus.values), name="webhookdelivery_status_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.event} {self.id} ({self.status})"
