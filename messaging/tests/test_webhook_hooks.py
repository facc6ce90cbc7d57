"""Where events come from: the dispatcher (message.sent, message.failed) and the end of an import
(import.finished). campaign.completed is in campaigns/tests/test_campaign_completed_webhook.py."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from imports.models import ImportJob
from imports.services import import_cancel
from imports.tests.factories import ImportJobFactory
from messaging import dispatcher
from messaging.backends.base import PermanentError, RetryableError
from messaging.models import WebhookDelivery
from messaging.outbound import subscribers
from messaging.tests.factories import MessageFactory
from messaging.tests.webhook_factories import WebhookEndpointFactory


def run():
    return dispatcher.dispatch(worker="test-worker", seconds=30)


def test_the_dispatcher_tells_message_sent_for_each_message_the_gateway_took(user, other_user, locmem_gateway):
    endpoint = WebhookEndpointFactory(owner=user, events=["message.sent"])
    mine = MessageFactory.create_batch(3, owner=user)
    MessageFactory.create_batch(2, owner=other_user)  # nobody listens to theirs

    assert run().sent == 5

    deliveries = WebhookDelivery.objects.filter(endpoint=endpoint)
    assert sorted(d.payload["data"]["id"] for d in deliveries) == sorted(str(m.pk) for m in mine)
    told = deliveries.first().payload
    assert told["event"] == "message.sent"
    assert (told["data"]["status"], told["data"]["attempts"]) == ("SENT", 1)
    assert told["data"]["sent_at"] is not None
    assert WebhookDelivery.objects.count() == 3


def test_the_dispatcher_tells_message_failed_when_a_message_fails_for_good(user, locmem_gateway, settings):
    settings.SMS_MAX_ATTEMPTS = 2
    WebhookEndpointFactory(owner=user, events=["message.failed", "message.sent"])
    refused = MessageFactory(owner=user, phone="+447400000001")
    out_of_attempts = MessageFactory(owner=user, phone="+447400000002", attempts=1)
    MessageFactory(owner=user, phone="+447400000003")  # retried: nothing to tell yet
    locmem_gateway.failures["+447400000001"] = PermanentError("Gateway refused the message (400): bad number")
    locmem_gateway.failures["+447400000002"] = RetryableError("Gateway answered 503")
    locmem_gateway.failures["+447400000003"] = RetryableError("Gateway answered 503")

    run()

    told = {d.payload["data"]["id"]: d.payload for d in WebhookDelivery.objects.all()}
    assert set(told) == {str(refused.pk), str(out_of_attempts.pk)}  # a retry tells nothing yet
    assert {p["event"] for p in told.values()} == {"message.failed"}
    assert told[str(refused.pk)]["data"]["error"] == "Gateway refused the message (400): bad number"
    assert told[str(out_of_attempts.pk)]["data"]["error"].startswith("Gave up after 2 attempts")


def test_a_dispatch_for_owners_without_endpoints_adds_no_query(user, other_user, locmem_gateway, monkeypatch):
    monkeypatch.setattr(subscribers, "REFRESH_SECONDS", 3600)  # however slow this machine is today
    MessageFactory.create_batch(5, owner=user)
    run()  # warm: the list of subscribers read (empty)
    MessageFactory.create_batch(5, owner=user)
    with CaptureQueriesContext(connection) as nobody_listens:
        run()
    WebhookEndpointFactory(owner=other_user, events=["message.sent", "message.failed"])
    subscribers.reset()
    subscribers.endpoints_for("message.sent")  # someone listens now, but not to this owner
    MessageFactory.create_batch(5, owner=user)
    with CaptureQueriesContext(connection) as another_listens:
        run()

    assert len(another_listens) == len(nobody_listens)
    assert not [q for q in [*nobody_listens, *another_listens] if "webhook" in q["sql"]]
    assert not WebhookDelivery.objects.exists()


def test_the_end_of_an_import_tells_import_finished_with_its_counts(user, django_capture_on_commit_callbacks):
    WebhookEndpointFactory(owner=user, events=["import.finished"])
    job = ImportJobFactory(
        owner=user, status=ImportJob.Status.PROCESSING, finished_at=None, total_rows=10, imported_rows=4
    )

    with django_capture_on_commit_callbacks(execute=True):
        import_cancel(job=job)

    told = WebhookDelivery.objects.get().payload
    assert told["event"] == "import.finished"
    assert told["data"] | {"finished_at": None} == {
        "id": job.pk,
        "filename": job.original_filename,
        "status": "CANCELLED",
        "total_rows": 10,
        "imported_rows": 4,
        "invalid_rows": 0,
        "duplicate_rows": 0,
        "failure_reason": "",
        "finished_at": None,
    }
    assert told["data"]["finished_at"]
