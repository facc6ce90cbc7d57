"""The OpenAPI schema's view of errors: every operation lists the 4xx answers it can give, in the one error shape."""

from __future__ import annotations

from typing import Any

from drf_spectacular import openapi
from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme
from rest_framework import serializers

# Why each status can happen, for operations whose view does not describe it itself.
ERROR_DESCRIPTIONS = {
    400: "Invalid input; details name each field that is wrong.",
    401: "No credentials, or a token that is unknown or expired.",
    403: "Authenticated, but not allowed (or a session request without its CSRF token).",
    404: "No such object among yours, or no such page.",
    413: "A request body over the size limit.",
    415: "A request body in a media type the operation does not accept.",
    429: "Too many requests; Retry-After says when to try again.",
}


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable and machine-readable, e.g. `invalid`, `not_found`, `conflict`.")
    message = serializers.CharField()
    details = serializers.JSONField(allow_null=True, help_text="Per-field messages, the current status, and such.")


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()


class AutoSchema(openapi.AutoSchema):
    """drf-spectacular's schema, with the error answers a client must handle documented on every operation."""

    def get_operation(self, *args: Any, **kwargs: Any) -> dict | None:
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        responses = operation["responses"]
        for status in self._error_statuses(operation):
            responses.setdefault(str(status), {"description": ERROR_DESCRIPTIONS[status]})
        error_schema = self.resolve_serializer(ErrorSerializer, "response").ref
        for status, response in responses.items():
            if status.startswith("4"):
                content = response.setdefault("content", {})
                # Errors Django answers before the view (a URL that matches nothing) are always JSON;
                # DRF renders the view's own with the renderer the request negotiated (a CSV download's are CSV).
                for media_type in ["application/json", *self.map_renderers("media_type")]:
                    schema = error_schema if media_type == "application/json" else {"type": "string"}
                    content.setdefault(media_type, {"schema": schema})
        operation["responses"] = dict(sorted(responses.items()))
        return operation

    def map_parsers(self) -> list[str]:
        """Request bodies are documented as JSON. Flat ones are also taken as forms (curl -d, the browsable
        API's HTML forms), and multipart is documented where a file is uploaded (those operations say so):
        offering every body in three media types made generated clients fail on the nested ones."""
        media_types: list[str] = super().map_parsers()
        return ["application/json"] if "application/json" in media_types else media_types

    def _error_statuses(self, operation: dict) -> set[int]:
        statuses = set()
        parameters = operation.get("parameters", [])
        if "requestBody" in operation or any(p["in"] == "query" for p in parameters):
            statuses.add(400)
        if "requestBody" in operation:
            statuses.update((413, 415))
        security = operation.get("security", [])
        if any(requirement for requirement in security):
            statuses.add(401)  # a token is checked whenever one is sent
            if {} not in security:
                statuses.add(403)
        # Paginated lists answer 404 for a page (or cursor) past the end.
        if any(p["in"] == "path" for p in parameters) or any(p["name"] in ("page", "cursor") for p in parameters):
            statuses.add(404)
        if self.view.get_throttles():
            statuses.add(429)
        return statuses


class ApiTokenScheme(KnoxTokenScheme):
    """Our token authentication is knox's (it also notes each token's last use): the same scheme."""

    target_class = "inboxerr.authentication.ApiTokenAuthentication"
