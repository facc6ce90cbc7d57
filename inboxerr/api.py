"""Helpers shared by every app's API."""

from __future__ import annotations

from django.db.models import QuerySet
from rest_framework.routers import DefaultRouter


class OwnedQuerysetMixin:
    """Scope a viewset to the requesting user's objects: another user's object answers 404."""

    def get_queryset(self) -> QuerySet:
        queryset = super().get_queryset()
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return queryset.none()
        return queryset.filter(owner=self.request.user)

    def perform_create(self, serializer) -> None:
        serializer.save(owner=self.request.user)


class OptionalSlashRouter(DefaultRouter):
    """Routes that answer with or without a trailing slash (`/api/v1/imports/7` and `/api/v1/imports/7/`)."""

    include_format_suffixes = False

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.trailing_slash = "/?"
