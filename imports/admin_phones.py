"""Phone numbers in the admin as people type them: forms and searches read `07800 788645` as the import does."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.db.models import QuerySet
from django.http import HttpRequest

from imports.phones import InvalidPhone, normalise_phone


def phone_from_form(text: str, region: str = "") -> str:
    """E.164 for what was typed, or the import's own sentence as the form's error."""
    try:
        return normalise_phone(text, region or settings.PHONE_DEFAULT_REGION)
    except InvalidPhone as error:
        raise forms.ValidationError(str(error), code="invalid_phone") from None


class PhoneField(forms.CharField):
    """Any format a person would type, stored as E.164; a bad number gets the import's own sentence.

    National numbers are read in `region` (set by the form when it knows better, e.g. a contact's import),
    PHONE_DEFAULT_REGION otherwise."""

    def __init__(self, *, region: str = "", **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault("help_text", "Any format, e.g. 07400 123456 or +44 7400 123456.")
        super().__init__(**kwargs)
        self.region = region

    def clean(self, value: Any) -> str:
        text = super().clean(value)
        return phone_from_form(text, self.region) if text else text


class PhoneSearchMixin:
    """Searching a list by a phone number in any format: a term that reads as a number looks up its E.164 form
    exactly (an index lookup on `phone_search_field`); anything else searches as the admin's own search does."""

    phone_search_field = "phone"

    def get_search_results(self, request: HttpRequest, queryset: QuerySet[Any], search_term: str) -> Any:
        phone = phone_in(search_term)
        if phone is not None:
            return queryset.filter(**{self.phone_search_field: phone}), False
        return super().get_search_results(request, queryset, search_term)  # type: ignore[misc]


def phone_in(search_term: str) -> str | None:
    """The E.164 number a search term reads as, or None when it is not one (a name, an order number)."""
    term = search_term.strip()
    if not term or not any(ch.isdigit() for ch in term):
        return None
    try:
        return normalise_phone(term, settings.PHONE_DEFAULT_REGION)
    except InvalidPhone:
        return None
