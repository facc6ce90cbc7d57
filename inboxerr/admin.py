"""The base of every admin page of ours, and helpers for tables that hold millions of rows."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, cast

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.db.models.constants import LOOKUP_SEP
from django.http import HttpRequest, HttpResponseBase
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.functional import cached_property
from knox.models import AuthToken

from inboxerr.models import AuditEntry

# Date parts a changelist may filter on (?created_at__year=2026); their values must be small whole numbers.
DATE_PARTS = frozenset(
    {"year", "iso_year", "quarter", "month", "week", "week_day", "iso_week_day", "day", "hour", "minute", "second"}
)
LARGEST_DATE_PART = 9999


class CheckedChangeList(ChangeList):
    """A changelist that turns a date part no date can have (?created_at__year=99999999999999999999) into
    the admin's own "incorrect lookup" answer, where Django would fail with an OverflowError (a 500), that
    sorts only by the columns its page offers to sort by, and that always fetches its rows with a LIMIT."""

    def get_results(self, request: HttpRequest) -> None:
        super().get_results(request)
        if isinstance(self.paginator, MatchedOncePaginator) and not self.multi_page:
            # Django reads a list that fits on one page anew, not through the paginator: a second scan.
            self.result_list = self.paginator.page(1).object_list
        if not self.result_list.query.is_sliced:
            # Django fetches a list that fits on one page (or "Show all") without a LIMIT. PostgreSQL then plans
            # for as many rows as it estimates, not the few counted: a campaign's 0 queued messages, estimated at
            # 40,000, were hash-joined with every contact (0.7 s). Limited to the count, none is fetched at all.
            self.result_list = self.result_list[: self.result_count]

    def get_ordering_field(self, field_name: Any) -> Any:
        # Django hides the other columns' sort links but still sorts by them when the URL asks (?o=3): an old
        # link or a typed URL would sort millions of rows by a column no index orders.
        if self.sortable_by is not None and field_name not in self.sortable_by:
            return None
        return super().get_ordering_field(field_name)

    def get_filters(self, request: HttpRequest) -> Any:
        for key, values in request.GET.lists():
            if DATE_PARTS & set(key.split(LOOKUP_SEP)):
                for value in ",".join(values).split(","):
                    if not _small_whole_number(value):
                        raise IncorrectLookupParameters(f"{key}={value[:20]!r} is not a date part.")
        return super().get_filters(request)


def short_time(moment: datetime | None) -> str:
    """'5 Dec 14:03', the year only when it is not this one: a list stays one line a row."""
    if moment is None:
        return "-"
    local = timezone.localtime(moment)
    return f"{local:%-d %b %Y %H:%M}" if local.year != timezone.localtime().year else f"{local:%-d %b %H:%M}"


def _small_whole_number(value: str) -> bool:
    try:
        return abs(int(value)) <= LARGEST_DATE_PART
    except ValueError:  # "0x10", "²": not a number int() reads
        return False


class CheckedLookups:
    """Admin pages whose changelist is CheckedChangeList."""

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return CheckedChangeList


class ModelAdmin(CheckedLookups, admin.ModelAdmin):
    """Every admin page of ours: the admin's own, with the checks above."""

    def page_urls(self, *pages: tuple[str, str, Callable[..., HttpResponseBase]]) -> list[URLPattern]:
        """This model's own pages beside the admin's, as (route, name, view): each behind the admin's staff
        check and named `<app>_<model>_<name>`, as the admin names its own."""
        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        return [path(route, self.admin_site.admin_view(view), name=f"{prefix}_{name}") for route, name, view in pages]

    def get_search_results(self, request: HttpRequest, queryset: QuerySet[Any], search_term: str) -> Any:
        """A searchable select asking for an owner's rows (`owner` in its query, added by owner_choices.js)
        gets only what that owner may choose now: another user's template is never offered for a campaign."""
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        match = request.resolver_match
        if match is not None and match.url_name == "autocomplete" and "owner" in request.GET:
            owner_id = as_id(request.GET["owner"])
            queryset = queryset.none() if owner_id is None else self.choosable(queryset.filter(owner_id=owner_id))
        return queryset, may_have_duplicates

    def choosable(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        """Of an owner's rows, those a form may pick now (an active template, an import that succeeded)."""
        return queryset


def check_every_changelist(site: admin.AdminSite) -> None:
    """Give every page on `site`, other apps' too (users, the task queue), the checked changelist."""
    for model, model_admin in list(site._registry.items()):
        if not isinstance(model_admin, CheckedLookups):
            checked = type(type(model_admin).__name__, (CheckedLookups, type(model_admin)), {})
            site.unregister(model)
            site.register(model, checked)


LARGEST_ID = 2**63 - 1


def as_id(value: str) -> int | None:
    return int(value) if value.isascii() and value.isdigit() and int(value) <= LARGEST_ID else None  # not "²"


def chosen_only_filter(field: str, title: str) -> type[admin.SimpleListFilter]:
    """A filter by a foreign key (?campaign=12) that lists only the chosen row, never every row of a big table:
    the link to the filtered list comes from the row's own page (a campaign's counts, an import's contacts)."""

    class ChosenOnly(admin.SimpleListFilter):
        parameter_name = field

        def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
            value = self.value()
            if not value:
                return []
            chosen_id = as_id(value)
            if chosen_id is None:  # listed all the same: a filter with nothing to list is not applied at all
                return [(value, value[:20])]
            related = model_admin.model._meta.get_field(field).related_model
            chosen = related._default_manager.filter(pk=chosen_id).first()
            return [(value, str(chosen) if chosen else f"#{value} (gone)")]

        def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
            value = self.value()
            if value is None:
                return queryset
            chosen_id = as_id(value)
            if chosen_id is None:
                raise IncorrectLookupParameters(f"{field}={value[:20]!r} is not an id.")
            return queryset.filter(**{f"{field}_id": chosen_id})

    ChosenOnly.title = title
    ChosenOnly.__name__ = f"{field.capitalize()}Filter"
    return ChosenOnly


class CappedCountPaginator(Paginator):
    """Counts at most COUNT_CAP rows, so a change list never runs COUNT(*) over a whole big table.

    Past the cap the list shows the first COUNT_CAP rows' worth of pages; filters
    and search narrow it down from there.
    """

    COUNT_CAP = 10_000

    @cached_property
    def count(self) -> int:
        # Unordered: which rows fill the cap does not change how many there are, and a sliced count keeps its
        # ORDER BY, which made PostgreSQL walk the whole primary key backwards for an old campaign's messages.
        return cast("QuerySet[Any]", self.object_list).order_by()[: self.COUNT_CAP].count()


class MatchedOncePaginator(CappedCountPaginator):
    """For a search no index answers (a word among a big import's columns), where the count and the page
    would each read every candidate row: the matching ids, in the list's order and up to COUNT_CAP, are read
    once, and the count and every page come from them (a page fetches its rows by primary key)."""

    @cached_property
    def matching_ids(self) -> list[Any]:
        return list(cast("QuerySet[Any]", self.object_list).values_list("pk", flat=True)[: self.COUNT_CAP])

    @cached_property
    def count(self) -> int:
        return len(self.matching_ids)

    def page(self, number: Any) -> Any:
        number = self.validate_number(number)
        start = (number - 1) * self.per_page
        ids = self.matching_ids[start : start + self.per_page]
        return Page(cast("QuerySet[Any]", self.object_list).filter(pk__in=ids), number, self)


class LargeTableAdminMixin:
    """Change-list options for tables that grow without bound."""

    paginator: type[Paginator] = CappedCountPaginator
    show_full_result_count = False
    list_per_page = 50


# --- API tokens: listed and revoked by staff, never made here (knox's own admin would show a new token) ---

admin.site.unregister(AuthToken)


@admin.register(AuthToken)
class ApiTokenAdmin(ModelAdmin):
    operations = True  # listed under Operations (inboxerr.admin_site)
    list_display = ["user", "token_key", "created", "last_used", "expiry"]
    list_select_related = ["user", "use"]
    search_fields = ["user__username", "token_key"]
    ordering = ["-created"]
    fields = ["user", "token_key", "created", "last_used", "expiry"]
    readonly_fields = ["user", "token_key", "created", "last_used", "expiry"]

    @admin.display(description="Last used", ordering="use__last_used_at")
    def last_used(self, token: AuthToken) -> Any:
        use = getattr(token, "use", None)
        return use.last_used_at if use else "never"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class HistoryAdminMixin:
    """Read-only: what happened (messages, their events, delivery and audit logs) is neither written nor edited
    nor removed here. Staff still act on it through actions that call the services (cancel a queued message)."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# --- The audit log: written by inboxerr.audit.record only; nobody adds, edits or removes an entry here ---


@admin.register(AuditEntry)
class AuditEntryAdmin(HistoryAdminMixin, LargeTableAdminMixin, ModelAdmin):
    operations = True  # listed under Operations (inboxerr.admin_site)
    list_display = ["at", "who", "action", "target", "address", "via"]
    list_filter = ["action", "via", "at"]
    search_fields = ["target", "actor_name"]
    sortable_by = ["at"]  # the index's order; other columns would sort the whole log
    fields = ["at", "actor", "actor_name", "action", "target", "detail", "address", "via"]
    readonly_fields = ["at", "actor", "actor_name", "action", "target", "detail", "address", "via"]

    @admin.display(description="Who")
    def who(self, entry: AuditEntry) -> str:
        return entry.actor_name or "system"
