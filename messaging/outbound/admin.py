"""The endpoints in the admin: staff see every user's, add and change them through the API's services,
see why one is disabled before anything else, re-enable it and send it a test; the delivery log is read-only."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.text import Truncator

from inboxerr.admin import HistoryAdminMixin, LargeTableAdminMixin, ModelAdmin, chosen_only_filter
from inboxerr.exceptions import InboxerrException
from messaging.models import WebhookDelivery, WebhookEndpoint
from messaging.outbound import services
from messaging.outbound.events import SUBSCRIBABLE

RECENT = 10
HEADINGS = ("Created", "Event", "Status", "Code", "Latency", "Next try", "Error")


class WebhookEndpointForm(forms.ModelForm):
    url = forms.CharField(max_length=2000, help_text="An http(s) URL on a public address.")
    events = forms.MultipleChoiceField(
        choices=[(event, event) for event in SUBSCRIBABLE], widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["owner", "url", "description", "events"]

    def clean_url(self) -> str:
        return self._checked("url", services.check_target, self.cleaned_data["url"])

    def clean_events(self) -> list[str]:
        return self._checked("events", services.check_events, self.cleaned_data["events"])

    def _checked(self, field: str, check: Any, value: Any) -> Any:
        try:
            return check(value)
        except services.EndpointFieldError as error:
            raise forms.ValidationError(error.details[field][0]) from None


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(ModelAdmin):
    form = WebhookEndpointForm
    list_display = ["url", "owner", "state", "event_list", "consecutive_failures", "created_at"]
    list_filter = ["active", "created_at"]
    search_fields = ["url"]
    list_select_related = ["owner"]
    raw_id_fields = ["owner"]
    readonly_fields = [
        "state",
        "consecutive_failures",
        "failing_since",
        "retry_after",
        "recent",
        "created_at",
        "updated_at",
    ]
    actions = ["enable", "send_test"]

    def get_fieldsets(self, request: HttpRequest, obj: WebhookEndpoint | None = None) -> Any:
        if obj is None:
            return [(None, {"fields": ["owner", "url", "description", "events"]})]
        return [
            (None, {"fields": ["state", "url", "description", "events"]}),
            ("Deliveries", {"fields": ["recent", "consecutive_failures", "failing_since", "retry_after"]}),
            (None, {"fields": ["owner", "created_at", "updated_at"]}),
        ]

    def get_readonly_fields(self, request: HttpRequest, obj: WebhookEndpoint | None = None) -> Any:
        return [*self.readonly_fields, "owner"] if obj is not None else self.readonly_fields

    @admin.display(description="State")
    def state(self, endpoint: WebhookEndpoint) -> str:
        if endpoint.active:
            return "active"
        return format_html('<strong class="errornote">Disabled: {}</strong>', endpoint.disabled_reason or "-")

    @admin.display(description="Events")
    def event_list(self, endpoint: WebhookEndpoint) -> str:
        return ", ".join(endpoint.events)

    @admin.display(description="Latest deliveries")
    def recent(self, endpoint: WebhookEndpoint) -> SafeString:
        log = reverse("admin:messaging_webhookdelivery_changelist") + f"?endpoint={endpoint.pk}"
        rows = endpoint.deliveries.order_by("-id")[:RECENT]
        table = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    d.created_at.strftime("%Y-%m-%d %H:%M:%S"),
                    d.event,
                    d.get_status_display(),
                    d.last_response_code or "-",
                    f"{d.last_latency_ms} ms" if d.last_latency_ms is not None else "-",
                    d.next_attempt_at.strftime("%Y-%m-%d %H:%M:%S") if d.next_attempt_at else "-",
                    Truncator(d.last_error).chars(80) or "-",
                )
                for d in rows
            ),
        )
        if not table:
            return format_html('None yet. <a href="{}">The log</a>', log)
        head = format_html_join("", "<th>{}</th>", ((h,) for h in HEADINGS))
        return format_html('<table><tr>{}</tr>{}</table><a href="{}">All of its deliveries</a>', head, table, log)

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        endpoint = self.get_object(request, object_id)
        if request.method == "GET" and endpoint is not None and not endpoint.active:
            self.message_user(request, f"This endpoint is disabled. {endpoint.disabled_reason}", messages.WARNING)
        return super().change_view(request, object_id, form_url, extra_context)

    def save_model(self, request: HttpRequest, obj: WebhookEndpoint, form: forms.ModelForm, change: bool) -> None:
        data = form.cleaned_data
        if change:
            services.endpoint_update(
                endpoint=obj, url=data["url"], events=data["events"], description=data["description"]
            )
            return
        created = services.endpoint_create(
            owner_id=obj.owner_id, url=data["url"], events=data["events"], description=data["description"]
        )
        obj.pk = created.pk
        obj.refresh_from_db()
        self.message_user(
            request,
            f"The endpoint's signing secret, shown this once: {created.secret} (give it to its receiver).",
            messages.WARNING,
        )

    def delete_model(self, request: HttpRequest, obj: WebhookEndpoint) -> None:
        services.endpoint_delete(endpoint=obj)

    @admin.action(description="Enable the selected endpoints again", permissions=["change"])
    def enable(self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]) -> None:
        enabled = 0
        for endpoint in queryset.filter(active=False):
            services.endpoint_enable(endpoint=endpoint)
            enabled += 1
        self.message_user(request, f"Enabled {enabled} endpoint(s).", messages.SUCCESS)

    @admin.action(description="Send a test delivery to the selected endpoints", permissions=["change"])
    def send_test(self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]) -> None:
        sent = 0
        for endpoint in queryset:
            try:
                services.endpoint_test(endpoint=endpoint)
                sent += 1
            except InboxerrException as error:
                self.message_user(request, f"{endpoint.url}: {error.message}", messages.WARNING)
        if sent:
            self.message_user(request, f"Queued a test delivery to {sent} endpoint(s).", messages.SUCCESS)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(HistoryAdminMixin, LargeTableAdminMixin, ModelAdmin):
    """The delivery log: read-only, narrowed to one endpoint from its page."""

    list_display = [
        "created_at",
        "endpoint",
        "event",
        "status",
        "attempts",
        "last_response_code",
        "latency",
        "next_attempt_at",
        "error",
    ]
    list_filter = [chosen_only_filter("endpoint", "endpoint"), "status", "event"]
    list_select_related = ["endpoint"]
    ordering = ["-id"]
    sortable_by = ()  # newest first only: sorting the log by another column would read all of it
    readonly_fields = [field.name for field in WebhookDelivery._meta.fields if field.name != "id"]

    @admin.display(description="Latency")
    def latency(self, delivery: WebhookDelivery) -> str:
        return f"{delivery.last_latency_ms} ms" if delivery.last_latency_ms is not None else "-"

    @admin.display(description="Error")
    def error(self, delivery: WebhookDelivery) -> str:
        words = delivery.last_error
        return format_html('<span title="{}">{}</span>', words, Truncator(words).chars(40)) if words else "-"
