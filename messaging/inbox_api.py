"""The inbox: what people sent you, marked read or archived, answered; and one phone's whole conversation."""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from inboxerr.api import OwnedQuerysetMixin
from inboxerr.pagination import IdCursorPagination
from messaging import inbox
from messaging.filters import IdFilter
from messaging.inbox_serializers import (
    ConversationSerializer,
    InboundMessageSerializer,
    InboxSettingsSerializer,
    MarkedSerializer,
    MarkSerializer,
    ReplySerializer,
)
from messaging.models import InboundMessage, InboxSettings
from messaging.serializers import QueuedSerializer

MAX_THREAD = 500


class InboxFilter(django_filters.FilterSet):
    campaign = IdFilter(field_name="campaign_id")
    phone = django_filters.CharFilter(
        method="filter_phone", help_text="In any format (07400 123456, +447400123456), or a sender's name (AMAZON)."
    )
    unread = django_filters.BooleanFilter(method="filter_unread")
    archived = django_filters.BooleanFilter(
        method="filter_archived", help_text="false (the default): the inbox; true: the archive."
    )
    since = django_filters.IsoDateTimeFilter(field_name="received_at", lookup_expr="gte", label="Received since")

    class Meta:
        model = InboundMessage
        fields = ["campaign", "phone", "unread", "archived", "since"]

    def filter_phone(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(phone=inbox.phone_in_any_format(value))

    def filter_unread(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        return queryset.filter(read_at__isnull=value)

    def filter_archived(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        return queryset.filter(archived_at__isnull=not value)

    @property
    def qs(self) -> QuerySet:
        queryset = super().qs
        if self.form.cleaned_data.get("archived") is None:  # not asked: the inbox, without the archive
            queryset = queryset.filter(archived_at__isnull=True)
        return queryset


class InboxViewSet(OwnedQuerysetMixin, viewsets.ReadOnlyModelViewSet):
    """Messages people sent you (replies to your campaigns and sends), newest first; mark them read or
    archived, and answer them. A message from a number nobody here has messaged is kept for staff."""

    queryset = InboundMessage.objects.all()
    serializer_class = InboundMessageSerializer
    pagination_class = IdCursorPagination
    filterset_class = InboxFilter

    @extend_schema(request=MarkSerializer, responses={200: MarkedSerializer, 400: OpenApiResponse()})
    @action(detail=False, methods=["post"], filter_backends=[], pagination_class=None)
    def mark(self, request):
        """Mark one or many of your inbound messages read or unread, archived or back in the inbox."""
        data = MarkSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        mine = self.get_queryset().filter(pk__in=data.validated_data["ids"])
        marked = inbox.mark(mine, read=data.validated_data["read"], archived=data.validated_data["archived"])
        return Response({"marked": marked})

    @extend_schema(
        request=ReplySerializer, responses={202: QueuedSerializer, 400: OpenApiResponse(), 422: OpenApiResponse()}
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def reply(self, request, pk=None):
        """Answer it: a QUEUED message to its phone (202), sent by the dispatcher; it is marked read."""
        message = self.get_object()  # another user's is a 404, whatever the body
        data = ReplySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        queued = inbox.reply(inbound=message, owner_id=request.user.pk, content=data.validated_data["content"])
        body = QueuedSerializer(queued, context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": body["task_url"]})


class ConversationView(APIView):
    """One thread: what you sent a phone and what it sent you, oldest first (the latest `limit` each way)."""

    @extend_schema(
        parameters=[OpenApiParameter("limit", int, description=f"At most this many each way (1-{MAX_THREAD}).")],
        responses={200: ConversationSerializer},
    )
    def get(self, request, phone: str):
        number = inbox.phone_in_any_format(phone)
        try:
            limit = min(max(int(request.query_params.get("limit", 100)), 1), MAX_THREAD)
        except ValueError:
            limit = 100
        items = inbox.conversation(phone=number, owner_id=request.user.pk, limit=limit)
        return Response(ConversationSerializer({"phone": number, "messages": items}).data)


class InboxSettingsView(GenericAPIView):
    """Your answers to keywords: the help text a HELP or INFO reply gets."""

    serializer_class = InboxSettingsSerializer

    def get_object(self) -> InboxSettings:
        return InboxSettings.objects.get_or_create(owner=self.request.user)[0]

    def get(self, request):
        return Response(self.get_serializer(self.get_object()).data)

    def put(self, request):
        data = self.get_serializer(self.get_object(), data=request.data)
        data.is_valid(raise_exception=True)
        data.save()
        return Response(data.data)
