"""Reading a request body whatever way the client sent it."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest

from inboxerr.exceptions import InboxerrException, PayloadTooLarge


class LengthRequired(InboxerrException):
    status_code = 411
    code = "length_required"
    default_message = "Send the body with a Content-Length header."


def request_body(request: HttpRequest) -> bytes:
    """The whole body, also when it came chunked (no Content-Length), where Django's request.body reads nothing.

    gunicorn decodes a chunked body and ends the stream itself (wsgi.input_terminated); a server that does
    not say so gets a 411. Either way the body is held to DATA_UPLOAD_MAX_MEMORY_SIZE (413).
    """
    chunked = "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower()
    if not chunked or request.META.get("CONTENT_LENGTH"):
        return request.body
    if not request.META.get("wsgi.input_terminated"):
        raise LengthRequired()
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0
    body: bytes = request.META["wsgi.input"].read(limit + 1) if limit else request.META["wsgi.input"].read()
    if limit and len(body) > limit:
        raise PayloadTooLarge(f"The request body is larger than the limit of {limit:,} bytes.")
    return body
