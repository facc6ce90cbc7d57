"""Owners list, add and remove opt-outs; adding one cancels what is still queued to that number."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from messaging.models import Message, OptOut
from messaging.tests.factories import MessageFactory, OptOutFactory

URL = "/api/v1/opt-outs/"
PHONE = "+447400000001"
S = Message.Status


@pytest.fixture(autouse=True)
def gb_numbers(settings):
    settings.PHONE_DEFAULT_REGION = "GB"


def add(api, phone: str):
    return api.post(URL, {"phone": phone}, format="json")


def test_the_list_shows_only_my_opt_outs(api, user, other_user):
    mine = OptOutFactory(owner=user, phone=PHONE)
    OptOutFactory(owner=other_user, phone="+447400000002")
    OptOutFactory(owner=other_user, phone=PHONE)

    response = api.get(URL)

    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [mine.pk]
    assert response.json()["results"][0]["phone"] == PHONE


def test_the_list_needs_a_token(client, user):
    OptOutFactory(owner=user)

    assert client.get(URL).status_code == 401


def test_a_national_number_is_stored_in_e164(api, user):
    response = add(api, "07400 000001")

    assert response.status_code == 201
    assert response.json()["phone"] == PHONE
    assert response.json()["source"] == "api"
    opt_out = OptOut.objects.get()
    assert (opt_out.owner, opt_out.phone, opt_out.source) == (user, PHONE, "api")


def test_adding_a_number_twice_keeps_one_opt_out(api, user):
    first = add(api, "07400 000001")

    second = add(api, "+44 7400 000001")

    assert second.status_code == 201
    assert second.json()["id"] == first.json()["id"]
    assert OptOut.objects.filter(owner=user, phone=PHONE).count() == 1


def test_two_owners_may_opt_out_the_same_number(api, other_api):
    assert add(api, PHONE).status_code == 201
    assert add(other_api, PHONE).status_code == 201

    assert OptOut.objects.filter(phone=PHONE).count() == 2


@pytest.mark.parametrize("phone", ["not a number", "0740", "+44 12"])
def test_an_invalid_number_is_a_400_naming_it(api, phone):
    response = add(api, phone)

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_recipients"
    assert [row["phone"] for row in error["details"]["invalid"]] == [phone]
    assert not OptOut.objects.exists()


def test_a_missing_number_is_a_400(api):
    response = api.post(URL, {}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert "phone" in response.json()["error"]["details"]


def test_adding_cancels_my_queued_messages_to_that_number_only(api, user, other_user):
    queued = MessageFactory(owner=user, phone=PHONE)
    sent = MessageFactory(owner=user, phone=PHONE, status=S.SENT, sent_at=datetime(2025, 3, 1, tzinfo=UTC))
    to_someone_else = MessageFactory(owner=user, phone="+447400000002")
    theirs = MessageFactory(owner=other_user, phone=PHONE)

    add(api, "07400 000001")

    statuses = {m.pk: m.status for m in Message.objects.all()}
    assert statuses == {queued.pk: S.CANCELLED, sent.pk: S.SENT, to_someone_else.pk: S.QUEUED, theirs.pk: S.QUEUED}
    assert Message.objects.get(pk=queued.pk).error == "opted_out"


def test_delete_removes_my_opt_out(api, user):
    opt_out = OptOutFactory(owner=user, phone=PHONE)

    response = api.delete(f"{URL}{opt_out.pk}/")

    assert response.status_code == 204
    assert not OptOut.objects.exists()


def test_another_users_opt_out_is_a_404_on_delete_and_stays(api, other_user):
    theirs = OptOutFactory(owner=other_user, phone=PHONE)

    response = api.delete(f"{URL}{theirs.pk}/")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert OptOut.objects.filter(pk=theirs.pk).exists()
