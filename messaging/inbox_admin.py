"""The admin's Inbox: what people sent back, unread first; one phone's conversation with a box to answer it."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import F, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.html import format_html
from django.views.decorators.csrf import csrf_protect

from imports.admin_phones import PhoneSearchMixin
from inboxerr import audit
from inboxerr.admin import ModelAdmin, as_id, chosen_only_filter
from inboxerr.exceptions import InboxerrException
from messaging import inbox, privacy
from messaging.models import InboundMessage, Keyword

# The latest messages each way a conversation page shows.
THREAD_LIMIT = 200


class BoxFilter(admin.SimpleListFilter):
    """The inbox (the default), the archive, or both."""

    title = "box"
    parameter_name = "box"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("archived", "Archived"), ("all", "All")]

    def choices(self, changelist: Any):
        yield {"selected": self.value() is None, "query_string": changelist.get_query_string(remove=["box"]),
               "display": "Inbox"}  # fmt: skip
        yield from list(super().choices(changelist))[1:]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "all":
            return queryset
        return queryset.filter(archived_at__isnull=self.value() != "archived")


class ReplyForm(forms.Form):
    content = forms.CharField(
        label="Your answer", widget=forms.Textarea(attrs={"rows": 3, "cols": 60}), max_length=10_000, strip=False
    )


@admin.register(InboundMessage)
class InboundMessageAdmin(PhoneSearchMixin, ModelAdmin):
    list_display = ["sender", "excerpt", "owner", "campaign", "received"]
    list_display_links = None
    list_filter = [BoxFilter, chosen_only_filter("campaign", "campaign"), "keyword"]
    list_select_related = ["owner", "campaign"]
    search_fields = ["text"]
    search_help_text = "A phone number in any format, or words of the message."
    # Unread first, then the most recently read (inbound_inbox_idx: DESC puts NULLs first in PostgreSQL, so the
    # index serves this order). The admin takes expressions; the stubs say strings.
    ordering = [F("read_at").desc(nulls_first=True), "-id"]  # type: ignore[list-item]
    actions = ["mark_read", "mark_unread", "archive", "unarchive", "erase_numbers"]
    readonly_fields = [f.name for f in InboundMessage._meta.fields]

    def get_urls(self):
        return [
            *self.page_urls(("conversation/<str:phone>/", "conversation", self.conversation_view)),
            *super().get_urls(),
        ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # they arrive from the gateway

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # a message people sent is not edited; it is read, archived and answered

    @admin.display(description="From", ordering="phone")
    def sender(self, message: InboundMessage) -> str:
        return format_html('<a href="{}">{}</a>', conversation_url(message.phone, message.owner_id), message.phone)

    @admin.display(description="Message")
    def excerpt(self, message: InboundMessage) -> str:
        """Unread in bold; a keyword (STOP, START, HELP) named before it, what it did on hover."""
        text = format_html(
            "<strong>{}</strong>" if message.read_at is None else "{}", message.text[:120] or "(no text)"
        )
        if not message.keyword:
            return text
        return format_html('<span class="keyword" title="{}">{}</span> {}', message.keyword_result,
                           message.keyword.upper(), text)  # fmt: skip

    @admin.display(description="Received", ordering="received_at")
    def received(self, message: InboundMessage) -> str:
        return timezone.localtime(message.received_at).strftime("%-d %b %H:%M")

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        return super().changelist_view(request, {"title": "Inbox", **(extra_context or {})})

    class Media:
        css = {"all": ["messaging/inbox.css"]}

    @admin.action(description="Mark as read")
    def mark_read(self, request: HttpRequest, queryset: QuerySet[InboundMessage]) -> None:
        self._marked(request, inbox.mark(queryset, read=True), "marked as read")

    @admin.action(description="Mark as unread")
    def mark_unread(self, request: HttpRequest, queryset: QuerySet[InboundMessage]) -> None:
        self._marked(request, inbox.mark(queryset, read=False), "marked as unread")

    @admin.action(description="Archive")
    def archive(self, request: HttpRequest, queryset: QuerySet[InboundMessage]) -> None:
        self._marked(request, inbox.mark(queryset, archived=True), "archived")

    @admin.action(description="Move back to the inbox")
    def unarchive(self, request: HttpRequest, queryset: QuerySet[InboundMessage]) -> None:
        self._marked(request, inbox.mark(queryset, archived=False), "moved back to the inbox")

    @admin.action(description="Erase everything held about these numbers (every user's)")
    def erase_numbers(self, request: HttpRequest, queryset: QuerySet[InboundMessage]) -> None:
        phones = sorted({phone for phone in queryset.values_list("phone", flat=True) if phone.startswith("+")})
        total: dict[str, int] = {}
        for phone in phones:
            with transaction.atomic():
                erased = privacy.erase_number(phone=phone, owner_id=None)
                audit.record(action="privacy.erase", target=phone, request=request, via="admin", detail=erased)
            for name, count in erased.items():
                total[name] = total.get(name, 0) + count
        said = ", ".join(f"{name.replace('_', ' ')} {count}" for name, count in total.items())
        self.message_user(request, f"Erased {len(phones)} number(s): {said}.", messages.SUCCESS)

    def _marked(self, request: HttpRequest, count: int, what: str) -> None:
        self.message_user(request, f"{count} message{'s' if count != 1 else ''} {what}.", messages.SUCCESS)

    @method_decorator(csrf_protect)
    def conversation_view(self, request: HttpRequest, phone: str) -> HttpResponse:
        """One phone's thread with one user (?owner=, or unassigned), both ways; opening it reads it."""
        owner_id = as_id(request.GET.get("owner", ""))
        theirs = InboundMessage.objects.filter(phone=phone, owner_id=owner_id)
        if not theirs.exists() and owner_id is None:
            raise Http404(f"No message from {phone} here.")
        form = ReplyForm(request.POST or None)
        if request.method == "POST" and owner_id is not None and form.is_valid():
            latest = theirs.order_by("-id").first()
            try:
                if latest is None:
                    raise Http404(f"{phone} has not written to this user.")
                inbox.reply(inbound=latest, owner_id=owner_id, content=form.cleaned_data["content"])
            except InboxerrException as error:
                form.add_error("content", error.message)
            else:
                self.message_user(request, f"Your answer to {phone} is queued.", messages.SUCCESS)
                return redirect(conversation_url(phone, owner_id))
        inbox.mark(theirs.filter(read_at__isnull=True), read=True)
        owner = get_user_model().objects.filter(pk=owner_id).first() if owner_id is not None else None
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Conversation with {phone}",
            "with_whom": f"with {owner}" if owner else "not assigned: nobody here has messaged this number",
            "phone": phone,
            "thread": inbox.conversation(phone=phone, owner_id=owner_id, limit=THREAD_LIMIT),
            "form": form if owner_id is not None else None,
            "keywords": Keyword,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/messaging/inboundmessage/conversation.html", context)


def conversation_url(phone: str, owner_id: int | None) -> str:
    url = reverse("admin:messaging_inboundmessage_conversation", args=[phone])
    return f"{url}?owner={owner_id}" if owner_id is not None else url
