"""Fuzz every operation of our OpenAPI schema in-process, and hold every answer to that schema.

Each operation gets positive and negative requests (examples, coverage and fuzzing phases, a fixed seed,
derandomized) from a user who owns templates, imports, campaigns, messages, a task and an opt-out. A
well-formed generated id is pointed at one of that user's objects, so detail operations answer 200 and
illegal transitions 409, not only 404. Every answer must be no 5xx, a documented status code and content
type, and a body the schema describes.

Nothing is excluded. Two things generated requests cannot reach are sent by hand below and their answers
validated against the same schema: uploads of a CSV and of a workbook, to import or to preview, and an import
made from a preview (the generator names a file part after its field, `file`, and an upload must be a `.csv` or
an `.xlsx`, so generated uploads are all refused with 415 or 400) and a send to a real
phone number (generated phone numbers are never valid E.164). The webhooks are fuzzed like the rest, and
also sent raw bytes and latin-1 headers the schema cannot describe: unsigned garbage is a 4xx, never a 5xx.
"""

from __future__ import annotations

import io
import ipaddress
import socket
import time
import uuid
from dataclasses import dataclass, field

import openpyxl
import pytest
import schemathesis
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from knox.models import AuthToken
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from werkzeug.test import Client

from campaigns.models import Campaign
from campaigns.tests.factories import CampaignFactory
from imports.models import ImportJob
from imports.tests.factories import ContactFactory, ImportJobFactory
from inboxerr.tests.factories import UserFactory
from messaging.tests.factories import MessageEventFactory, MessageFactory, OptOutFactory, TaskRecordFactory
from messaging.tests.webhook_factories import WebhookDeliveryFactory, WebhookEndpointFactory
from templates.tests.factories import MessageTemplateFactory

APP = get_wsgi_application()
# Ten fuzzed examples an operation, beside the examples and coverage phases: the whole schema in about
# 2,000 requests, under a minute and a half on a busy two-core machine.
CONFIG = schemathesis.Config.from_dict(
    {
        "seed": 20240601,
        "generation": {"max-examples": 10, "deterministic": True, "database": "none"},
        # Stateful links would chain operations across one shared world; each operation gets its own instead.
        "phases": {"stateful": {"enabled": False}},
    }
)
schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", APP, config=CONFIG)

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@dataclass
class World:
    """One user's objects, and the ids a generated path may be pointed at, by resource."""

    token: str
    ids: dict[str, list] = field(default_factory=dict)


def build_world() -> World:
    user = UserFactory()
    template = MessageTemplateFactory(owner=user)
    mapping = {"phone": "Phone", "name": ["Name"], "variables": {"Order No.": "order_no"}}
    job = ImportJobFactory(
        owner=user, column_mapping=mapping, errors=[{"row": 3, "column": "Phone", "message": "not a phone number"}]
    )
    processing = ImportJobFactory(owner=user, status=ImportJob.Status.PROCESSING, finished_at=None)
    contact = ContactFactory(import_job=job)
    draft = CampaignFactory(owner=user, import_job=job, template=template, message_content="")
    running = CampaignFactory(owner=user, import_job=job, status=Campaign.Status.RUNNING)
    message = MessageFactory(owner=user, campaign=running, contact=contact, import_job=job)
    MessageEventFactory(message=message)
    task = TaskRecordFactory(owner=user)
    sent = MessageFactory(owner=user, task=task)
    opt_out = OptOutFactory(owner=user)
    endpoint = WebhookEndpointFactory(owner=user, events=["message.sent", "campaign.completed"])
    WebhookDeliveryFactory(endpoint=endpoint)
    disabled = WebhookEndpointFactory(owner=user, active=False, disabled_reason="Disabled by its owner.")
    _, token = AuthToken.objects.create(user=user)
    return World(
        token=token,
        ids={
            "templates": [template.pk],
            "imports": [job.pk, processing.pk],
            "campaigns": [draft.pk, running.pk],
            "messages": [message.pk, sent.pk],
            "tasks": [task.pk],
            "opt-outs": [opt_out.pk],
            "webhooks": [endpoint.pk, disabled.pk],
        },
    )


@pytest.fixture
def keep_test_connection():
    """The real WSGI handler closes the database connection when a request ends, which would end the
    test's transaction; Django's own test client unhooks the same two signals."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture(autouse=True)
def configured(settings, tmp_path, monkeypatch):
    """Webhook secrets set, so garbage meets the signature checks rather than a missing key; uploads
    land in this test's own directory; the host names of generated webhook endpoints resolve to a public
    address without asking a DNS server (addresses are still judged as they are)."""
    settings.SMS_WEBHOOK_SIGNING_KEY = "schema-fuzz-signing-key"
    settings.TWILIO_AUTH_TOKEN = "schema-fuzz-auth-token"
    settings.IMPORT_TMP_DIR = tmp_path / "uploads"
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        try:
            ipaddress.ip_address(host)
        except ValueError:
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", port or 443))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.fixture
def worlds(db, keep_test_connection):
    """A fresh world for each operation, so one operation's deletes and transitions spare the next."""
    built: dict[str, World] = {}

    def for_operation(label: str) -> World:
        if label not in built:
            built[label] = build_world()
        return built[label]

    return for_operation


