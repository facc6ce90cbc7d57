"""A name is unique per owner: a clash is a 400 on `name`, whether seen before the insert or by the database."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections, transaction

from templates import services
from templates.models import MessageTemplate
from templates.tests.factories import MessageTemplateFactory

URL = "/api/v1/templates/"


def test_a_name_already_used_by_the_owner_is_a_400_on_name(api, user):
    MessageTemplateFactory(owner=user, name="Welcome")

    response = api.post(URL, {"name": "Welcome", "content": "Hi"}, format="json")

    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "invalid",
        "message": "Invalid input: name.",
        "details": {"name": ['You already have a template named "Welcome".']},
    }
    assert MessageTemplate.objects.count() == 1


def test_renaming_to_a_name_already_used_is_a_400_on_name(api, user):
    MessageTemplateFactory(owner=user, name="Welcome")
    other = MessageTemplateFactory(owner=user, name="Reminder")

    response = api.patch(f"{URL}{other.pk}", {"name": "Welcome"}, format="json")

    assert response.status_code == 400
    assert list(response.json()["error"]["details"]) == ["name"]
    other.refresh_from_db()
    assert other.name == "Reminder"


def test_a_template_keeps_its_own_name_on_update(api, user):
    template = MessageTemplateFactory(owner=user, name="Welcome")

    response = api.patch(f"{URL}{template.pk}", {"name": "Welcome", "description": "d"}, format="json")

    assert response.status_code == 200


def test_another_users_name_is_free(api, other_user):
    MessageTemplateFactory(owner=other_user, name="Welcome")

    assert api.post(URL, {"name": "Welcome", "content": "Hi"}, format="json").status_code == 201


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_name_taken_by_a_concurrent_insert_is_the_same_400(user):
    """Another transaction inserts the name after our check: the unique index is what refuses ours."""
    inserted, ours_waiting, done = threading.Event(), threading.Event(), threading.Event()
    blocked = []

    def other_request():
        try:
            with transaction.atomic():
                MessageTemplate.objects.create(owner=user, name="Welcome", content="Hi")
                inserted.set()
                ours_waiting.wait(timeout=10)
        finally:
            connections.close_all()
            done.set()

    def our_insert_waits() -> None:
        # Poll from a third connection until our INSERT blocks on the other one's uncommitted row.
        with connections["default"].temporary_connection() as cursor:
            for _ in range(200):
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = %s",
                    [connection.settings_dict["NAME"]],
                )
                if cursor.fetchone()[0]:
                    blocked.append(True)
                    break
                done.wait(0.05)
        ours_waiting.set()

    thread = threading.Thread(target=other_request)
    thread.start()
    assert inserted.wait(timeout=10)
    watcher = threading.Thread(target=lambda: (our_insert_waits(), connections.close_all()))
    watcher.start()

    with pytest.raises(services.TemplateFieldError) as error:
        services.template_create(owner_id=user.pk, name="Welcome", content="Hello again")

    thread.join()
    watcher.join()
    assert blocked, "our INSERT never waited on the other transaction: the race was not exercised"
    assert error.value.details == {"name": ['You already have a template named "Welcome".']}
    assert list(MessageTemplate.objects.values_list("content", flat=True)) == ["Hi"]
