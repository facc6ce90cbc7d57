import phonenumbers
from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils.html import format_html
from django.utils.text import Truncator

from imports.admin_phones import PhoneField, PhoneSearchMixin
from inboxerr import audit
from inboxerr.admin import HistoryAdminMixin, LargeTableAdminMixin, ModelAdmin, chosen_only_filter, short_time
from inboxerr.exceptions import Conflict
from messaging import quotas, services
from messaging.errors import explain
from messaging.models import (
    EventSource,
    GatewayHealth,
    InboxSettings,
    Message,
    MessageEvent,
    OptOut,
    QuotaUsage,
    SendingLimits,
    TaskRecord,
)


class MessageEventInline(admin.TabularInline):
    model = MessageEvent
    extra = 0
    can_delete = False
    fields = ["created_at", "source", "kind", "status", "detail", "external_id"]
    readonly_fields = ["created_at", "source", "kind", "status", "detail", "external_id"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Message)
class MessageAdmin(PhoneSearchMixin, HistoryAdminMixin, LargeTableAdminMixin, ModelAdmin):
    # Compact, one line a message: who, from which campaign, how it went, in words.
    list_display = ["phone", "contact_name", "campaign", "status", "parts", "reason", "sent", "delivered"]
    list_display_links = ["phone"]
    # Sorted only where an index gives the order (phone, or campaign and phone): sorting millions of rows by
    # any other column took seconds. Unsorted, the newest come first.
    sortable_by = ["phone"]
    list_filter = ["status", chosen_only_filter("campaign", "campaign"), "created_at", "sent_at"]
    # Case-sensitive exact matches only ("=" would be iexact): each is an index lookup.
    search_fields = ["phone__exact", "gateway_message_id__exact"]
    list_select_related = ["campaign", "contact"]
    raw_id_fields = ["owner", "campaign", "contact", "import_job", "task"]
    readonly_fields = [
        "status",
        "attempts",
        "next_attempt_at",
        "lease_expires_at",
        "claimed_by",
        "gateway_message_id",
        "error",
        "reason",
        "created_at",
        "updated_at",
        "sent_at",
        "delivered_at",
        "failed_at",
    ]
    inlines = [MessageEventInline]
    actions = ["cancel_queued"]

    @admin.display(description="Name")
    def contact_name(self, message):
        return message.contact.name if message.contact else ""

    @admin.display(description="Error")
    def reason(self, message):
        words = explain(message.error)
        # Short in the list (one line a message); whole on hover and on the message's page.
        return format_html('<span title="{}">{}</span>', words, Truncator(words).chars(40)) if words else "-"

    @admin.display(description="Sent")
    def sent(self, message):
        return short_time(message.sent_at)

    @admin.display(description="Delivered")
    def delivered(self, message):
        return short_time(message.delivered_at)

    @admin.display(description="Parts")
    def parts(self, message):
        return message.parts_count

    @admin.action(description="Cancel the selected queued messages", permissions=["cancel"])
    def cancel_queued(self, request, queryset):
        cancelled = 0
        for message in queryset:
            try:
                services.message_cancel(message=message)
                cancelled += 1
            except Conflict as error:
                self.message_user(request, f"{message.phone}: {error.message}", messages.WARNING)
        if cancelled:
            self.message_user(request, f"Cancelled {cancelled} message(s).", messages.SUCCESS)

    def has_cancel_permission(self, request):
        return request.user.has_perm("messaging.change_message")


@admin.register(MessageEvent)
class MessageEventAdmin(HistoryAdminMixin, LargeTableAdminMixin, ModelAdmin):
    list_display = ["id", "message", "source", "kind", "status", "created_at"]
    # Newest first: the capped count pages through the first rows only, which oldest first were months old.
    ordering = ["-id"]
    sortable_by = ["id"]  # the one order an index gives; sorting by another column read every event
    list_select_related = ["message"]  # each row names its message: one join, not a query a row
    list_filter = ["source", "kind", "status", "created_at"]
    search_fields = ["external_id__exact"]
    raw_id_fields = ["message"]


@admin.register(TaskRecord)
class TaskRecordAdmin(HistoryAdminMixin, ModelAdmin):
    operations = True  # listed under Operations (inboxerr.admin_site)
    list_display = ["id", "kind", "owner", "status", "total", "created_at", "finished_at"]
    list_filter = ["kind", "status", "created_at"]
    list_select_related = ["owner"]
    raw_id_fields = ["owner"]


class OptOutForm(forms.ModelForm):
    phone = PhoneField()

    class Meta:
        model = OptOut
        fields = ["owner", "phone"]


class CountriesField(forms.CharField):
    """ISO 3166 codes typed as `GB, IE`, kept as a list; an unknown code is the field's error."""

    def prepare_value(self, value: object) -> object:
        return ", ".join(value) if isinstance(value, list) else value

    def clean(self, value: object) -> list[str]:
        text = super().clean(value) or ""
        codes = sorted({code.strip().upper() for code in text.replace(";", ",").split(",") if code.strip()})
        unknown = [code for code in codes if code not in phonenumbers.SUPPORTED_REGIONS]
        if unknown:
            raise forms.ValidationError(f"Not ISO 3166 country codes that phone numbers use: {', '.join(unknown)}.")
        return codes


class SendingLimitsForm(forms.ModelForm):
    allowed_countries = CountriesField(
        required=False,
        help_text="Comma-separated ISO 3166 codes (GB, IE). Empty: wherever the deployment allows "
        "(SMS_ALLOWED_COUNTRIES, empty there too: everywhere).",
    )

    class Meta:
        model = SendingLimits
        fields = ["owner", "allowed_countries", "allow_premium_rate", "daily_parts", "monthly_parts"]


