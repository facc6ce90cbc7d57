"""The delivery worker against a real HTTP receiver on loopback: delivered, retried with backoff, given up
after a day, and an endpoint that keeps failing cools down, then is disabled with its reason."""

from __future__ import annotations

import socket
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from messaging.models import WebhookDelivery, WebhookEndpoint
from messaging.outbound import delivery, emit, subscribers
from messaging.outbound.delivery import StopReason, claim_due, deliver_due, tidy
from messaging.tests.webhook_factories import WebhookEndpointFactory
from messaging.tests.webhook_receiver import webhook_receiver

EVENT = "campaign.completed"


@pytest.fixture(autouse=True)
def loopback_allowed(settings):
    settings.WEBHOOK_ALLOW_PRIVATE = True  # the receivers here are on 127.0.0.1
    settings.WEBHOOK_RETRY_BASE_SECONDS, settings.WEBHOOK_RETRY_MAX_SECONDS = 60, 3600


@pytest.fixture
def receiver():
    with webhook_receiver() as running:
        yield running


@pytest.fixture
def endpoint(user, receiver):
    return WebhookEndpointFactory(owner=user, url=receiver.url, events=[EVENT])


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens on it once closed


def due_again(*deliveries_or_endpoints) -> None:
    """Time passes: the retries and the endpoint's cool-down are due now."""
    WebhookDelivery.objects.filter(status__in=["pending", "retrying"]).update(next_attempt_at=timezone.now())
    WebhookEndpoint.objects.update(retry_after=None)


def test_a_delivery_answered_2xx_is_delivered_with_its_code_and_latency(user, endpoint, receiver):
    receiver.status = 204
    emit(owner_id=user.pk, event=EVENT, data={"id": 1})

    report = deliver_due(seconds=10)

    sent = WebhookDelivery.objects.get()
    assert (report.delivered, report.stopped) == (1, StopReason.IDLE)
    assert (sent.status, sent.attempts, sent.last_response_code, sent.last_error) == ("delivered", 1, 204, "")
    assert sent.last_latency_ms is not None
    assert sent.last_latency_ms < 1000
    assert sent.delivered_at
    assert sent.next_attempt_at is None
    assert [r.path for r in receiver.received] == ["/hooks/inboxerr"]


def test_a_failure_is_retried_after_an_exponential_jittered_backoff(user, endpoint, receiver):
    receiver.status = 503
    emit(owner_id=user.pk, event=EVENT, data={"id": 1})

    waits = []
    for _ in range(3):
        before = timezone.now()
        deliver_due(seconds=10)
        failed = WebhookDelivery.objects.get()
        waits.append((failed.next_attempt_at - before).total_seconds())
        due_again()

    assert failed.status == "retrying"
    assert (failed.attempts, failed.last_response_code, failed.last_error) == (3, 503, "HTTP 503. receiver says no")
    # 1 minute, 2, 4: each between half and all of it.
    for wait, ceiling in zip(waits, [60, 120, 240], strict=True):
        assert ceiling / 2 - 1 <= wait <= ceiling + 1
    assert len(receiver.received) == 3


def test_backoff_is_capped_and_jittered(settings):
    for attempts, ceiling in [(1, 60), (2, 120), (6, 1920), (7, 3600), (30, 3600)]:
        delays = [delivery.backoff_seconds(attempts) for _ in range(200)]
        assert ceiling / 2 <= min(delays) <= max(delays) <= ceiling
        assert max(delays) - min(delays) > ceiling / 10


def test_a_delivery_still_failing_a_day_after_its_first_attempt_is_given_up(user, endpoint, receiver):
    receiver.status = 500
    emit(owner_id=user.pk, event=EVENT, data={"id": 1})
    WebhookDelivery.objects.update(
        status="retrying", attempts=28, first_attempt_at=timezone.now() - timedelta(hours=23, minutes=59)
    )

    deliver_due(seconds=10)

    given_up = WebhookDelivery.objects.get()
    assert (given_up.status, given_up.attempts, given_up.next_attempt_at) == ("given_up", 29, None)
    assert given_up.last_error == "HTTP 500. receiver says no Given up after 29 attempts."


def test_a_delivery_failing_for_less_than_a_day_is_tried_again(user, endpoint, receiver):
    receiver.status = 500
    emit(owner_id=user.pk, event=EVENT, data={"id": 1})
    WebhookDelivery.objects.update(status="retrying", attempts=5, first_attempt_at=timezone.now() - timedelta(hours=2))

    deliver_due(seconds=10)

    assert WebhookDelivery.objects.get().status == "retrying"


