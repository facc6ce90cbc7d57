"""POST /api/v1/messages/send and /batch: validate, queue, answer 202; never call the gateway."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_q.models import OrmQ

from messaging.models import Message, OptOut, QuotaUsage, SendingLimits, TaskRecord
from templates.tests.factories import MessageTemplateFactory


def send(api, **body):
    return api.post("/api/v1/messages/send", body, format="json")


def batch(api, **body):
    return api.post("/api/v1/messages/batch", body, format="json")


def test_a_send_is_queued_and_answered_202_with_a_task_url(api, user, locmem_gateway):
    response = send(api, phone="07400 000001", content="Hello")

    assert response.status_code == 202
    body = response.json()
    message = Message.objects.get()
    assert body["message_ids"] == [str(message.pk)]
    assert body["task_url"].endswith(f"/api/v1/tasks/{body['task_id']}")
    assert response["Location"] == body["task_url"]
    assert (message.owner, message.phone, message.content, message.status) == (user, "+447400000001", "Hello", "QUEUED")
    assert message.task_id == TaskRecord.objects.get().pk
    assert locmem_gateway.outbox == []  # the request never calls the gateway


def our_statements(queries: CaptureQueriesContext) -> list[str]:
    """Those of the send itself: not the token's check, the dispatcher's wake-up (at most one a second), nor the
    PREPARE of a statement its connection runs for the first time."""
    ignored = "knox_authtoken|django_q_ormq|^PREPARE "
    return [q["sql"] for q in queries.captured_queries if not re.search(ignored, q["sql"])]


@pytest.mark.postgres  # elsewhere the statements run in turn
@pytest.mark.django_db(transaction=True)
def test_a_send_is_one_prepared_statement_that_screens_and_commits_the_task_the_message_and_the_count(api, user):
    api.get("/api/v1/auth/me")  # the token's use is noted once a minute: not by the sends below
    connection.close()  # a new connection, which has prepared nothing yet

    with CaptureQueriesContext(connection) as first:
        assert send(api, phone="+447400000001", content="Hi").status_code == 202
    with CaptureQueriesContext(connection) as second:
        assert send(api, phone="+447400000002", content="Hi").status_code == 202

    # The opt-outs and the limits are read in the statement that writes the task, the message and the quota's
    # count, committed on its own: nobody opted out and the user has no limits, so it wrote them. The
    # connection prepared it once, with the first send.
    assert [q["sql"].split(" ")[0] for q in first.captured_queries if "PREPARE" in q["sql"]] == ["PREPARE"]
    assert [sql.split("(")[0] for sql in our_statements(second)] == ["EXECUTE inboxerr_run_together_1"]
    assert len(our_statements(first)) == 1
    assert set(Message.objects.values_list("task_id", flat=True)) == set(
        TaskRecord.objects.values_list("pk", flat=True)
    )
    assert Message.objects.count() == TaskRecord.objects.count() == 2
    assert dict(QuotaUsage.objects.filter(owner=user).values_list("period", "parts")) == {"day": 2, "month": 2}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_send_to_an_opted_out_number_writes_nothing_and_is_refused_from_what_the_statement_found(api, user):
    OptOut.objects.create(owner=user, phone="+447400000001")
    api.get("/api/v1/auth/me")

    with CaptureQueriesContext(connection) as queries:
        response = send(api, phone="+447400000001", content="Hi")

    assert (response.status_code, response.json()["error"]["code"]) == (422, "opted_out")
    assert len(our_statements(queries)) == 1
    assert not TaskRecord.objects.exists()
    assert not Message.objects.exists()
    assert not QuotaUsage.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_limits_of_the_users_own_stop_the_screened_write_and_the_send_is_queued_once_under_them(api, user):
    SendingLimits.objects.create(owner=user, daily_parts=10)
    api.get("/api/v1/auth/me")

    with CaptureQueriesContext(connection) as queries:
        response = send(api, phone="+447400000001", content="Hi")

    assert response.status_code == 202
    # The screened write found the limits and wrote nothing; then, in a transaction, the write under them.
    statements = [sql for sql in our_statements(queries) if sql.startswith("EXECUTE")]
    assert len(statements) == 2, our_statements(queries)
    assert (TaskRecord.objects.count(), Message.objects.count()) == (1, 1)
    assert dict(QuotaUsage.objects.filter(owner=user).values_list("period", "parts")) == {"day": 1, "month": 1}


def test_the_dispatcher_is_woken_once_for_many_sends(api, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(5):
            assert send(api, phone="+447400000001", content="Hi").status_code == 202

    assert [q.func() for q in OrmQ.objects.all()] == ["messaging.tasks.dispatch"]


def test_a_template_is_rendered_with_the_variables(api, user):
    template = MessageTemplateFactory(owner=user, content="Hi {{ name }}, code {{ code|default:'none' }}")

    response = send(api, phone="+447400000001", template_id=template.pk, variables={"name": "Ann"})

    assert response.status_code == 202
    assert Message.objects.get().content == "Hi Ann, code none"


def test_missing_variables_are_a_400_listing_them(api, user):
    template = MessageTemplateFactory(owner=user, content="Hi {{ name }} {{ code }}")

    response = send(api, phone="+447400000001", template_id=template.pk, variables={})

    assert response.status_code == 400
    assert response.json()["error"]["details"]["missing"] == ["code", "name"]
    assert not Message.objects.exists()


def test_parts_are_counted(api):
    send(api, phone="+447400000001", content="€" * 100)

    assert Message.objects.get().parts_count == 2


def test_a_future_time_makes_the_message_wait(api):
    later = timezone.now() + timedelta(hours=1)

    send(api, phone="+447400000001", content="Hi", scheduled_at=later.isoformat())

    assert abs((Message.objects.get().next_attempt_at - later).total_seconds()) < 1


@pytest.mark.parametrize("phone", ["12345", "not a number", "+999 123", ""])
def test_an_invalid_number_is_a_400_and_nothing_is_created(api, phone):
    response = send(api, phone=phone, content="Hi")

    assert response.status_code == 400
    assert not Message.objects.exists()
    assert not TaskRecord.objects.exists()


def test_an_opted_out_number_is_refused_with_422(api, user):
    OptOut.objects.create(owner=user, phone="+447400000001")

    response = send(api, phone="07400 000001", content="Hi")

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "opted_out"
    assert not Message.objects.exists()


def test_another_owners_opt_out_does_not_block(api, other_user):
    OptOut.objects.create(owner=other_user, phone="+447400000001")

    assert send(api, phone="+447400000001", content="Hi").status_code == 202


@pytest.mark.parametrize("body", [{}, {"content": "Hi", "template_id": 1}])
def test_exactly_one_of_content_and_template(api, user, body):
    if "template_id" in body:
        body["template_id"] = MessageTemplateFactory(owner=user).pk

    response = send(api, phone="+447400000001", **body)

    assert response.status_code == 400
    assert set(response.json()["error"]["details"]) == {"content", "template_id"}


def test_another_users_template_is_refused(api, other_user):
    response = send(api, phone="+447400000001", template_id=MessageTemplateFactory(owner=other_user).pk)

    assert response.status_code == 400
    assert "template_id" in response.json()["error"]["details"]


def test_a_batch_queues_one_message_per_recipient_with_its_variables(api, user):
    template = MessageTemplateFactory(owner=user, content="Hi {{ name }}")
    recipients = [{"phone": f"+44740000000{i}", "variables": {"name": f"N{i}"}} for i in range(3)]

    response = batch(api, template_id=template.pk, recipients=recipients)

    assert response.status_code == 202
    assert len(response.json()["message_ids"]) == 3
    assert dict(Message.objects.values_list("phone", "content")) == {f"+44740000000{i}": f"Hi N{i}" for i in range(3)}
    assert TaskRecord.objects.get().total == 3


def test_a_batch_lists_every_invalid_number_by_index_and_creates_nothing(api):
    recipients = [{"phone": "+447400000001"}, {"phone": "123"}, {"phone": "+447400000002"}, {"phone": "abc"}]

    response = batch(api, content="Hi", recipients=recipients)

    assert response.status_code == 400
    invalid = response.json()["error"]["details"]["invalid"]
    assert [(i["index"], i["phone"]) for i in invalid] == [(1, "123"), (3, "abc")]
    assert not Message.objects.exists()


def test_a_batch_skips_opted_out_recipients_with_a_reason(api, user):
    OptOut.objects.create(owner=user, phone="+447400000002")

    response = batch(api, content="Hi", recipients=[{"phone": "+447400000001"}, {"phone": "+447400000002"}])

    assert response.status_code == 202
    assert response.json()["skipped"] == [{"index": 1, "phone": "+447400000002", "reason": "opted_out"}]
    assert list(Message.objects.values_list("phone", flat=True)) == ["+447400000001"]
    # Queued once, after the screened write that found the opt-out wrote nothing.
    assert TaskRecord.objects.get().total == 1
    assert dict(QuotaUsage.objects.filter(owner=user).values_list("period", "parts")) == {"day": 1, "month": 1}


def test_a_batch_over_a_thousand_recipients_is_refused(api):
    response = batch(api, content="Hi", recipients=[{"phone": "+447400000001"}] * 1001)

    assert response.status_code == 400
    assert "recipients" in response.json()["error"]["details"]
    assert not Message.objects.exists()


def test_an_empty_batch_is_refused(api):
    assert batch(api, content="Hi", recipients=[]).status_code == 400


def test_the_202_answer_is_what_its_serializer_fields_make_of_it(api, user, rf):
    from rest_framework import serializers

    from messaging.serializers import QueuedSerializer
    from messaging.services import Queued

    OptOut.objects.create(owner=user, phone="+447400000002")
    response = batch(api, content="Hi", recipients=[{"phone": "+447400000001"}, {"phone": "+447400000002"}])
    task = TaskRecord.objects.get()
    queued = Queued(
        task=task,
        message_ids=list(Message.objects.values_list("id", flat=True)),
        skipped=[{"index": 1, "phone": "+447400000002", "reason": "opted_out"}],
    )
    context = {"request": rf.post("/api/v1/messages/batch")}

    through_fields = serializers.Serializer.to_representation(QueuedSerializer(queued, context=context), queued)

    assert QueuedSerializer(queued, context=context).data == through_fields
    assert response.json() == {**through_fields, "task_url": response.json()["task_url"]}
    assert response.json()["task_url"].endswith(through_fields["task_url"].split("testserver", 1)[1])
