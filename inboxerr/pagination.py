"""Pagination classes shared by the API."""

from __future__ import annotations

from rest_framework import pagination


class PageNumberPagination(pagination.PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 500


class IdCursorPagination(pagination.CursorPagination):
    """Newest first by primary key: one index range scan per page, no COUNT(*), on any table size."""

    ordering = "-id"
    page_size_query_param = "page_size"
    max_page_size = 500


class OldestFirstCursorPagination(IdCursorPagination):
    ordering = "id"
