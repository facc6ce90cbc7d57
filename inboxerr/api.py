"""Helpers shared by every app's API."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet
from rest_framework.generics import GenericAPIView
from rest_framework.routers import DefaultRouter

# What the mixins below are mixed into, for the type checker; at run time they are plain classes.
if TYPE_CHECKING:
    ViewBase = GenericAPIView
else:
    ViewBase = object


class OwnedQuerysetMixin(ViewBase):
    """Scope a viewset to the requesting user's objects: another user's object answers 404."""

    def get_queryset(self) -> QuerySet[Any]:
        queryset = super().get_queryset()
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return queryset.none()
        return queryset.filter(owner=self.request.user)

    def perform_create(self, serializer: Any) -> None:
        serializer.save(owner=self.request.user)


class OptionalSlashRouter(DefaultRouter):
    """Routes that answer with or without a trailing slash (`/api/v1/imports/7` and `/api/v1/imports/7/`)."""

    include_format_suffixes = False

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.trailing_slash = "/?"
