from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from inboxerr.api import OwnedQuerysetMixin
from inboxerr.pagination import IdCursorPagination
from messaging.models import DeliveryStatus, WebhookEndpoint
from messaging.outbound import services
from messaging.outbound.serializers import (
    WebhookDeliverySerializer,
    WebhookEndpointCreatedSerializer,
    WebhookEndpointSerializer,
)

INVALID = {400: OpenApiResponse(description="A field is invalid: an unknown event, or a URL we may not call (why).")}


class WebhookEndpointViewSet(OwnedQuerysetMixin, viewsets.ModelViewSet):
    """Your programs' URLs, told of what happens (signed POSTs from our workers): see the README's
    "Webhooks to your programs" for the body, the headers and how to check the signature."""

    queryset = WebhookEndpoint.objects.all()
    serializer_class = WebhookEndpointSerializer
    filterset_fields = ["active"]
    lookup_value_regex = r"\d+"  # beside /webhooks/android and /webhooks/twilio, the gateways' own

    @extend_schema(
        request=WebhookEndpointSerializer,
        responses={
            201: WebhookEndpointCreatedSerializer,
            409: OpenApiResponse(description="Too many endpoints."),
            **INVALID,
        },
    )
    def create(self, request, *args, **kwargs):
        """Register an endpoint. The answer holds its signing `secret`, shown this once."""
        data = self.get_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        endpoint = services.endpoint_create(
            owner_id=request.user.pk,
            url=fields["url"],
            events=fields["events"],
            description=fields.get("description", ""),
        )
        if fields.get("active") is False:
            endpoint = services.endpoint_update(endpoint=endpoint, active=False)
        body = WebhookEndpointCreatedSerializer(endpoint, context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(responses={200: WebhookEndpointSerializer, **INVALID})
    def update(self, request, *args, **kwargs):
        endpoint = self.get_object()
        data = self.get_serializer(endpoint, data=request.data, partial=kwargs.get("partial", False))
        data.is_valid(raise_exception=True)
        endpoint = services.endpoint_update(endpoint=endpoint, **data.validated_data)
        return Response(self.get_serializer(endpoint).data)

    def perform_destroy(self, instance: WebhookEndpoint) -> None:
        services.endpoint_delete(endpoint=instance)

    @extend_schema(request=None, responses={200: WebhookEndpointSerializer})
    @action(detail=True, methods=["post"], filter_backends=[])
    def enable(self, request, pk=None):
        """Switch it on again, its run of failures forgotten. What it missed while off is not resent."""
        endpoint = services.endpoint_enable(endpoint=self.get_object())
        return Response(self.get_serializer(endpoint).data)

    @extend_schema(
        request=None,
        responses={
            202: WebhookDeliverySerializer,
            409: OpenApiResponse(description="The endpoint is disabled; enable it first."),
        },
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def test(self, request, pk=None):
        """Queue a `webhook.test` delivery to this endpoint; follow it in its deliveries."""
        delivery = services.endpoint_test(endpoint=self.get_object())
        return Response(WebhookDeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        parameters=[OpenApiParameter("status", str, enum=DeliveryStatus.values, description="Only these.")],
        responses={200: WebhookDeliverySerializer(many=True)},
    )
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=IdCursorPagination)
    def deliveries(self, request, pk=None):
        """The endpoint's delivery log, newest first: status, response code, latency, next try."""
        deliveries = self.get_object().deliveries.order_by("-id")
        wanted = request.query_params.get("status")
        if wanted is not None:
            if wanted not in DeliveryStatus.values:
                raise ValidationError({"status": [f"One of {', '.join(DeliveryStatus.values)}."]})
            deliveries = deliveries.filter(status=wanted)
        page = self.paginate_queryset(deliveries)
        return self.get_paginated_response(WebhookDeliverySerializer(page, many=True).data)
