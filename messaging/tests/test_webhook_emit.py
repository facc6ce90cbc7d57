"""Reporting an event writes one delivery per subscribed endpoint inside the caller's transaction, queues
the worker once that commits, and costs no query at all when nobody subscribed."""

from __future__ import annotations

from unittest.mock import patch

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from messaging.models import WebhookDelivery, WebhookEndpoint
from messaging.outbound import emit, emit_many, emit_message, emit_messages, subscribers, wants
from messaging.outbound.tasks import deliver_webhooks
from messaging.tests.factories import MessageFactory
from messaging.tests.webhook_factories import WebhookEndpointFactory


def test_each_subscribed_endpoint_of_the_owner_gets_one_delivery_of_the_event(user, other_user):
    first = WebhookEndpointFactory(owner=user, events=["campaign.completed"])
    second = WebhookEndpointFactory(owner=user, events=["campaign.completed", "import.finished"])
    WebhookEndpointFactory(owner=user, events=["import.finished"])  # another event
    WebhookEndpointFactory(owner=user, events=["campaign.completed"], active=False)  # switched off
    WebhookEndpointFactory(owner=other_user, events=["campaign.completed"])  # another owner

    assert emit(owner_id=user.pk, event="campaign.completed", data={"id": 4}) == 2

    deliveries = WebhookDelivery.objects.order_by("endpoint_id")
    assert [d.endpoint_id for d in deliveries] == [first.pk, second.pk]
    assert len({d.event_id for d in deliveries}) == 1  # one event, one id, however many endpoints
    assert {d.status for d in deliveries} == {"pending"}
    assert deliveries[0].payload["data"] == {"id": 4}


def test_an_event_rolled_back_with_what_it_reports_delivers_nothing(user, django_capture_on_commit_callbacks):
    WebhookEndpointFactory(owner=user, events=["campaign.completed"])

    def complete_then_fail():
        with transaction.atomic():
            emit(owner_id=user.pk, event="campaign.completed", data={"id": 4})
            raise RuntimeError("the campaign's update failed")

    with django_capture_on_commit_callbacks() as queued, pytest.raises(RuntimeError):
        complete_then_fail()

    assert WebhookDelivery.objects.count() == 0
    assert queued == []  # and no worker is woken


def test_the_worker_is_queued_once_the_transaction_commits(user, django_capture_on_commit_callbacks):
    WebhookEndpointFactory(owner=user, events=["campaign.completed"])

    with (
        patch("messaging.outbound.tasks.async_task", autospec=True) as queue,
        django_capture_on_commit_callbacks(execute=True),
        transaction.atomic(),
    ):
        for n in range(50):
            emit(owner_id=user.pk, event="campaign.completed", data={"id": n})
        queue.assert_not_called()

    queue.assert_called_once_with(deliver_webhooks, group="webhooks")  # debounced: fifty events, one task


def test_an_event_nobody_subscribed_to_costs_no_query_however_many_messages(user):
    WebhookEndpointFactory(owner=user, events=["campaign.completed"])  # subscribed, to something else
    messages = MessageFactory.create_batch(3, owner=user)
    ids = [m.pk for m in messages] * 400
    subscribers.endpoints_for("message.sent")  # the list of who wants what, read once every few seconds

    with CaptureQueriesContext(connection) as queries:
        assert emit_messages(event="message.sent", message_ids=ids) == 0
        assert emit_message(event="message.sent", message=messages[0]) == 0
        assert emit_many(event="message.sent", items=[(user.pk, {})] * 1000) == 0
        assert not wants(owner_id=user.pk, event="message.sent")

    assert queries.captured_queries == []


def test_an_event_for_many_messages_costs_the_same_queries_for_ten_as_for_a_thousand(user, other_user):
    WebhookEndpointFactory(owner=user, events=["message.sent"])
    few = [m.pk for m in MessageFactory.create_batch(10, owner=user)]
    many = [m.pk for m in MessageFactory.create_batch(1000, owner=user)]
    theirs = [m.pk for m in MessageFactory.create_batch(5, owner=other_user)]  # nobody listens to theirs
    subscribers.endpoints_for("message.sent")

    with CaptureQueriesContext(connection) as for_few:
        assert emit_messages(event="message.sent", message_ids=few + theirs) == 10
    with CaptureQueriesContext(connection) as for_many:
        assert emit_messages(event="message.sent", message_ids=many) == 1000

    assert len(for_few) == len(for_many) == 2  # the messages' data, then one INSERT
    # Told whose they are (the dispatcher knows), messages of owners nobody subscribed cost nothing.
    with CaptureQueriesContext(connection) as for_theirs:
        assert (
            emit_messages(event="message.sent", message_ids=theirs, owner_of=dict.fromkeys(theirs, other_user.pk)) == 0
        )
    assert for_theirs.captured_queries == []
    sent = WebhookDelivery.objects.filter(event_id__isnull=False).first()
    assert set(sent.payload["data"]) == {
        "id", "campaign_id", "task_id", "phone", "status", "attempts", "parts_count", "error",
        "sent_at", "delivered_at", "failed_at",
    }  # fmt: skip


def test_the_list_of_subscribers_is_read_once_then_kept(user):
    with CaptureQueriesContext(connection) as queries:
        for _ in range(100):
            emit(owner_id=user.pk, event="campaign.completed", data={})

    assert len(queries) == 1


def test_an_endpoint_created_is_told_of_the_next_event_in_that_process(api, user, monkeypatch):
    emit(owner_id=user.pk, event="campaign.completed", data={})  # the list read, with no endpoint in it
    monkeypatch.setattr("socket.getaddrinfo", lambda *a, **k: [(2, 1, 6, "", ("93.184.215.14", 443))])

    api.post("/api/v1/webhooks/", {"url": "https://example.com/h", "events": ["campaign.completed"]}, format="json")

    assert emit(owner_id=user.pk, event="campaign.completed", data={}) == 1


def test_a_delivery_for_an_endpoint_deleted_meanwhile_never_fails_the_callers_transaction(user):
    endpoint = WebhookEndpointFactory(owner=user, events=["campaign.completed"])
    subscribers.endpoints_for("campaign.completed")  # read while it existed
    WebhookEndpoint.objects.filter(pk=endpoint.pk).delete()  # by another process: this one's list is stale

    with transaction.atomic():
        assert emit(owner_id=user.pk, event="campaign.completed", data={}) == 1

    assert WebhookDelivery.objects.count() == 1  # a stray, which the worker drops
