"""/api/v1/webhooks/: endpoints registered, read, changed, switched off and on, tested, deleted, and
their delivery log; the secret shown once; every URL checked; each user sees only their own."""

from __future__ import annotations

import ipaddress
import socket

import pytest

from messaging.models import WebhookDelivery, WebhookEndpoint
from messaging.outbound import emit
from messaging.outbound.services import MAX_ENDPOINTS_PER_USER
from messaging.tests.webhook_factories import WebhookEndpointFactory

URL = "https://hooks.example.com/inboxerr"


@pytest.fixture(autouse=True)
def dns(monkeypatch):
    """The outside world's DNS: every name is public, but internal.example.com."""

    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        try:
            ipaddress.ip_address(host)
            return real(host, port, *args, **kwargs)  # an address resolves to itself
        except ValueError:
            address = "10.1.2.3" if host == "internal.example.com" else "93.184.215.14"
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def create(api, **fields):
    body = {"url": URL, "events": ["message.delivered", "message.failed"], **fields}
    return api.post("/api/v1/webhooks/", body, format="json")


def test_an_endpoint_is_created_with_a_secret_shown_this_once(api, user):
    answer = create(api, description="Our CRM")

    assert answer.status_code == 201, answer.content
    body = answer.json()
    endpoint = WebhookEndpoint.objects.get()
    assert body["secret"] == endpoint.secret
    assert body["secret"].startswith("whsec_")
    assert len(body["secret"]) > 40
    assert (endpoint.owner, endpoint.url, endpoint.events) == (user, URL, ["message.delivered", "message.failed"])
    assert (body["active"], body["disabled_reason"], body["description"]) == (True, "", "Our CRM")
    assert body["deliveries_url"].endswith(f"/api/v1/webhooks/{endpoint.pk}/deliveries")
    # Never again.
    assert "secret" not in api.get(f"/api/v1/webhooks/{endpoint.pk}").json()
    assert "secret" not in api.get("/api/v1/webhooks/").json()["results"][0]
    assert "secret" not in api.patch(f"/api/v1/webhooks/{endpoint.pk}", {"description": "x"}, format="json").json()


def test_each_endpoint_gets_its_own_secret(api):
    assert create(api).json()["secret"] != create(api).json()["secret"]


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://127.0.0.1:8000/hook", "127.0.0.1 is a loopback address"),
        ("http://169.254.169.254/latest/meta-data/", "is a link-local address"),
        ("http://internal.example.com/hook", "internal.example.com (10.1.2.3) is a private address"),
        ("http://[::ffff:127.0.0.1]/hook", "is a loopback address"),
        ("ftp://hooks.example.com/hook", "Only http:// and https://"),
        ("http://user:pass@hooks.example.com/hook", "cannot carry a user name or password"),
        ("hooks.example.com/in", "Only http:// and https://"),
        ("https://hooks.example.com/a b", "cannot contain spaces"),
    ],
)
def test_a_url_we_may_not_call_is_refused_saying_why(api, url, message):
    answer = create(api, url=url)

    assert answer.status_code == 400
    assert message in answer.json()["error"]["details"]["url"][0]
    assert not WebhookEndpoint.objects.exists()


def test_a_private_url_is_taken_where_the_deployment_allows_it(api, settings):
    settings.WEBHOOK_ALLOW_PRIVATE = True

    assert create(api, url="http://127.0.0.1:8000/hook").status_code == 201


@pytest.mark.parametrize(
    ("events", "message"),
    [
        ([], "This list may not be empty."),
        (["message.bounced"], "is not a valid choice"),
        (["webhook.test"], "is not a valid choice"),
    ],
)
def test_events_must_be_known_and_at_least_one(api, events, message):
    answer = create(api, events=events)

    assert answer.status_code == 400
    assert message in str(answer.json()["error"]["details"]["events"])


def test_a_user_has_at_most_so_many_endpoints(api, user):
    WebhookEndpointFactory.create_batch(MAX_ENDPOINTS_PER_USER, owner=user)

    answer = create(api)

    assert answer.status_code == 409
    assert answer.json()["error"]["code"] == "too_many_endpoints"


def test_an_endpoint_is_changed_and_its_new_url_checked(api, user):
    endpoint = WebhookEndpointFactory(owner=user, consecutive_failures=4)

    changed = api.patch(
        f"/api/v1/webhooks/{endpoint.pk}",
        {"url": "https://new.example.com/h", "events": ["inbound.received"]},
        format="json",
    )
    refused = api.patch(f"/api/v1/webhooks/{endpoint.pk}", {"url": "http://10.0.0.1/h"}, format="json")

    assert changed.status_code == 200
    assert (changed.json()["url"], changed.json()["events"]) == ("https://new.example.com/h", ["inbound.received"])
    assert changed.json()["consecutive_failures"] == 0  # another receiver: the old one's failures say nothing
    assert refused.status_code == 400
    endpoint.refresh_from_db()
    assert endpoint.url == "https://new.example.com/h"


