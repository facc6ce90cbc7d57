from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from inboxerr.api import OwnedQuerysetMixin
from templates import services
from templates.models import MessageTemplate
from templates.preview import template_preview
from templates.serializers import (
    MessageTemplateSerializer,
    TemplatePreviewRequestSerializer,
    TemplatePreviewSerializer,
)

INVALID = {400: OpenApiResponse(description="Invalid field, a name already used, or malformed content (position).")}


class MessageTemplateViewSet(OwnedQuerysetMixin, viewsets.ModelViewSet):
    """Message templates with `{{ variable }}` and `{{ variable|default:"text" }}` merge fields."""

    queryset = MessageTemplate.objects.all()
    serializer_class = MessageTemplateSerializer
    filterset_fields = ["is_active"]

    @extend_schema(responses={201: MessageTemplateSerializer, **INVALID})
    def create(self, request, *args, **kwargs):
        data = self.get_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        template = services.template_create(owner_id=request.user.pk, **data.validated_data)
        return Response(self.get_serializer(template).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={200: MessageTemplateSerializer, **INVALID})
    def update(self, request, *args, **kwargs):
        template = self.get_object()
        data = self.get_serializer(template, data=request.data, partial=kwargs.get("partial", False))
        data.is_valid(raise_exception=True)
        template = services.template_update(template=template, **data.validated_data)
        return Response(self.get_serializer(template).data)

    @extend_schema(
        responses={204: None, 409: OpenApiResponse(description="Campaigns use the template; deactivate it instead.")}
    )
    def destroy(self, request, *args, **kwargs):
        services.template_delete(template=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=TemplatePreviewRequestSerializer, responses={200: TemplatePreviewSerializer})
    @action(detail=True, methods=["post"])
    def preview(self, request, pk=None):
        """Render the template with the given values and measure it as an SMS; missing variables are listed."""
        template = self.get_object()
        data = TemplatePreviewRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data["variables"])
        if "phone" in data.validated_data:
            values["phone"] = data.validated_data["phone"]
        result = template_preview(content=template.content, values=values)
        return Response(TemplatePreviewSerializer(result).data)
