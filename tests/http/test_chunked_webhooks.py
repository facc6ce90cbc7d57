"""A webhook sent with chunked transfer encoding (no Content-Length) is read whole, so its signature verifies:
through a real gunicorn, which decodes the chunks; a server that cannot say where the body ends gets a 411."""

from __future__ import annotations

import http.client
import io
import json
import os

import pytest
from django.db import connection
from django.test import RequestFactory

from inboxerr.exceptions import PayloadTooLarge
from inboxerr.http import LengthRequired, request_body
from messaging import signing
from messaging.models import Message
from messaging.tests.factories import AndroidEventFactory, MessageFactory
from tests.cluster import ROOT, database_url, free_port, kill_group, listening, start_group, tail, wait_until

KEY = "chunked-signing-key"


def post_chunked(port: int, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    # An iterable body makes http.client send it chunked, one chunk each, with no Content-Length.
    pieces = [body[i : i + 16] for i in range(0, len(body), 16)]
    conn.request("POST", path, body=iter(pieces), headers={**headers, "Content-Type": "application/json"})
    response = conn.getresponse()
    return response.status, response.read()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_chunked_signed_receipt_through_gunicorn_is_applied(tmp_path):
    message = MessageFactory(status=Message.Status.SENDING, attempts=1)
    event = AndroidEventFactory(event="sms:sent", payload={"messageId": str(message.pk), "phoneNumber": message.phone})
    body = json.dumps(event).encode()
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "inboxerr.settings",
        "DATABASE_URL": database_url(connection.settings_dict),
        "SMS_BACKEND": "android",
        "SMS_WEBHOOK_SIGNING_KEY": KEY,
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "1",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
        "PYTHONPATH": str(ROOT),
    }
    log = tmp_path / "gunicorn.log"
    server = start_group(["-m", "gunicorn", "inboxerr.wsgi", "--config", "gunicorn.conf.py"], env=env, log=log)
    try:
        assert wait_until(lambda: listening(port), seconds=30), tail(log)
        status, answer = post_chunked(port, "/api/v1/webhooks/android", body, signing.signed_headers(body, KEY))
    finally:
        kill_group(server)

    assert (status, json.loads(answer)) == (200, {"results": ["applied"]}), tail(log)
    message.refresh_from_db()
    assert message.status == Message.Status.SENT


def chunked_request(body: bytes, *, terminated: bool):
    request = RequestFactory().post("/api/v1/webhooks/android", data=b"", content_type="application/json")
    request.META.pop("CONTENT_LENGTH", None)
    request.META["HTTP_TRANSFER_ENCODING"] = "chunked"
    request.META["wsgi.input"] = io.BytesIO(body)
    if terminated:
        request.META["wsgi.input_terminated"] = True
    return request


def test_a_server_that_ends_the_stream_gives_the_whole_chunked_body():
    assert request_body(chunked_request(b'{"id": "e1"}', terminated=True)) == b'{"id": "e1"}'


def test_a_server_that_cannot_end_the_stream_gets_a_411():
    with pytest.raises(LengthRequired):
        request_body(chunked_request(b'{"id": "e1"}', terminated=False))


def test_a_chunked_body_is_held_to_the_upload_limit(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10

    with pytest.raises(PayloadTooLarge):
        request_body(chunked_request(b"x" * 11, terminated=True))