def test_switching_an_endpoint_off_gives_up_what_waited_and_on_again_is_explicit(api, user):
    endpoint = WebhookEndpointFactory(owner=user, events=["campaign.completed"])
    emit(owner_id=user.pk, event="campaign.completed", data={})

    off = api.patch(f"/api/v1/webhooks/{endpoint.pk}", {"active": False}, format="json")

    assert (off.json()["active"], off.json()["disabled_reason"]) == (False, "Disabled by its owner.")
    assert WebhookDelivery.objects.get().status == "given_up"
    assert emit(owner_id=user.pk, event="campaign.completed", data={}) == 0

    on = api.post(f"/api/v1/webhooks/{endpoint.pk}/enable")

    assert (on.status_code, on.json()["active"], on.json()["disabled_reason"]) == (200, True, "")
    assert emit(owner_id=user.pk, event="campaign.completed", data={}) == 1


def test_a_test_delivery_is_queued_for_that_endpoint_alone(api, user):
    endpoint = WebhookEndpointFactory(owner=user, events=["message.sent"])
    WebhookEndpointFactory(owner=user, events=["message.sent"])

    answer = api.post(f"/api/v1/webhooks/{endpoint.pk}/test")

    assert answer.status_code == 202
    delivery = WebhookDelivery.objects.get()
    assert (answer.json()["id"], answer.json()["event"], answer.json()["status"]) == (
        str(delivery.pk),
        "webhook.test",
        "pending",
    )
    assert delivery.endpoint == endpoint
    assert delivery.payload["data"]["endpoint_id"] == endpoint.pk


def test_a_disabled_endpoint_cannot_be_tested(api, user):
    endpoint = WebhookEndpointFactory(owner=user, active=False, disabled_reason="Disabled by its owner.")

    answer = api.post(f"/api/v1/webhooks/{endpoint.pk}/test")

    assert (answer.status_code, answer.json()["error"]["code"]) == (409, "endpoint_disabled")


def test_the_delivery_log_is_newest_first_cursor_paginated_and_filtered_by_status(api, user):
    endpoint = WebhookEndpointFactory(owner=user, events=["campaign.completed"])
    for n in range(5):
        emit(owner_id=user.pk, event="campaign.completed", data={"n": n})
    WebhookDelivery.objects.filter(payload__data__n=0).update(status="given_up")

    first = api.get(f"/api/v1/webhooks/{endpoint.pk}/deliveries?page_size=3").json()
    second = api.get(first["next"]).json()
    given_up = api.get(f"/api/v1/webhooks/{endpoint.pk}/deliveries?status=given_up").json()

    assert [d["payload"]["data"]["n"] for d in first["results"] + second["results"]] == [4, 3, 2, 1, 0]
    assert second["next"] is None
    assert [d["payload"]["data"]["n"] for d in given_up["results"]] == [0]
    assert set(first["results"][0]) >= {
        "status", "attempts", "last_response_code", "last_latency_ms", "last_error", "next_attempt_at", "event_id",
    }  # fmt: skip
    assert api.get(f"/api/v1/webhooks/{endpoint.pk}/deliveries?status=lost").status_code == 400


def test_deleting_an_endpoint_deletes_its_log(api, user):
    endpoint = WebhookEndpointFactory(owner=user, events=["campaign.completed"])
    emit(owner_id=user.pk, event="campaign.completed", data={})

    assert api.delete(f"/api/v1/webhooks/{endpoint.pk}").status_code == 204
    assert not WebhookDelivery.objects.exists()
    assert emit(owner_id=user.pk, event="campaign.completed", data={}) == 0


def test_another_users_endpoints_are_neither_listed_nor_reachable(api, other_user):
    theirs = WebhookEndpointFactory(owner=other_user, events=["campaign.completed"])
    emit(owner_id=other_user.pk, event="campaign.completed", data={})

    assert api.get("/api/v1/webhooks/").json()["results"] == []
    for method, suffix in [
        ("get", ""),
        ("patch", ""),
        ("delete", ""),
        ("post", "/enable"),
        ("post", "/test"),
        ("get", "/deliveries"),
    ]:
        assert getattr(api, method)(f"/api/v1/webhooks/{theirs.pk}{suffix}", {}, format="json").status_code == 404
    theirs.refresh_from_db()
    assert theirs.active
    assert WebhookDelivery.objects.count() == 1


def test_the_gateways_webhook_routes_are_still_theirs(api):
    assert api.post("/api/v1/webhooks/android", b"{}", content_type="application/json").status_code == 403
    assert api.get("/api/v1/webhooks/android/").status_code == 404
