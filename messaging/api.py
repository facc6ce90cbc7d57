from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from inboxerr.api import OwnedQuerysetMixin
from inboxerr.exceptions import Forbidden, InboxerrException
from inboxerr.http import request_body
from inboxerr.pagination import IdCursorPagination
from messaging import receipts, services
from messaging.backends import get_backend
from messaging.backends.base import WebhookRejected
from messaging.filters import MessageFilter
from messaging.models import EventSource, Message, OptOut, TaskRecord
from messaging.serializers import (
    BatchSerializer,
    MessageDetailSerializer,
    MessageSerializer,
    OptOutSerializer,
    QueuedSerializer,
    SendSerializer,
    TaskSerializer,
)
from messaging.services import Recipient


class MessageViewSet(OwnedQuerysetMixin, viewsets.ReadOnlyModelViewSet):
    """Your messages, newest first; send one or a batch, cancel one still queued."""

    queryset = Message.objects.all()
    serializer_class = MessageSerializer
    pagination_class = IdCursorPagination
    filterset_class = MessageFilter

    def get_serializer_class(self):
        return MessageDetailSerializer if self.action == "retrieve" else MessageSerializer

    def get_queryset(self):
        queryset = super().get_queryset()
        return queryset.prefetch_related("events") if self.action == "retrieve" else queryset

    def _send(self, request, serializer_class: type[SendSerializer | BatchSerializer], *, single: bool) -> Response:
        """The send path of one recipient and of many: validate, queue, answer 202 with the task's URL."""
        data = serializer_class(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        queued = services.messages_send(
            owner_id=request.user.pk, recipients=data.to_recipients(), single=single, **data.message_fields()
        )
        body = QueuedSerializer(queued, context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": body["task_url"]})

    @extend_schema(
        request=SendSerializer, responses={202: QueuedSerializer, 400: OpenApiResponse(), 422: OpenApiResponse()}
    )
    @action(detail=False, methods=["post"], filter_backends=[])
    def send(self, request):
        """Queue one message. 202 with its id and a task URL; the gateway is called by a worker, not here."""
        return self._send(request, SendSerializer, single=True)

    @extend_schema(request=BatchSerializer, responses={202: QueuedSerializer, 400: OpenApiResponse()})
    @action(detail=False, methods=["post"], filter_backends=[])
    def batch(self, request):
        """Queue up to 1,000 messages, each recipient with its own variables; opted-out numbers are skipped."""
        return self._send(request, BatchSerializer, single=False)

    @extend_schema(request=None, responses={200: MessageSerializer, 409: OpenApiResponse()})
    @action(detail=True, methods=["post"], filter_backends=[])
    def cancel(self, request, pk=None):
        return Response(MessageSerializer(services.message_cancel(message=self.get_object())).data)


class TaskViewSet(OwnedQuerysetMixin, viewsets.GenericViewSet, mixins.RetrieveModelMixin):
    """Background work the API handed out (sends and batches): its state and counts, from its messages."""

    queryset = TaskRecord.objects.all()
    serializer_class = TaskSerializer

    def retrieve(self, request, *args, **kwargs):
        return Response(TaskSerializer(services.task_status(self.get_object())).data)


class OptOutViewSet(
    OwnedQuerysetMixin,
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Numbers that asked you to stop: never messaged by your campaigns or sends while listed."""

    queryset = OptOut.objects.all()
    serializer_class = OptOutSerializer
    filterset_fields = ["phone", "source"]

    def create(self, request, *args, **kwargs):
        data = OptOutSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        phone = services.normalise_recipients([Recipient(data.validated_data["phone"])])[0].phone
        opt_out = services.opt_out_add(owner_id=request.user.pk, phone=phone)
        return Response(OptOutSerializer(opt_out).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance):
        services.opt_out_remove(opt_out=instance)


class GatewayWebhookView(APIView):
    """Receipts and replies from a gateway; they authenticate by signature, not by token."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    backend_name = ""

    def receive(self, request):
        backend = get_backend(self.backend_name)
        url = settings.PUBLIC_BASE_URL.rstrip("/") + request.get_full_path()
        headers = {key: value for key, value in request.headers.items()}
        try:
            events = backend.parse_webhook(body=request_body(request._request), headers=headers, url=url)
        except WebhookRejected as exc:
            error = Forbidden if exc.status_code == 403 else InboxerrException
            raise error(str(exc), code="bad_signature" if exc.status_code == 403 else "malformed_webhook") from exc
        outcomes = receipts.apply_events(source=EventSource(self.backend_name), events=events)
        answer = backend.webhook_answer(events)
        if answer:
            body, content_type = answer
            return HttpResponse(body, content_type=content_type)
        # 200 even for an unknown message: an error would only make the gateway retry forever.
        return Response({"results": [o.result for o in outcomes]})


WEBHOOK_ERRORS = {
    400: OpenApiResponse(description="Signed, but not an event this gateway sends; the message says what is wrong."),
    403: OpenApiResponse(description="Unsigned, badly signed, or signed too long ago."),
    411: OpenApiResponse(description="Sent chunked to a server that cannot say where the body ends."),
    413: OpenApiResponse(description="A body over DATA_UPLOAD_MAX_MEMORY_SIZE."),
}
WEBHOOK_RESULT = inline_serializer("WebhookResult", {"results": serializers.ListField(child=serializers.CharField())})


class AndroidWebhookView(GatewayWebhookView):
    backend_name = "android"

    @extend_schema(
        description="Events from the SMS Gateway for Android: a JSON envelope signed with X-Signature and X-Timestamp.",
        request={"application/json": OpenApiTypes.OBJECT},
        parameters=[
            OpenApiParameter(
                "X-Signature", str, OpenApiParameter.HEADER, description="Hex HMAC-SHA256 of body + timestamp."
            ),
            OpenApiParameter("X-Timestamp", str, OpenApiParameter.HEADER, description="Unix seconds."),
        ],
        responses={200: WEBHOOK_RESULT, **WEBHOOK_ERRORS},
    )
    def post(self, request):
        return self.receive(request)


class TwilioWebhookView(GatewayWebhookView):
    backend_name = "twilio"

    @extend_schema(
        description="Status callbacks and replies from Twilio: a form signed with X-Twilio-Signature.",
        request={"application/x-www-form-urlencoded": OpenApiTypes.OBJECT},
        parameters=[
            OpenApiParameter("X-Twilio-Signature", str, OpenApiParameter.HEADER, description="Twilio's signature.")
        ],
        responses={
            (200, "application/json"): WEBHOOK_RESULT,
            (200, "text/xml"): OpenApiResponse(OpenApiTypes.STR, description="For a reply: empty TwiML."),
            **WEBHOOK_ERRORS,
        },
    )
    def post(self, request):
        return self.receive(request)
