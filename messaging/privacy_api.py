"""Data-protection requests about one phone number: hand over everything held about it, or erase it."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from imports.phones import InvalidPhone, normalise_phone
from inboxerr import audit
from inboxerr.exceptions import InboxerrException
from messaging import privacy

ERASED = inline_serializer(
    "Erased",
    {
        "phone": serializers.CharField(),
        "scope": serializers.ChoiceField(choices=["yours", "everyone's"]),
        **{name: serializers.IntegerField() for name in (
            "contacts_deleted", "messages_anonymised", "events_emptied", "inbound_messages_anonymised",
            "webhook_deliveries_emptied", "opt_outs_kept")},
    },
)  # fmt: skip


class PhoneSerializer(serializers.Serializer):
    phone = serializers.CharField(max_length=64, help_text="In any format: 07400 123456, +44 7400 123456.")

    def validate_phone(self, value: str) -> str:
        try:
            return normalise_phone(value, settings.PHONE_DEFAULT_REGION)
        except InvalidPhone as exc:
            raise serializers.ValidationError(str(exc)) from None


def _scope(request) -> int | None:
    """A user's own data; staff's requests cover every user's."""
    return None if request.user.is_staff else request.user.pk


class PrivacyEraseView(APIView):
    @extend_schema(request=PhoneSerializer, responses={200: ERASED, 400: OpenApiResponse()})
    def post(self, request):
        """Erase what you hold about a number (staff: what everyone holds): its contacts are deleted, its
        messages kept as anonymised counts (text, variables and the number replaced). Its opt-out is kept, so it
        is never messaged again. Answers how much was erased."""
        data = PhoneSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        phone = data.validated_data["phone"]
        with transaction.atomic():
            erased = privacy.erase_number(phone=phone, owner_id=_scope(request))
            audit.record(action="privacy.erase", target=phone, request=request, via="api", detail=erased)
        return Response({"phone": phone, "scope": "yours" if _scope(request) else "everyone's", **erased})


class PrivacyExportView(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("phone", str, required=True, description="In any format.")],
        responses={200: OpenApiTypes.OBJECT, 400: OpenApiResponse()},
    )
    def get(self, request):
        """Everything you hold about a number (staff: everyone holds), as JSON: its contacts, the messages sent
        to it and those it sent, and its opt-outs."""
        data = PhoneSerializer(data={"phone": request.query_params.get("phone", "")})
        if not data.is_valid():
            raise InboxerrException("Give the number as ?phone=.", code="invalid", details=data.errors)
        phone = data.validated_data["phone"]
        exported = privacy.export_number(phone=phone, owner_id=_scope(request))
        counts = {name: len(rows) for name, rows in exported.items() if isinstance(rows, list)}
        audit.record(action="privacy.export", target=phone, request=request, via="api", detail=counts)
        return Response(exported)
