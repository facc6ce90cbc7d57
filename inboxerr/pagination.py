"""Pagination classes shared by the API."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Field, QuerySet
from rest_framework import pagination
from rest_framework.exceptions import NotFound
from rest_framework.pagination import Cursor
from rest_framework.request import Request

from inboxerr.exceptions import InboxerrException


class InvalidCursor(InboxerrException):
    code = "invalid_cursor"
    default_message = "The cursor is not one this API gave out; start again from the first page."


class PageNumberPagination(pagination.PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 500


class IdCursorPagination(pagination.CursorPagination):
    """Newest first by primary key: one index range scan per page, no COUNT(*), on any table size.

    A cursor that does not decode, or whose position is no value of the key, is a 400
    (invalid_cursor); the message never repeats the cursor, which a client can make any size.
    """

    ordering = "-id"
    page_size_query_param = "page_size"
    max_page_size = 500
    _key: Field[Any, Any] | None = None

    def paginate_queryset(self, queryset: QuerySet[Any], request: Request, view: Any = None) -> list[Any] | None:
        field = queryset.model._meta.get_field(self.ordering.lstrip("-"))
        self._key = field if isinstance(field, Field) else None
        return super().paginate_queryset(queryset, request, view)

    def decode_cursor(self, request: Request) -> Cursor | None:
        try:
            cursor = super().decode_cursor(request)
        except NotFound:
            raise InvalidCursor() from None
        if cursor is not None and cursor.position is not None and self._key is not None:
            try:
                # to_python reads the value, the validators keep it inside the column's range.
                self._key.run_validators(self._key.to_python(cursor.position))
            except (ValidationError, ValueError, TypeError, OverflowError):
                raise InvalidCursor() from None
        return cursor


class OldestFirstCursorPagination(IdCursorPagination):
    ordering = "id"
