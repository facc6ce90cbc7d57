"""Webhook endpoints in the admin: added and changed through the API's services (URL checked, secret shown
once), a disabled one says why first of all, actions re-enable and test; the delivery log is read-only."""

from __future__ import annotations

import socket

import pytest

from inboxerr.tests.pages import visible_text
from messaging.models import WebhookDelivery, WebhookEndpoint
from messaging.tests.webhook_factories import WebhookDeliveryFactory, WebhookEndpointFactory

PAGE = "/admin/messaging/webhookendpoint/"


@pytest.fixture(autouse=True)
def public_dns(monkeypatch):
    def getaddrinfo(host, port, *args, **kwargs):
        address = "10.9.9.9" if host.startswith("internal") else "93.184.215.14"
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def test_staff_add_an_endpoint_for_a_user_and_see_its_secret_once(staff_client, other_user):
    answer = staff_client.post(
        f"{PAGE}add/",
        {"owner": other_user.pk, "url": "https://crm.example.com/in", "description": "", "events": ["message.failed"]},
        follow=True,
    )

    endpoint = WebhookEndpoint.objects.get()
    assert (endpoint.owner, endpoint.events) == (other_user, ["message.failed"])
    assert f"signing secret, shown this once: {endpoint.secret}" in visible_text(answer.content.decode())
    assert endpoint.secret not in staff_client.get(f"{PAGE}{endpoint.pk}/change/").content.decode()


def test_a_url_we_may_not_call_is_refused_beside_its_field(staff_client, other_user):
    answer = staff_client.post(
        f"{PAGE}add/", {"owner": other_user.pk, "url": "https://internal.example.com/", "events": ["message.sent"]}
    )

    assert answer.status_code == 200
    assert "internal.example.com (10.9.9.9) is a private address" in visible_text(answer.content.decode())
    assert not WebhookEndpoint.objects.exists()


def test_a_disabled_endpoint_says_why_first_of_all(staff_client):
    reason = "Disabled automatically on 5 Dec 2026 07:33 UTC: 20 deliveries in a row failed, over 14 hours."
    endpoint = WebhookEndpointFactory(active=False, disabled_reason=reason)
    WebhookDeliveryFactory(endpoint=endpoint, status="given_up", last_response_code=500, last_latency_ms=87)

    page = visible_text(staff_client.get(f"{PAGE}{endpoint.pk}/change/").content.decode())
    listed = visible_text(staff_client.get(PAGE).content.decode())

    assert page.index(f"This endpoint is disabled. {reason}") < page.index("Latest deliveries")
    assert f"Disabled: {reason}" in page
    assert "given up 500 87 ms" in page
    assert f"Disabled: {reason}" in listed


def test_the_actions_enable_and_send_a_test(staff_client):
    off = WebhookEndpointFactory(active=False, disabled_reason="Disabled by its owner.", consecutive_failures=20)

    staff_client.post(PAGE, {"action": "enable", "_selected_action": [off.pk]})
    staff_client.post(PAGE, {"action": "send_test", "_selected_action": [off.pk]})

    off.refresh_from_db()
    assert (off.active, off.disabled_reason, off.consecutive_failures) == (True, "", 0)
    assert off.deliveries.get().event == "webhook.test"


def test_the_delivery_log_is_read_only_and_narrowed_to_one_endpoint(staff_client):
    mine = WebhookDeliveryFactory(
        status="retrying", last_response_code=503, last_latency_ms=120, last_error="HTTP 503."
    )
    WebhookDeliveryFactory()

    page = staff_client.get("/admin/messaging/webhookdelivery/", {"endpoint": mine.endpoint_id})

    assert page.status_code == 200
    rows = page.context["cl"].result_list
    assert [d.pk for d in rows] == [mine.pk]
    assert "failed, will retry" in visible_text(page.content.decode())
    assert staff_client.post(f"/admin/messaging/webhookdelivery/{mine.pk}/change/", {}).status_code == 403
    assert WebhookDelivery.objects.count() == 2
