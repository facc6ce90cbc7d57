"""A message is at most SMS_MAX_PARTS parts: longer sends and batch items are a 400 naming the field and
the parts, and nothing is queued; parts_count can never overflow."""

from __future__ import annotations

import pytest

from messaging.models import Message, TaskRecord
from templates.tests.factories import MessageTemplateFactory

GSM_PART, UCS2_PART = 153, 67


def send(api, **body):
    return api.post("/api/v1/messages/send", body, format="json")


def batch(api, **body):
    return api.post("/api/v1/messages/batch", body, format="json")


def test_ten_parts_are_sent(api):
    response = send(api, phone="07400 000001", content="x" * (10 * GSM_PART))

    assert response.status_code == 202
    assert Message.objects.get().parts_count == 10


@pytest.mark.parametrize(
    ("content", "parts"), [("x" * (10 * GSM_PART + 1), 11), ("ж" * (10 * UCS2_PART + 1), 11)], ids=["gsm", "ucs2"]
)
def test_an_eleventh_part_is_a_400_naming_the_field_and_the_parts(api, content, parts):
    response = send(api, phone="07400 000001", content=content)

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "too_many_parts"
    assert error["details"] == {"field": "content", "parts": parts, "max_parts": 10}
    assert not Message.objects.exists()
    assert not TaskRecord.objects.exists()


def test_the_message_that_overflowed_parts_count_is_a_400_not_a_500(api):
    # 2.4 million characters with one emoji: UCS-2, about 36,000 parts, past a smallint.
    response = send(api, phone="07400 000001", content="😀" + "x" * 2_400_000)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "too_many_parts"


def test_a_template_that_long_values_push_over_the_limit_refuses_that_send(api, user):
    template = MessageTemplateFactory(owner=user, content="Dear {{ name }}")

    short = send(api, phone="07400 000001", template_id=template.pk, variables={"name": "Ann"})
    long = send(api, phone="07400 000002", template_id=template.pk, variables={"name": "n" * 2000})

    assert short.status_code == 202
    assert long.status_code == 400
    assert long.json()["error"]["details"] == {"field": "template_id", "parts": 14, "max_parts": 10}
    assert Message.objects.count() == 1


def test_a_batch_with_items_over_the_limit_names_each_and_queues_none(api, user):
    template = MessageTemplateFactory(owner=user, content="Dear {{ name }}")
    recipients = [
        {"phone": "07400 000001", "variables": {"name": "Ann"}},
        {"phone": "07400 000002", "variables": {"name": "n" * 2000}},
        {"phone": "07400 000003", "variables": {"name": "Bob"}},
        {"phone": "07400 000004", "variables": {"name": "ж" * 700}},
    ]

    response = batch(api, template_id=template.pk, recipients=recipients)

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "too_many_parts"
    assert error["message"] == "2 of 4 messages would be over 10 SMS parts."
    assert error["details"] == {
        "too_long": [
            {"index": 1, "phone": "+447400000002", "parts": 14},
            {"index": 3, "phone": "+447400000004", "parts": 11},
        ],
        "max_parts": 10,
    }
    assert not Message.objects.exists()


def test_the_limit_comes_from_settings(api, settings):
    settings.SMS_MAX_PARTS = 1

    assert send(api, phone="07400 000001", content="x" * 160).status_code == 202
    assert send(api, phone="07400 000001", content="x" * 161).status_code == 400
