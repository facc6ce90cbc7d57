"""Reading messages: filters, cursor pages, one message's history, cancel while QUEUED, tasks."""

from datetime import timedelta

import pytest
from django.utils import timezone

from campaigns.tests.factories import CampaignFactory
from messaging import dispatcher
from messaging.models import Message, TaskRecord
from messaging.tests.factories import MessageEventFactory, MessageFactory


def ids(response):
    return [m["id"] for m in response.json()["results"]]


def test_the_list_is_newest_first_in_cursor_pages(api, user):
    messages = MessageFactory.create_batch(5, owner=user)

    first = api.get("/api/v1/messages/?page_size=2").json()
    second = api.get(first["next"]).json()

    assert [m["id"] for m in first["results"] + second["results"]] == [str(m.pk) for m in reversed(messages)][:4]
    assert "count" not in first  # no COUNT(*) over millions of rows


def test_filters_by_status_phone_in_any_format_campaign_and_dates(api, user):
    campaign = CampaignFactory(owner=user)
    a = MessageFactory(owner=user, phone="+447400000001", status="SENT", campaign=campaign)
    b = MessageFactory(owner=user, phone="+447400000002")
    Message.objects.filter(pk=b.pk).update(created_at=timezone.now() - timedelta(days=3))

    assert ids(api.get("/api/v1/messages/?status=SENT")) == [str(a.pk)]
    assert ids(api.get("/api/v1/messages/", {"phone": "07400 000002"})) == [str(b.pk)]
    assert ids(api.get(f"/api/v1/messages/?campaign={campaign.pk}")) == [str(a.pk)]
    since = (timezone.now() - timedelta(days=1)).isoformat()
    assert ids(api.get("/api/v1/messages/", {"created_after": since})) == [str(a.pk)]
    assert ids(api.get("/api/v1/messages/", {"created_before": since})) == [str(b.pk)]


def test_an_invalid_status_filter_is_a_400(api):
    response = api.get("/api/v1/messages/?status=LOST")

    assert response.status_code == 400
    assert "status" in response.json()["error"]["details"]


def test_a_message_shows_its_event_history(api, user, locmem_gateway):
    message = MessageFactory(owner=user)
    dispatcher.dispatch(worker="w", seconds=10)
    MessageEventFactory(message=message, source="android", kind="delivered", status="DELIVERED", external_id="e1")

    body = api.get(f"/api/v1/messages/{message.pk}").json()

    assert [(e["source"], e["kind"]) for e in body["events"]] == [("dispatcher", "sent"), ("android", "delivered")]


def test_a_queued_message_can_be_cancelled(api, user, locmem_gateway):
    message = MessageFactory(owner=user)

    response = api.post(f"/api/v1/messages/{message.pk}/cancel")
    dispatcher.dispatch(worker="w", seconds=10)

    assert response.status_code == 200
    assert response.json()["status"] == "CANCELLED"
    assert locmem_gateway.outbox == []


@pytest.mark.parametrize("status", ["SENDING", "SENT", "DELIVERED", "FAILED", "CANCELLED"])
def test_only_a_queued_message_can_be_cancelled(api, user, status):
    message = MessageFactory(owner=user, status=status)

    response = api.post(f"/api/v1/messages/{message.pk}/cancel")

    assert response.status_code == 409
    assert response.json()["error"]["details"] == {"status": status}


@pytest.mark.parametrize(("method", "suffix"), [("get", ""), ("post", "/cancel")])
def test_another_users_message_is_404(api, other_user, method, suffix):
    message = MessageFactory(owner=other_user)

    assert getattr(api, method)(f"/api/v1/messages/{message.pk}{suffix}").status_code == 404
    assert Message.objects.get(pk=message.pk).status == "QUEUED"


def test_a_task_reports_queued_running_and_succeeded_with_counts(api, user, locmem_gateway):
    task_url = api.post(
        "/api/v1/messages/batch", {"content": "Hi", "recipients": [{"phone": "+447400000001"}]}, format="json"
    ).json()["task_url"]

    queued = api.get(task_url).json()
    dispatcher.dispatch(worker="w", seconds=10)
    done = api.get(task_url).json()

    assert (queued["status"], queued["counts"]["QUEUED"], queued["done"]) == ("QUEUED", 1, 0)
    assert (done["status"], done["counts"]["SENT"], done["done"]) == ("SUCCEEDED", 1, 1)


def test_a_task_whose_messages_all_failed_reports_failed_with_errors(api, user):
    task = TaskRecord.objects.create(owner=user, kind="batch", total=2)
    MessageFactory.create_batch(2, owner=user, task=task, status="FAILED", error="bad number")

    body = api.get(f"/api/v1/tasks/{task.pk}").json()

    assert body["status"] == "FAILED"
    assert [e["error"] for e in body["errors"]] == ["bad number", "bad number"]


def test_a_task_in_progress_is_running(api, user):
    task = TaskRecord.objects.create(owner=user, kind="batch", total=2)
    MessageFactory(owner=user, task=task, status="SENT")
    MessageFactory(owner=user, task=task, status="QUEUED")

    assert api.get(f"/api/v1/tasks/{task.pk}").json()["status"] == "RUNNING"


def test_another_users_task_is_404(api, other_user):
    task = TaskRecord.objects.create(owner=other_user, kind="send", total=0)

    assert api.get(f"/api/v1/tasks/{task.pk}").status_code == 404