@admin.register(SendingLimits)
class SendingLimitsAdmin(ModelAdmin):
    form = SendingLimitsForm
    list_display = ["owner", "countries", "allow_premium_rate", "today", "this_month", "updated_at"]
    list_select_related = ["owner"]
    autocomplete_fields = ["owner"]
    search_fields = ["owner__username"]

    @admin.display(description="Allowed countries")
    def countries(self, limits: SendingLimits) -> str:
        return ", ".join(limits.allowed_countries) or "wherever the deployment allows"

    def get_queryset(self, request):
        # Each user's parts this day and month, read with the list instead of two queries a row.
        day, month = quotas.periods()
        used = QuotaUsage.objects.filter(owner=OuterRef("owner"))
        return (
            super()
            .get_queryset(request)
            .annotate(
                used_today=Subquery(used.filter(period=day.kind, starts=day.starts).values("parts")[:1]),
                used_this_month=Subquery(used.filter(period=month.kind, starts=month.starts).values("parts")[:1]),
            )
        )

    @admin.display(description="Sent today (parts)")
    def today(self, limits: SendingLimits) -> str:
        used = limits.used_today  # type: ignore[attr-defined]  # annotated by get_queryset
        return _usage(used, quotas.quota_from(limits.daily_parts, limits.monthly_parts).daily)

    @admin.display(description="Sent this month (parts)")
    def this_month(self, limits: SendingLimits) -> str:
        used = limits.used_this_month  # type: ignore[attr-defined]  # annotated by get_queryset
        return _usage(used, quotas.quota_from(limits.daily_parts, limits.monthly_parts).monthly)

    # What the audit log keeps of a user's limits; a user without any has the fields' defaults.
    audited = ("allowed_countries", "allow_premium_rate", "daily_parts", "monthly_parts")

    def get_readonly_fields(self, request, obj=None):
        # Limits stay with their user: moving them to another would change two users' limits under one name.
        return ["owner", "usage"] if obj is not None else []

    def get_fields(self, request, obj=None):
        return [*super().get_fields(request, obj), *(["usage"] if obj is not None else [])]

    @admin.display(description="Usage")
    def usage(self, limits: SendingLimits) -> str:
        used = quotas.usage(limits.owner_id)
        return "; ".join(
            f"{span}: {_usage(used[period]['used'], used[period]['limit'])}, resets "
            f"{short_time(used[period]['resets_at'])}"
            for span, period in (("today", "day"), ("this month", "month"))
        )

    def save_model(self, request, obj, form, change):
        before = self.audited_values(SendingLimits.objects.filter(pk=obj.pk).first() if change else None)
        super().save_model(request, obj, form, change)
        self.record_change(request, obj, before, self.audited_values(obj))

    def delete_model(self, request, obj):
        before = self.audited_values(obj)
        super().delete_model(request, obj)
        self.record_change(request, obj, before, self.audited_values(None))

    def delete_queryset(self, request, queryset):
        # One by one, so each removal is in the audit log; all or none.
        with transaction.atomic():
            for limits in queryset.select_related("owner"):
                self.delete_model(request, limits)

    def audited_values(self, limits: SendingLimits | None) -> dict[str, object]:
        limits = limits if limits is not None else SendingLimits()
        return {name: getattr(limits, name) for name in self.audited}

    def record_change(self, request, limits: SendingLimits, before: dict[str, object], after: dict[str, object]):
        """One entry with every audited field as [before, after], when any of them changed."""
        if before != after:
            detail = {name: [before[name], after[name]] for name in self.audited}
            audit.record(action="limits.change", target=str(limits), request=request, via="admin", detail=detail)


def _usage(used: int | None, limit: int | None) -> str:
    used = used or 0
    return f"{used:,} of {limit:,}" if limit is not None else f"{used:,} (no limit)"


@admin.register(InboxSettings)
class InboxSettingsAdmin(ModelAdmin):
    list_display = ["owner", "help_text", "opt_out_line", "updated_at"]
    list_select_related = ["owner"]
    autocomplete_fields = ["owner"]


@admin.register(OptOut)
class OptOutAdmin(PhoneSearchMixin, LargeTableAdminMixin, ModelAdmin):
    """Added here through the service the API calls (the owner's queued messages to the number are cancelled),
    with "admin" as its source; removed here, the number is opted back in. Never edited."""

    form = OptOutForm
    list_display = ["phone", "owner", "source", "keyword", "created_at"]
    list_filter = ["source", ("owner", admin.RelatedOnlyFieldListFilter), "created_at"]
    search_fields = ["phone__exact"]
    list_select_related = ["owner"]
    raw_id_fields = ["owner"]

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change):
        saved = services.opt_out_add(owner_id=obj.owner_id, phone=obj.phone, source=EventSource.ADMIN)
        obj.pk = saved.pk
        obj.refresh_from_db()

    def delete_model(self, request, obj):
        services.opt_out_remove(opt_out=obj)


@admin.register(GatewayHealth)
class GatewayHealthAdmin(ModelAdmin):
    """Clearing auth_failed_at here resumes sending before SMS_AUTH_RETRY_SECONDS is up."""

    operations = True

    list_display = ["backend", "auth_failed_at", "detail", "updated_at"]


# The outbound webhooks' pages (their endpoints and delivery log) live with them; the inbox (inbound messages
# and their conversations) and the safeguards' (bursts held for review, quota usage) in their own modules.
from messaging import inbox_admin, review_admin  # noqa: E402, F401
from messaging.outbound import admin as outbound_admin  # noqa: E402, F401
