from __future__ import annotations

from django.db import transaction
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from campaigns import selectors, services
from campaigns.audit import campaign_act
from campaigns.lifecycle import Action
from campaigns.models import Campaign
from campaigns.serializers import (
    CampaignFromCSVResultSerializer,
    CampaignFromCSVSerializer,
    CampaignPreviewSerializer,
    CampaignSerializer,
    CampaignStatsSerializer,
    CampaignUpdateSerializer,
    CampaignWriteSerializer,
)
from imports import services as import_services
from imports.api import StreamingUploadMixin
from imports.serializers import ImportOptionsSerializer
from inboxerr.api import OwnedQuerysetMixin
from inboxerr.pagination import IdCursorPagination
from inboxerr.parsers import JSONParser
from messaging.models import Message
from messaging.serializers import MessageSerializer

# The fields of a from-csv request that say how to read its file, not what the campaign is.
IMPORT_OPTIONS = tuple(ImportOptionsSerializer().fields)
CONFLICT = {409: OpenApiResponse(description="Illegal transition; details carry the current status.")}


class CampaignViewSet(StreamingUploadMixin, OwnedQuerysetMixin, viewsets.ModelViewSet):
    """Your campaigns: one text sent to every contact of an import; start, pause, resume, cancel, follow."""

    queryset = Campaign.objects.select_related("import_job", "template")
    serializer_class = CampaignSerializer
    filterset_fields = ["status"]
    parser_classes = [JSONParser, MultiPartParser]

    @extend_schema(request=CampaignWriteSerializer, responses={201: CampaignSerializer})
    def create(self, request, *args, **kwargs):
        data = CampaignWriteSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        campaign = services.campaign_create(owner_id=request.user.pk, **data.to_service_kwargs())
        return Response(self.get_serializer(campaign).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=CampaignUpdateSerializer, responses={200: CampaignSerializer, **CONFLICT})
    def update(self, request, *args, **kwargs):
        campaign = self.get_object()
        data = CampaignUpdateSerializer(campaign, data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        campaign = services.campaign_update(campaign=campaign, **data.to_service_kwargs())
        return Response(self.get_serializer(campaign).data)

    @extend_schema(request=CampaignUpdateSerializer, responses={200: CampaignSerializer, **CONFLICT})
    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, **kwargs)

    @extend_schema(responses={204: None, **CONFLICT})
    def destroy(self, request, *args, **kwargs):
        services.campaign_delete(campaign=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        request=None,
        responses={
            202: CampaignSerializer,
            400: OpenApiResponse(
                description="The text needs variables the import has no column for (missing_variables)."
            ),
            **CONFLICT,
        },
    )
    @action(detail=True, methods=["post"])
    def start(self, request, pk=None):
        """DRAFT -> RUNNING (or SCHEDULED); the messages are created by a worker. Follow stats_url."""
        campaign = self.act(Action.START)
        body = self.get_serializer(campaign).data
        return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": body["stats_url"]})

    @extend_schema(request=None, responses={200: CampaignSerializer, **CONFLICT})
    @action(detail=True, methods=["post"])
    def pause(self, request, pk=None):
        return Response(self.get_serializer(self.act(Action.PAUSE)).data)

    @extend_schema(request=None, responses={200: CampaignSerializer, **CONFLICT})
    @action(detail=True, methods=["post"])
    def resume(self, request, pk=None):
        return Response(self.get_serializer(self.act(Action.RESUME)).data)

    @extend_schema(request=None, responses={200: CampaignSerializer, **CONFLICT})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Stop the campaign; every message still QUEUED becomes CANCELLED."""
        return Response(self.get_serializer(self.act(Action.CANCEL)).data)

    def act(self, action: Action) -> Campaign:
        """The lifecycle's `action` on this campaign, written in the audit log."""
        return campaign_act(campaign=self.get_object(), action=action, request=self.request, via="api")

    @extend_schema(responses=CampaignStatsSerializer)
    @action(detail=True, methods=["get"])
    def stats(self, request, pk=None):
        return Response(CampaignStatsSerializer(selectors.campaign_stats(campaign=self.get_object())).data)

    @extend_schema(
        parameters=[OpenApiParameter("status", str, enum=Message.Status.values)],
        responses=MessageSerializer(many=True),
    )
    # filter_backends=[]: ?status= filters the messages here, not the campaign lookup.
    @action(detail=True, methods=["get"], pagination_class=IdCursorPagination, filter_backends=[])
    def messages(self, request, pk=None):
        messages = Message.objects.filter(campaign=self.get_object())
        if status_filter := request.query_params.get("status"):
            messages = messages.filter(status=status_filter.upper())
        page = self.paginate_queryset(messages)
        return self.get_paginated_response(MessageSerializer(page, many=True).data)

    @extend_schema(parameters=[OpenApiParameter("limit", int)], responses=CampaignPreviewSerializer)
    @action(detail=True, methods=["get"])
    def preview(self, request, pk=None):
        """The first messages as they would be sent (nothing is created), and the estimated total of parts."""
        try:
            limit = int(request.query_params.get("limit", 5))
        except ValueError:
            limit = 5
        preview = selectors.campaign_preview(campaign=self.get_object(), limit=limit)
        return Response(CampaignPreviewSerializer(preview).data)

    @extend_schema(
        request={"multipart/form-data": CampaignFromCSVSerializer},
        responses={202: CampaignFromCSVResultSerializer},
    )
    @action(detail=False, methods=["post"], url_path="from-csv", parser_classes=[MultiPartParser])
    def from_csv(self, request):
        """Upload contacts and create the campaign at once: it starts (or is scheduled) when the import succeeds."""
        import_services.import_check_capacity(owner_id=request.user.pk)
        fields = dict(self.read_upload(request, CampaignFromCSVSerializer))
        upload = fields.pop("file")
        import_options = {key: fields.pop(key) for key in IMPORT_OPTIONS if key in fields}
        with transaction.atomic():
            job = import_services.import_create(owner_id=request.user.pk, upload=upload, **import_options)
            template = fields.pop("template_id")
            fields["send_window"] = fields.pop("quiet_hours", "")
            campaign = services.campaign_create(
                owner_id=request.user.pk, template=template, import_job=job, start_when_imported=True, **fields
            )
        self.streamed.claim()
        body = CampaignFromCSVResultSerializer({"campaign": campaign}, context=self.get_serializer_context()).data
        location = self.reverse_action("detail", args=[campaign.pk])
        return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": location})