def aim_at_owned_object(case, world: World) -> None:
    """Point a well-formed generated id at one of the owner's objects; one value in N stays unknown (404)."""
    generated = (case.path_parameters or {}).get("id")
    owned = world.ids.get(case.path.split("/")[3])
    if generated is None or not owned or isinstance(generated, bool):
        return
    text = str(generated)
    # Some phases send the id already as text: "0" is as well-formed as 0.
    if text.isdecimal():
        number = int(text)
    else:
        try:
            number = uuid.UUID(text).int
        except ValueError:
            return  # malformed on purpose (negative mode): must answer 404
    slot = number % (len(owned) + 1)
    if slot < len(owned):
        case.path_parameters = {**case.path_parameters, "id": str(owned[slot])}


@schema.parametrize()
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_every_operation_answers_within_its_schema(case, worlds):
    world = worlds(case.operation.label)
    aim_at_owned_object(case, world)
    # The token endpoint's throttle (10/min) would answer 429 to most cases; throttling has tests of its own.
    cache.clear()
    case.call_and_validate(headers={"Authorization": f"Token {world.token}"}, checks=CHECKS)


CSV = b"Phone,Name,Order No.\n+447700900001,Ann,A-1\n+447700900002,Bob,A-2\n"


def upload(name: str = "contacts.csv") -> tuple:
    return (io.BytesIO(CSV), name, "text/csv")


def workbook_upload() -> tuple:
    workbook = openpyxl.Workbook()
    for row in CSV.decode().splitlines():
        workbook.active.append(row.split(","))
    data = io.BytesIO()
    workbook.save(data)
    data.seek(0)
    return (data, "contacts.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("POST", "/api/v1/imports/", lambda: {"file": upload(), "default_region": "GB"}, 202),
        ("POST", "/api/v1/imports/", lambda: {"file": workbook_upload()}, 202),
        ("POST", "/api/v1/imports/preview/", lambda: {"file": upload()}, 200),
        ("POST", "/api/v1/imports/preview/", lambda: {"file": workbook_upload()}, 200),
        (
            "POST",
            "/api/v1/campaigns/from-csv/",
            lambda: {"file": upload(), "name": "Spring", "message_content": "Hi"},
            202,
        ),
        ("POST", "/api/v1/messages/send/", lambda: {"phone": "+447911123456", "content": "Hello"}, 202),
        ("POST", "/api/v1/messages/batch/", lambda: {"recipients": [{"phone": "+447911123457"}], "content": "Hi"}, 202),
        ("POST", "/api/v1/opt-outs/", lambda: {"phone": "+447911123458"}, 201),
    ],
    ids=[
        "import-upload",
        "import-workbook",
        "preview",
        "preview-workbook",
        "campaign-from-csv",
        "send",
        "batch",
        "opt-out",
    ],
)
def test_what_generated_requests_cannot_reach_answers_within_the_schema(worlds, method, path, body, status):
    world = worlds(f"{method} {path}")
    client = Client(APP)
    payload = body()
    is_upload = "file" in payload
    response = client.open(
        path,
        method=method,
        headers={"Authorization": f"Token {world.token}"},
        **({"data": payload} if is_upload else {"json": payload}),
    )

    assert response.status_code == status, response.get_data(as_text=True)
    schema[path][method].validate_response(response)  # raises, naming each mismatch


@pytest.mark.parametrize(
    ("path", "headers", "body"),
    [
        ("/api/v1/webhooks/android", {"X-Timestamp": "9" * 400, "X-Signature": "00"}, b"{}"),
        ("/api/v1/webhooks/android", {"X-Timestamp": "-1e9", "X-Signature": "00"}, b"{}"),
        ("/api/v1/webhooks/android", {"X-Signature": "\u00e9t\u00e9"}, b"\xff\xfe not json"),
        ("/api/v1/webhooks/twilio", {"X-Twilio-Signature": "\u00e9"}, b"\xff\xfe=\x00&MessageSid"),
        ("/api/v1/webhooks/twilio", {"Content-Type": "application/x-www-form-urlencoded"}, b"%ff%fe=%00"),
    ],
    ids=["huge-timestamp", "float-timestamp", "non-ascii-signature", "twilio-binary-body", "twilio-escaped-bytes"],
)
def test_webhooks_answer_garbage_with_a_4xx(db, keep_test_connection, path, headers, body):
    """Bytes no generator builds from the schema (the body is raw, the headers latin-1), unsigned as they come."""
    if "X-Signature" in headers and "X-Timestamp" not in headers:
        headers = {**headers, "X-Timestamp": str(int(time.time()))}
    response = Client(APP).post(path, headers=headers, data=body)

    assert 400 <= response.status_code < 500, response.get_data(as_text=True)
    schema[path]["POST"].validate_response(response)


def test_an_import_made_from_a_preview_answers_within_the_schema(worlds):
    world = worlds("POST /api/v1/imports/ from a preview")
    client = Client(APP)
    headers = {"Authorization": f"Token {world.token}"}
    previewed = client.post("/api/v1/imports/preview/", headers=headers, data={"file": upload()})
    schema["/api/v1/imports/preview/"]["POST"].validate_response(previewed)

    body = {"preview": previewed.get_json()["id"], "phone_column": "Phone"}
    response = client.post("/api/v1/imports/", headers=headers, json=body)

    assert response.status_code == 202, response.get_data(as_text=True)
    schema["/api/v1/imports/"]["POST"].validate_response(response)
