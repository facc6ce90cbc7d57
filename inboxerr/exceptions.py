"""The project's exceptions and the one error body every API error uses.

Every API error answers `{"error": {"code": ..., "message": ..., "details": ...}}`.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, JsonResponse
from rest_framework import exceptions as drf_exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


class InboxerrException(Exception):
    """Root of the project's own errors; each maps to one HTTP status."""

    status_code = 400
    code = "bad_request"
    default_message = "The request could not be processed."

    def __init__(self, message: str | None = None, *, details: Any = None, code: str | None = None):
        self.message = message or self.default_message
        self.details = details
        if code:
            self.code = code
        super().__init__(self.message)


class Forbidden(InboxerrException):
    status_code = 403
    code = "forbidden"
    default_message = "You may not do this."


class NotFound(InboxerrException):
    status_code = 404
    code = "not_found"
    default_message = "Not found."


class Conflict(InboxerrException):
    """The object's current state forbids the operation (an illegal transition)."""

    status_code = 409
    code = "conflict"
    default_message = "The object's current state does not allow this."


class UnsupportedMediaType(InboxerrException):
    status_code = 415
    code = "unsupported_media_type"
    default_message = "Unsupported media type."


class PayloadTooLarge(InboxerrException):
    status_code = 413
    code = "payload_too_large"
    default_message = "The request body is too large."


class Unprocessable(InboxerrException):
    status_code = 422
    code = "unprocessable"
    default_message = "The request is well-formed but cannot be carried out."


class TooManyRequests(InboxerrException):
    status_code = 429
    code = "too_many_requests"
    default_message = "Too many requests."

    def __init__(self, message: str | None = None, *, retry_after: int = 60, **kwargs: Any):
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details}}


def _validation_message(detail: Any) -> str:
    if isinstance(detail, dict) and detail:
        fields = ", ".join(str(name) for name in detail)
        return f"Invalid input: {fields}."
    return "Invalid input."


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF exception handler: our exceptions and DRF's, all in one body shape."""
    if isinstance(exc, RequestDataTooBig):
        # Raised by request.data; left to Django it would be a bare HTML 400.
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        exc = PayloadTooLarge(
            f"The request body is larger than the limit of {limit:,} bytes.", details={"max_bytes": limit}
        )
    if isinstance(exc, InboxerrException):
        response = Response(error_body(exc.code, exc.message, exc.details), status=exc.status_code)
        if isinstance(exc, TooManyRequests):
            response["Retry-After"] = str(exc.retry_after)
        return response

    # Django's own 404 and 403, as DRF would convert them, so they get the same body.
    if isinstance(exc, Http404):
        exc = drf_exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = drf_exceptions.PermissionDenied()

    handled = drf_exception_handler(exc, context)
    if handled is None:
        return None  # an unexpected error: Django's 500 handler answers
    response = handled

    if isinstance(exc, drf_exceptions.ValidationError):
        response.data = error_body("invalid", _validation_message(exc.detail), exc.detail)
    elif isinstance(exc, drf_exceptions.APIException):
        code = exc.get_codes()
        response.data = error_body(code if isinstance(code, str) else exc.default_code, str(exc.detail))
    return response


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def json_404(request, exception=None):
    """handler404: the error shape under /api/, Django's page elsewhere."""
    if _is_api(request):
        return JsonResponse(error_body("not_found", "Not found."), status=404)
    from django.views.defaults import page_not_found

    return page_not_found(request, exception)


def json_500(request):
    if _is_api(request):
        return JsonResponse(error_body("server_error", "Internal server error."), status=500)
    from django.views.defaults import server_error

    return server_error(request)
