"""POST /api/v1/messages/batch: over the limit, or with bad numbers at known indexes: all refused, nothing created."""

from __future__ import annotations

from messaging.services import MAX_BATCH
from templates.tests.factories import MessageTemplateFactory
from tests.bad_input.dbstate import changed_rows, row_counts

BATCH = "/api/v1/messages/batch"


def recipients(n: int) -> list[dict]:
    return [{"phone": f"+4474000{i:05d}"} for i in range(n)]


def test_one_recipient_over_the_limit_refuses_the_whole_batch(api, before):
    response = api.post(BATCH, {"content": "Hi", "recipients": recipients(MAX_BATCH + 1)}, format="json")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert error["details"] == {
        "recipients": {"non_field_errors": [f"Ensure this field has no more than {MAX_BATCH} elements."]}
    }
    assert changed_rows(before) == {}


def test_exactly_the_limit_is_accepted(api, before):
    response = api.post(BATCH, {"content": "Hi", "recipients": recipients(MAX_BATCH)}, format="json")

    assert response.status_code == 202
    # The user's usage for the day and the month counts the batch's parts.
    assert changed_rows(before) == {
        "messaging.TaskRecord": 1,
        "messaging.Message": MAX_BATCH,
        "messaging.QuotaUsage": 2,
    }


def test_an_empty_batch_is_refused(api, before):
    response = api.post(BATCH, {"content": "Hi", "recipients": []}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["details"] == {"recipients": {"non_field_errors": ["This list may not be empty."]}}
    assert changed_rows(before) == {}


def test_invalid_numbers_are_listed_by_index_and_nothing_is_queued(api, before):
    batch = recipients(MAX_BATCH)
    bad = {0: "12345", 17: "not a phone", 500: "+44 7400 12345", 999: "+44 20 7946 000"}
    for index, phone in bad.items():
        batch[index] = {"phone": phone}

    response = api.post(BATCH, {"content": "Hi", "recipients": batch}, format="json")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_recipients"
    assert error["message"] == f"4 of {MAX_BATCH} phone numbers are not valid."
    assert [(i["index"], i["phone"]) for i in error["details"]["invalid"]] == list(bad.items())
    assert error["details"]["invalid"][1]["message"] == "'not a phone' is not a phone number."
    assert changed_rows(before) == {}


def test_a_recipient_of_the_wrong_shape_is_named_by_its_position(api, before):
    batch = recipients(3)
    batch[1] = {"phone": ["+447400000001"], "variables": "none"}

    response = api.post(BATCH, {"content": "Hi", "recipients": batch}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["details"] == {
        "recipients": {
            "1": {"phone": ["Not a valid string."], "variables": ['Expected a dictionary of items but got type "str".']}
        }
    }
    assert changed_rows(before) == {}


def test_recipients_that_are_not_a_list_are_refused(api, before):
    response = api.post(BATCH, {"content": "Hi", "recipients": {"phone": "+447400000001"}}, format="json")

    assert response.status_code == 400
    assert "recipients" in response.json()["error"]["details"]
    assert changed_rows(before) == {}


def test_a_missing_variable_for_one_recipient_refuses_the_batch(api, user):
    template = MessageTemplateFactory(owner=user, content="Hi {{ first }}")
    before = row_counts()
    batch = [{"phone": "+447400000001", "variables": {"first": "Ann"}}, {"phone": "+447400000002"}]

    response = api.post(BATCH, {"template_id": template.pk, "recipients": batch}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["details"] == {"missing": ["first"]}
    assert changed_rows(before) == {}