def test_a_dead_endpoint_costs_one_attempt_at_a_time_and_its_other_deliveries_wait(user, receiver):
    dead = WebhookEndpointFactory(owner=user, url=f"http://127.0.0.1:{closed_port()}/h", events=[EVENT])
    alive = WebhookEndpointFactory(owner=user, url=receiver.url, events=[EVENT])
    for n in range(10):
        emit(owner_id=user.pk, event=EVENT, data={"id": n})

    report = deliver_due(seconds=10)

    dead.refresh_from_db()
    assert report.delivered == 10
    assert len(receiver.received) == 10
    # Its lanes stop at the first failure: at most one attempt each.
    first = dead.deliveries.filter(attempts=1).count()
    assert 1 <= first <= delivery.LANES_PER_ENDPOINT
    assert dead.deliveries.filter(attempts=1).first().last_error == "Connection refused."
    waiting = dead.deliveries.filter(attempts=0)
    assert {d.status for d in waiting} == {"pending"}
    # They wait for the endpoint's cool-down, and a claim takes none of them meanwhile.
    assert dead.consecutive_failures == first
    assert dead.retry_after > timezone.now() + timedelta(seconds=29)
    assert {d.next_attempt_at for d in waiting} == {dead.retry_after}
    assert claim_due(limit=100) == []
    assert alive.deliveries.filter(status="delivered").count() == 10

    due_again()
    deliver_due(seconds=10)

    # Failing now, it is probed with one delivery.
    assert sum(dead.deliveries.values_list("attempts", flat=True)) == first + 1


def test_an_endpoint_failing_twenty_times_in_a_row_is_disabled_with_its_reason(user, endpoint, receiver, api):
    receiver.status = 500
    endpoint.consecutive_failures, endpoint.failing_since = 19, timezone.now() - timedelta(hours=14)
    endpoint.save()
    emit(owner_id=user.pk, event=EVENT, data={"id": 1})
    emit(owner_id=user.pk, event=EVENT, data={"id": 2})

    report = deliver_due(seconds=10)

    endpoint.refresh_from_db()
    assert report.disabled == [endpoint.pk]
    assert (endpoint.active, endpoint.consecutive_failures) == (False, 20)
    assert "20 deliveries in a row failed, over 14 hours" in endpoint.disabled_reason
    assert "(the last: HTTP 500. receiver says no)" in endpoint.disabled_reason
    assert "enable it again" in endpoint.disabled_reason
    # What waited is given up, and the owner is shown why.
    assert set(endpoint.deliveries.values_list("status", flat=True)) == {"given_up"}
    shown = api.get(f"/api/v1/webhooks/{endpoint.pk}").json()
    assert (shown["active"], shown["disabled_reason"]) == (False, endpoint.disabled_reason)
    # And nothing more is written for it.
    assert emit(owner_id=user.pk, event=EVENT, data={"id": 3}) == 0


def test_an_endpoint_failing_for_a_day_without_success_is_disabled(user, endpoint, receiver):
    receiver.status = 404
    endpoint.consecutive_failures, endpoint.failing_since = 3, timezone.now() - timedelta(hours=24, minutes=1)
    endpoint.save()
    emit(owner_id=user.pk, event=EVENT, data={"id": 1})

    deliver_due(seconds=10)

    endpoint.refresh_from_db()
    assert not endpoint.active
    assert "4 deliveries in a row failed, over 1 day" in endpoint.disabled_reason


def test_a_success_ends_the_run_of_failures(user, endpoint, receiver):
    endpoint.consecutive_failures, endpoint.failing_since = 12, timezone.now() - timedelta(hours=3)
    endpoint.save()
    emit(owner_id=user.pk, event=EVENT, data={"id": 1})

    deliver_due(seconds=10)

    endpoint.refresh_from_db()
    assert (endpoint.active, endpoint.consecutive_failures, endpoint.failing_since, endpoint.retry_after) == (
        True, 0, None, None,
    )  # fmt: skip


def test_an_enabled_endpoint_is_delivered_to_again(user, endpoint, receiver, api):
    receiver.statuses = [500]
    endpoint.consecutive_failures = 19
    endpoint.save()
    emit(owner_id=user.pk, event=EVENT, data={"id": 1})
    deliver_due(seconds=10)
    endpoint.refresh_from_db()
    assert not endpoint.active

    answer = api.post(f"/api/v1/webhooks/{endpoint.pk}/enable")

    assert answer.status_code == 200
    assert (answer.json()["active"], answer.json()["disabled_reason"], answer.json()["consecutive_failures"]) == (
        True, "", 0,
    )  # fmt: skip
    assert emit(owner_id=user.pk, event=EVENT, data={"id": 2}) == 1
    deliver_due(seconds=10)
    assert endpoint.deliveries.filter(status="delivered").count() == 1


def test_a_slow_receiver_is_cut_off_at_the_timeout_and_holds_up_nobody(user, receiver, settings):
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.5
    fast = WebhookEndpointFactory(owner=user, url=receiver.url, events=[EVENT])
    with webhook_receiver() as slow_receiver:
        slow_receiver.delay = 3
        slow = WebhookEndpointFactory(owner=user, url=slow_receiver.url, events=[EVENT])
        for n in range(5):
            emit(owner_id=user.pk, event=EVENT, data={"id": n})
        started = time.monotonic()

        deliver_due(seconds=10)

        took = time.monotonic() - started
    assert took < 2
    cut = slow.deliveries.filter(attempts=1).first()
    assert cut.last_error == "No answer within the time allowed (WEBHOOK_TIMEOUT_SECONDS)."
    assert 400 <= cut.last_latency_ms < 1500
    assert fast.deliveries.filter(status="delivered").count() == 5


