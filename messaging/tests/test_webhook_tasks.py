"""The delivery task: at most WEBHOOK_WORKERS run at once across every node, and a run that ran out of
time queues the next; the minute schedule also tidies the log."""

from __future__ import annotations

from unittest.mock import patch

import psycopg
import pytest
from django.db import connection

from messaging.models import WebhookDelivery
from messaging.outbound import emit
from messaging.outbound.tasks import LOCK_NAMESPACE, deliver_webhooks, webhooks_tick
from messaging.tests.webhook_factories import WebhookEndpointFactory
from messaging.tests.webhook_receiver import webhook_receiver


@pytest.fixture
def waiting(user, settings):
    settings.WEBHOOK_ALLOW_PRIVATE = True
    with webhook_receiver() as receiver:
        WebhookEndpointFactory(owner=user, url=receiver.url, events=["campaign.completed"])
        emit(owner_id=user.pk, event="campaign.completed", data={})
        yield receiver


def test_the_task_delivers_what_is_due(waiting):
    with patch("messaging.outbound.tasks.async_task", autospec=True) as queue:
        result = deliver_webhooks()

    assert (result["slot"], result["delivered"], result["stopped"]) == (0, 1, "idle")
    queue.assert_not_called()  # nothing left: no next run
    assert WebhookDelivery.objects.get().status == "delivered"


def test_a_run_out_of_time_queues_the_next(waiting, settings):
    settings.WEBHOOK_RUN_SECONDS = 0

    with patch("messaging.outbound.tasks.async_task", autospec=True) as queue:
        result = deliver_webhooks()

    assert result["stopped"] == "time"
    queue.assert_called_once_with(deliver_webhooks, group="webhooks")


@pytest.mark.postgres
def test_with_every_slot_taken_on_another_node_the_task_ends_at_once(waiting, settings):
    settings.WEBHOOK_WORKERS = 1
    params = connection.get_connection_params()
    with psycopg.connect(
        **{k: v for k, v in params.items() if k in {"host", "port", "user", "password", "dbname"}}
    ) as other:
        other.execute("SELECT pg_advisory_lock(%s, 0)", [LOCK_NAMESPACE])

        assert deliver_webhooks() == {"stopped": "all webhook delivery slots taken"}

    assert WebhookDelivery.objects.get().status == "pending"


def test_the_minute_schedule_tidies_and_delivers(waiting):
    result = webhooks_tick()

    assert (result["delivered"], result["stranded"], result["orphans"], result["expired"]) == (1, 0, 0, 0)
