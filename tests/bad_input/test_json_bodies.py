"""Malformed JSON bodies: a 400 (413 when too big) in the one error shape, and nothing written."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest

from messaging.models import Message
from tests.bad_input.conftest import corpus_bytes
from tests.bad_input.dbstate import changed_rows

SEND = "/api/v1/messages/send"
BATCH = "/api/v1/messages/batch"
TEMPLATES = "/api/v1/templates/"
CAMPAIGNS = "/api/v1/campaigns/"


def post_raw(api, url: str, body: bytes):
    return api.generic("POST", url, body, content_type="application/json")


def error_of(response) -> dict:
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    return body["error"]


@pytest.mark.parametrize(
    ("corpus_file", "message"),
    [
        ("truncated.json", "JSON parse error - Unterminated string starting at: line 1 column 38 (char 37)"),
        ("nan_literal.json", "JSON parse error - Out of range float values are not JSON compliant: 'NaN'"),
        ("lone_surrogate.json", "JSON parse error - unpaired UTF-16 surrogate '\\ud83d' after 'Hi '."),
    ],
)
@pytest.mark.parametrize("url", [SEND, BATCH, TEMPLATES, CAMPAIGNS])
def test_json_that_does_not_parse_is_a_400_parse_error(api, before, url, corpus_file, message):
    response = post_raw(api, url, corpus_bytes(f"json/{corpus_file}"))

    assert response.status_code == 400
    error = error_of(response)
    assert (error["code"], error["message"]) == ("parse_error", message)
    assert changed_rows(before) == {}


@pytest.mark.parametrize(
    "body",
    [b"", b"   ", b"\xff\xfe{}", b'{"content": "Hi"} trailing', b"{'single': 'quotes'}"],
    ids=["empty", "blank", "not-utf8", "trailing-text", "single-quotes"],
)
def test_bodies_that_are_not_one_json_document_are_refused(api, before, body):
    response = post_raw(api, SEND, body)

    assert response.status_code == 400
    assert error_of(response)["code"] in {"parse_error", "invalid"}
    assert changed_rows(before) == {}


@pytest.mark.parametrize(
    "body",
    [[{"phone": "07400 000001", "content": "Hello"}], "hello", 42, True, None],
    ids=["list", "string", "number", "bool", "null"],
)
@pytest.mark.parametrize("url", [SEND, BATCH, TEMPLATES, CAMPAIGNS])
def test_a_top_level_value_that_is_not_an_object_is_a_400(api, before, url, body):
    response = post_raw(api, url, json.dumps(body).encode())

    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "invalid"
    assert error["details"] == {"non_field_errors": [_complaint(body)]}
    assert changed_rows(before) == {}


def _complaint(value) -> str:
    if value is None:
        return "No data provided"
    return f"Invalid data. Expected a dictionary, but got {type(value).__name__}."


@pytest.mark.parametrize(
    ("body", "field", "problem"),
    [
        ({"phone": True, "content": "Hi"}, "phone", "Not a valid string."),
        ({"phone": ["07400 000001"], "content": "Hi"}, "phone", "Not a valid string."),
        ({"phone": {"n": "07400 000001"}, "content": "Hi"}, "phone", "Not a valid string."),
        ({"phone": "07400 000001", "content": ["Hi"]}, "content", "Not a valid string."),
        ({"phone": "07400 000001", "content": "Hi\u0000there"}, "content", "Null characters are not allowed."),
        ({"phone": "07400 000001", "template_id": "seven"}, "template_id", "A valid integer is required."),
        ({"phone": "07400 000001", "template_id": 1.5}, "template_id", "A valid integer is required."),
        ({"phone": "07400 000001", "template_id": 2**70}, "template_id", "No template of yours has this id."),
        ({"phone": "07400 000001", "content": "Hi", "variables": ["a"]}, "variables", None),
        ({"phone": "07400 000001", "content": "Hi", "variables": {"a": {"b": "c"}}}, "variables", None),
        ({"phone": "07400 000001", "content": "Hi", "variables": {"a": None}}, "variables", None),
        ({"phone": "07400 000001", "content": "Hi", "scheduled_at": "tomorrow"}, "scheduled_at", None),
        ({"phone": "07400 000001", "content": "Hi", "scheduled_at": 1700000000}, "scheduled_at", None),
        ({"phones": "07400 000001", "content": "Hi"}, "phone", "This field is required."),
        ({"phone": "07400 000001", "text": "Hi"}, "content", "Give exactly one of content and template_id."),
    ],
)
def test_a_field_of_the_wrong_type_or_name_is_a_400_naming_it(api, before, body, field, problem):
    response = api.post(SEND, body, format="json")

    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "invalid"
    assert field in error["details"]
    if problem:
        assert problem in json.dumps(error["details"][field])
    assert changed_rows(before) == {}


def test_a_nul_in_a_variable_name_is_refused_before_the_database_sees_it(api, before):
    response = api.post(SEND, {"phone": "07400 000001", "content": "Hi", "variables": {"a\u0000b": "x"}}, format="json")

    assert response.status_code == 400
    error = error_of(response)
    assert (error["code"], error["message"]) == (
        "parse_error",
        "JSON parse error - the key 'a\\x00b' holds a NUL character.",
    )
    assert changed_rows(before) == {}


@pytest.mark.parametrize("body_format", ["form", "multipart"])
def test_a_nul_in_a_variable_name_sent_as_form_fields_is_a_400_naming_the_field(api, before, body_format):
    # DRF builds the `variables` dict from fields named variables.<name>: the JSON parser never sees these.
    fields = {"phone": "07400 000001", "content": "Hi", "variables.a\u0000b": "x"}
    if body_format == "form":
        response = api.generic("POST", SEND, urlencode(fields), content_type="application/x-www-form-urlencoded")
    else:
        response = api.post(SEND, fields, format="multipart")

    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "invalid"
    assert error["details"] == {"variables": ["The variable name 'a\\x00b' holds a NUL character."]}
    assert changed_rows(before) == {}


def test_fields_the_api_does_not_take_cannot_change_owner_or_status(api, user, other_user):
    body = {"phone": "07400 000001", "content": "Hi", "owner": other_user.pk, "status": "DELIVERED", "id": "x"}

    response = api.post(SEND, body, format="json")

    assert response.status_code == 202
    message = Message.objects.get()
    assert (message.owner, message.status) == (user, "QUEUED")


@pytest.mark.parametrize("depth", [100_000, 5_000])
def test_deeply_nested_json_is_a_400_not_a_crash(api, before, depth):
    body = b'{"phone": "07400 000001", "content": "Hi", "variables": ' + b"[" * depth + b"]" * depth + b"}"

    response = post_raw(api, SEND, body)

    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] in {"parse_error", "invalid"}
    assert changed_rows(before) == {}


def test_a_body_over_the_upload_memory_limit_is_a_413(api, before, settings):
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    body = json.dumps({"phone": "07400 000001", "content": "x" * limit}).encode()

    response = post_raw(api, SEND, body)

    assert response.status_code == 413
    assert error_of(response) == {
        "code": "payload_too_large",
        "message": f"The request body is larger than the limit of {limit:,} bytes.",
        "details": {"max_bytes": limit},
    }
    assert changed_rows(before) == {}


def test_a_body_just_under_the_limit_is_read(api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 4096
    body = json.dumps({"phone": "07400 000001", "content": "Hi"}).encode().ljust(4096)

    assert post_raw(api, SEND, body).status_code == 202
