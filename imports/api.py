from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import Serializer

from imports import preview, services
from imports.models import ImportJob
from imports.renderers import ErrorsCSVRenderer
from imports.serializers import (
    ContactSerializer,
    ImportJobSerializer,
    ImportPreviewSerializer,
    ImportUploadSerializer,
    RowErrorSerializer,
)
from imports.upload import CSVUploadHandler, streaming_upload
from inboxerr.api import OwnedQuerysetMixin, ViewBase
from inboxerr.pagination import OldestFirstCursorPagination, PageNumberPagination
from inboxerr.parsers import JSONParser


class StreamingUploadMixin(ViewBase):
    """POST bodies stream through CSVUploadHandler (imports.upload.streaming_upload), set up in
    dispatch(), before DRF builds its request and session authentication reads the body."""

    upload_handler: CSVUploadHandler | None = None

    def dispatch(self, request, *args, **kwargs):
        with streaming_upload(request) as self.upload_handler:
            return super().dispatch(request, *args, **kwargs)

    @property
    def streamed(self) -> CSVUploadHandler:
        """This POST's upload handler."""
        assert self.upload_handler is not None, "set up in dispatch() for every POST"
        return self.upload_handler

    def read_upload(self, request: Request, serializer_class: type[Serializer[Any]]) -> dict[str, Any]:
        """Validate the multipart body; raises the handler's 413/415 or a 400 naming the field."""
        data = request.data  # streams the body to disk
        self.streamed.raise_refusal()
        serializer = serializer_class(data=data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data


class ImportJobViewSet(
    StreamingUploadMixin,
    OwnedQuerysetMixin,
    mixins.CreateModelMixin,
    viewsets.ReadOnlyModelViewSet,
):
    """Your contact imports: upload a CSV, follow its progress, read its contacts and row errors."""

    queryset = ImportJob.objects.all()
    serializer_class = ImportJobSerializer
    filterset_fields = ["status"]
    parser_classes = [MultiPartParser, JSONParser]

    @extend_schema(
        request={"multipart/form-data": ImportUploadSerializer},
        responses={
            202: ImportJobSerializer,
            404: OpenApiResponse(description="The preview named is not waiting (expired or used)."),
            413: OpenApiResponse(),
            415: OpenApiResponse(),
            429: OpenApiResponse(),
        },
    )
    def create(self, request, *args, **kwargs):
        """Upload a contact file (.csv or .xlsx), or import one uploaded for a preview (`preview`, and the
        options to change; as form fields or JSON). Answers 202 at once; the job's URL shows its progress."""
        # Before the body is read (for token clients; session auth's CSRF check has read it
        # already): a user at the limit uploads nothing.
        services.import_check_capacity(owner_id=request.user.pk)
        options = self.read_upload(request, ImportUploadSerializer)
        preview_id = options.pop("preview", None)
        if preview_id is not None:
            job = preview.import_from_preview(owner_id=request.user.pk, preview_id=preview_id, **options)
        else:
            job = services.import_create(owner_id=request.user.pk, upload=options.pop("file"), **options)
            self.streamed.claim()
        body = self.get_serializer(job).data
        location = self.reverse_action("detail", args=[job.pk])
        return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": location})

    @extend_schema(
        request={"multipart/form-data": ImportUploadSerializer},
        responses={200: ImportPreviewSerializer, 404: OpenApiResponse(), 413: OpenApiResponse(),
                   415: OpenApiResponse(), 429: OpenApiResponse()},
    )  # fmt: skip
    @action(detail=False, methods=["post"], url_path="preview", filter_backends=[], pagination_class=None)
    def preview(self, request):
        """What an import would make of a file, importing nothing: the encoding, delimiter, header line, column
        mapping, the first 20 rows as contacts or row errors, and about how many rows it holds. The file is kept
        for an hour: post here again with `preview` (its id) and other options to read it with other columns,
        and give its id to POST /api/v1/imports/ to import it."""
        options = self.read_upload(request, ImportUploadSerializer)
        preview_id = options.pop("preview", None)
        if preview_id is not None:
            kept = preview.preview_get(owner_id=request.user.pk, preview_id=preview_id)
            return Response(preview.preview_again(preview=kept, **options))
        _, answer = preview.preview_create(owner_id=request.user.pk, upload=options.pop("file"), **options)
        self.streamed.claim()
        return Response(answer)

    @extend_schema(request=None, responses={204: None, 404: OpenApiResponse()})
    @action(detail=False, methods=["delete"], url_path=r"preview/(?P<preview_id>[0-9a-fA-F-]{36})", filter_backends=[])
    def discard_preview(self, request, preview_id=None):
        """Discard a preview and its file before it expires."""
        preview.preview_discard(preview=preview.preview_get(owner_id=request.user.pk, preview_id=preview_id))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses={200: ImportJobSerializer, 409: OpenApiResponse()})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Stop a PROCESSING import at its next batch; its contacts are removed."""
        job = services.import_cancel(job=self.get_object())
        return Response(self.get_serializer(job).data)

    @extend_schema(responses=ContactSerializer(many=True))
    # filter_backends=[]: ?status= filters the import list, not an import's contacts.
    @action(detail=True, methods=["get"], pagination_class=OldestFirstCursorPagination, filter_backends=[])
    def contacts(self, request, pk=None):
        """The job's contacts in file order."""
        job = self.get_object()
        page = self.paginate_queryset(job.contacts.all())
        return self.get_paginated_response(ContactSerializer(page, many=True).data)

    @extend_schema(responses={200: RowErrorSerializer(many=True)})
    @action(
        detail=True,
        methods=["get"],
        pagination_class=PageNumberPagination,
        # ?format=csv, which came first, still gives the CSV; errors/csv is the operation that documents it.
        renderer_classes=[JSONRenderer, BrowsableAPIRenderer, ErrorsCSVRenderer],
        filter_backends=[],
    )
    def errors(self, request, pk=None):
        """The row errors (the first 1,000), paginated; errors/csv gives them all as one CSV download."""
        job = self.get_object()
        if request.accepted_renderer.format == "csv":
            return self._errors_csv(job)
        page = self.paginate_queryset(job.errors)
        return self.get_paginated_response(page)

    @extend_schema(responses={(200, "text/csv"): OpenApiTypes.STR})
    @action(
        detail=True,
        methods=["get"],
        url_path="errors/csv",
        pagination_class=None,
        renderer_classes=[ErrorsCSVRenderer],
        filter_backends=[],
    )
    def errors_csv(self, request, pk=None):
        """Every kept row error as a CSV download, its cells safe from spreadsheet formulas."""
        return self._errors_csv(self.get_object())

    def _errors_csv(self, job: ImportJob) -> Response:
        filename = f"import-{job.pk}-errors.csv"
        return Response(job.errors, headers={"Content-Disposition": f'attachment; filename="{filename}"'})
