"""A delivery is signed as the README says: its receiver code, run as written, accepts ours and refuses
anything changed, unsigned, signed with another secret, or replayed later."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from messaging.outbound import delivery, emit
from messaging.outbound.signing import sign, verify
from messaging.tests.webhook_factories import WebhookEndpointFactory
from messaging.tests.webhook_receiver import webhook_receiver

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_receiver():
    """The README's receiver, the Python block after its marker, run as it is written."""
    text = README.read_text()
    code = re.search(r"<!-- webhook-receiver[^>]*-->\n```python\n(.*?)```", text, re.S).group(1)
    assert len(code.strip().splitlines()) <= 10, "the README promises ten lines"
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)
    return namespace["verify"]


@pytest.fixture
def received(user, settings):
    """One real delivery of campaign.completed, as a receiver on loopback got it."""
    settings.WEBHOOK_ALLOW_PRIVATE = True
    with webhook_receiver() as receiver:
        endpoint = WebhookEndpointFactory(owner=user, url=receiver.url, events=["campaign.completed"])
        emit(owner_id=user.pk, event="campaign.completed", data={"id": 7, "name": "Spring ✿"})
        delivery.deliver_due(seconds=10)
    [request] = receiver.received
    return endpoint, request


def test_the_readme_receiver_accepts_a_real_delivery(received):
    endpoint, request = received

    assert readme_receiver()(endpoint.secret, request.body, request.headers) is True


def test_the_body_and_headers_are_as_documented(received):
    endpoint, request = received
    body = json.loads(request.body)

    assert list(body) == ["id", "event", "created_at", "data"]
    assert body["event"] == request.headers["X-Inboxerr-Event"] == "campaign.completed"
    assert body["data"] == {"id": 7, "name": "Spring ✿"}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", body["created_at"])
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["X-Inboxerr-Delivery"] == str(endpoint.deliveries.get().pk)
    assert abs(int(request.headers["X-Inboxerr-Timestamp"]) - time.time()) < 30
    assert re.fullmatch(r"v1=[0-9a-f]{64}", request.headers["X-Inboxerr-Signature"])


@pytest.mark.parametrize(
    "tamper",
    [
        lambda secret, body, headers: (secret, body.replace(b"Spring", b"Autumn"), headers),
        lambda secret, body, headers: ("whsec_another", body, headers),
        lambda secret, body, headers: (secret, body, {**headers, "X-Inboxerr-Signature": "v1=" + "0" * 64}),
        lambda secret, body, headers: (secret, body, {**headers, "X-Inboxerr-Signature": "v1=é"}),
        lambda secret, body, headers: (
            secret,
            body,
            {k: v for k, v in headers.items() if k != "X-Inboxerr-Signature"},
        ),
        lambda secret, body, headers: (
            secret,
            body,
            {**headers, "X-Inboxerr-Timestamp": str(int(headers["X-Inboxerr-Timestamp"]) + 1)},
        ),
        lambda secret, body, headers: (secret, body, {**headers, "X-Inboxerr-Timestamp": "soon"}),
    ],
    ids=[
        "body changed",
        "another secret",
        "wrong signature",
        "non-ascii signature",
        "unsigned",
        "timestamp moved",
        "no timestamp",
    ],
)
def test_the_readme_receiver_refuses_what_we_did_not_send(received, tamper):
    endpoint, request = received

    assert readme_receiver()(*tamper(endpoint.secret, request.body, request.headers)) is False


def test_a_delivery_replayed_after_five_minutes_is_refused(received, monkeypatch):
    endpoint, request = received
    later = time.time() + 301
    monkeypatch.setattr(time, "time", lambda: later)

    assert readme_receiver()(endpoint.secret, request.body, request.headers) is False


def test_our_own_verify_agrees_with_the_readme():
    body, timestamp = b'{"id":"x"}', str(int(time.time()))
    signature = sign(secret="whsec_abc", timestamp=timestamp, body=body)
    headers = {"X-Inboxerr-Timestamp": timestamp, "X-Inboxerr-Signature": signature}

    assert verify(secret="whsec_abc", body=body, timestamp=timestamp, signature=signature)
    assert readme_receiver()("whsec_abc", body, headers)