def test_a_run_stops_when_its_time_is_up_and_leaves_the_rest_due(user, endpoint, receiver):
    receiver.delay = 0.3
    for n in range(40):
        emit(owner_id=user.pk, event=EVENT, data={"id": n})

    report = deliver_due(seconds=0.5)

    assert report.stopped == StopReason.TIME
    assert 0 < report.delivered < 40
    left = WebhookDelivery.objects.filter(status="pending", attempts=0)
    assert left.count() == 40 - report.delivered
    assert all(d.next_attempt_at <= timezone.now() for d in left)  # due again at once, not after a lease


def test_redirects_are_not_followed(user, endpoint, receiver):
    receiver.status, receiver.location = 302, "http://169.254.169.254/latest/meta-data/"
    emit(owner_id=user.pk, event=EVENT, data={"id": 1})

    deliver_due(seconds=10)

    failed = WebhookDelivery.objects.get()
    assert (failed.status, failed.last_response_code) == ("retrying", 302)
    assert failed.last_error.startswith("HTTP 302. Redirects are not followed.")
    assert len(receiver.received) == 1


def resolving_once_then(monkeypatch, host: str, first: str, later: str):
    """DNS for `host` that answers `first`, then `later` (a rebinding attacker); counts the lookups."""
    real = socket.getaddrinfo
    lookups = []

    def getaddrinfo(name, port, *args, **kwargs):
        if name != host:
            return real(name, port, *args, **kwargs)
        lookups.append(name)
        address = first if len(lookups) == 1 else later
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return lookups


def test_the_delivery_connects_to_the_address_it_checked_never_resolving_again(user, receiver, monkeypatch):
    lookups = resolving_once_then(monkeypatch, "hooks.example.com", "127.0.0.1", "10.255.255.1")
    endpoint = WebhookEndpointFactory(owner=user, url=f"http://hooks.example.com:{receiver.port}/h", events=[EVENT])
    emit(owner_id=user.pk, event=EVENT, data={"id": 1})

    deliver_due(seconds=10)

    assert WebhookDelivery.objects.get().status == "delivered"
    assert lookups == ["hooks.example.com"]  # checked once; the connection went to that answer
    assert receiver.received[0].headers["Host"] == f"hooks.example.com:{receiver.port}"
    assert endpoint.deliveries.count() == 1


def test_a_name_that_now_resolves_to_a_private_address_is_not_called(user, receiver, monkeypatch, settings):
    settings.WEBHOOK_ALLOW_PRIVATE = False
    resolving_once_then(monkeypatch, "hooks.example.com", "10.0.0.5", "10.0.0.5")
    WebhookEndpointFactory(owner=user, url=f"http://hooks.example.com:{receiver.port}/h", events=[EVENT])
    emit(owner_id=user.pk, event=EVENT, data={"id": 1})

    deliver_due(seconds=10)

    refused = WebhookDelivery.objects.get()
    assert (refused.status, refused.attempts, refused.last_response_code) == ("retrying", 1, None)
    assert refused.last_error.startswith("Not sent: hooks.example.com (10.0.0.5) is a private address")
    assert receiver.received == []


def test_a_claim_takes_a_few_of_each_endpoints_deliveries_so_a_backlog_holds_up_no_one(user, receiver):
    busy = WebhookEndpointFactory(owner=user, url=receiver.url, events=[EVENT])
    other = WebhookEndpointFactory(owner=user, url=receiver.url + "/other", events=["import.finished"])
    for n in range(200):
        emit(owner_id=user.pk, event=EVENT, data={"id": n})
    emit(owner_id=user.pk, event="import.finished", data={"id": 1})

    claimed = {i for i, _ in claim_due(limit=100)}

    assert other.deliveries.get().pk in claimed
    assert busy.deliveries.filter(pk__in=claimed).count() == delivery.PER_ENDPOINT
    # Leased: a second claim takes none of them.
    assert not claimed & {i for i, _ in claim_due(limit=500)}


def test_the_tick_gives_up_strays_of_disabled_endpoints_drops_those_of_deleted_ones_and_old_logs(user, endpoint):
    gone = WebhookEndpointFactory(owner=user, events=[EVENT])
    subscribers.endpoints_for(EVENT)  # read while both were active; another process then changes them
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(active=False)
    WebhookEndpoint.objects.filter(pk=gone.pk).delete()
    emit(owner_id=user.pk, event=EVENT, data={"id": 1})  # a delivery for each, from the stale list
    old = WebhookDelivery.objects.create(
        endpoint=endpoint, event_id="00000000-0000-4000-8000-000000000000", event=EVENT, payload={}, status="delivered"
    )
    WebhookDelivery.objects.filter(pk=old.pk).update(id="018c0000-0000-7000-8000-000000000000")  # made in Nov 2023

    assert tidy() == {"stranded": 1, "orphans": 1, "expired": 1}
    assert list(WebhookDelivery.objects.values_list("status", flat=True)) == ["given_up"]
