"""Admin helpers for tables that hold millions of rows."""

from __future__ import annotations

from typing import Any, cast

from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.utils.functional import cached_property


class CappedCountPaginator(Paginator):
    """Counts at most COUNT_CAP rows, so a change list never runs COUNT(*) over a whole big table.

    Past the cap the list shows the first COUNT_CAP rows' worth of pages; filters
    and search narrow it down from there.
    """

    COUNT_CAP = 10_000

    @cached_property
    def count(self) -> int:
        return cast("QuerySet[Any]", self.object_list)[: self.COUNT_CAP].count()


class LargeTableAdminMixin:
    """Change-list options for tables that grow without bound."""

    paginator: type[Paginator] = CappedCountPaginator
    show_full_result_count = False
    list_per_page = 50
