import pytest
from rest_framework import exceptions as drf_exceptions

from inboxerr import exceptions
from inboxerr.exceptions import api_exception_handler


def assert_error_shape(body: dict, code: str) -> None:
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]


def test_validation_errors_name_the_fields(client, db):
    response = client.post("/api/v1/auth/token", {"username": "x"}, content_type="application/json")

    assert response.status_code == 400
    body = response.json()
    assert_error_shape(body, "invalid")
    assert "password" in body["error"]["message"]
    assert body["error"]["details"] == {"password": ["This field is required."]}


def test_malformed_json_is_a_400_in_the_shape(client, db):
    response = client.post("/api/v1/auth/token", "{oops", content_type="application/json")

    assert response.status_code == 400
    assert_error_shape(response.json(), "parse_error")


def test_an_unknown_object_is_a_404_in_the_shape(api):
    response = api.get("/api/v1/imports/999999")

    assert response.status_code == 404
    assert_error_shape(response.json(), "not_found")


def test_an_unknown_api_path_is_a_404_in_the_shape(api):
    response = api.get("/api/v1/no-such-thing")

    assert response.status_code == 404
    assert_error_shape(response.json(), "not_found")


def test_a_wrong_method_is_a_405_in_the_shape(api):
    response = api.delete("/api/v1/auth/me")

    assert response.status_code == 405
    assert_error_shape(response.json(), "method_not_allowed")


@pytest.mark.parametrize(
    ("exc", "status", "code"),
    [
        (exceptions.InboxerrException("bad"), 400, "bad_request"),
        (exceptions.NotFound(), 404, "not_found"),
        (exceptions.Conflict("Campaign is RUNNING.", details={"status": "RUNNING"}), 409, "conflict"),
        (exceptions.PayloadTooLarge(), 413, "payload_too_large"),
        (exceptions.UnsupportedMediaType(), 415, "unsupported_media_type"),
        (exceptions.Unprocessable(code="opted_out"), 422, "opted_out"),
        (exceptions.TooManyRequests(retry_after=30), 429, "too_many_requests"),
        (drf_exceptions.PermissionDenied(), 403, "permission_denied"),
    ],
)
def test_every_exception_maps_to_its_status_in_the_shape(exc, status, code):
    response = api_exception_handler(exc, {})

    assert response.status_code == status
    assert_error_shape(response.data, code)


def test_our_exceptions_descend_from_the_root():
    for exc in [exceptions.NotFound, exceptions.Conflict, exceptions.TooManyRequests, exceptions.Unprocessable]:
        assert issubclass(exc, exceptions.InboxerrException)


def test_too_many_requests_says_when_to_retry():
    response = api_exception_handler(exceptions.TooManyRequests(retry_after=30), {})

    assert response["Retry-After"] == "30"


def test_details_are_carried_through():
    response = api_exception_handler(exceptions.Conflict("no", details={"status": "RUNNING"}), {})

    assert response.data["error"]["details"] == {"status": "RUNNING"}
