from __future__ import annotations

import django_filters
from django import forms
from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from imports.phones import phone_or_as_typed
from messaging.models import Message


@extend_schema_field(OpenApiTypes.INT)
class IdFilter(django_filters.NumberFilter):
    """A whole-number id (NumberFilter would take 1.5, and document a number)."""

    field_class = forms.IntegerField


class MessageFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Message.Status.choices)
    phone = django_filters.CharFilter(method="filter_phone")
    campaign = IdFilter(field_name="campaign_id")
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = Message
        fields = ["status", "phone", "campaign", "created_after", "created_before"]

    def filter_phone(self, queryset, name, value):
        """Any way of writing the number finds it: the filter normalises to E.164 as sends do."""
        return queryset.filter(phone=phone_or_as_typed(value, settings.PHONE_DEFAULT_REGION))
