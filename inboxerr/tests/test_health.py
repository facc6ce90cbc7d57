from unittest import mock

import pytest
from django.db import OperationalError, connection
from django_q.tasks import async_task

from inboxerr.tests.factories import UserFactory


@pytest.fixture
def staff_client(client, db):
    client.force_login(UserFactory(is_staff=True))
    return client


def test_it_reports_a_reachable_database_and_the_queue_depth(staff_client):
    async_task("math.floor", 1.5)
    async_task("math.floor", 2.5)

    response = staff_client.get("/healthz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"] == {"ok": True}
    assert body["checks"]["queue"] == {"ok": True, "depth": 2}


def test_it_answers_503_when_the_database_is_unreachable(client, db, settings):
    # Staff sessions live in the database too: a monitor reads the details with the token.
    settings.HEALTHZ_TOKEN = "probe-secret"
    with mock.patch.object(connection, "cursor", side_effect=OperationalError("connection refused")):
        response = client.get("/healthz", HTTP_AUTHORIZATION="Bearer probe-secret")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "degraded"
    assert body["checks"]["database"]["ok"] is False
    assert "connection refused" in body["checks"]["database"]["error"]


def test_it_needs_no_authentication_and_is_never_cached(client, db):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert "no-cache" in response["Cache-Control"]


def test_anyone_learns_the_status_and_which_check_fails_but_no_details(client, db):
    error = OperationalError('connection to server at "db.internal" (10.1.2.3), port 5432 failed')
    with mock.patch.object(connection, "cursor", side_effect=error):
        down = client.get("/healthz")
    up = client.get("/healthz")

    assert down.status_code == 503
    assert set(down.json()) == {"status", "failing"}
    assert down.json()["status"] == "degraded"
    assert "database" in down.json()["failing"]
    assert (up.status_code, up.json()) == (200, {"status": "ok", "failing": []})
    assert b"db.internal" not in down.content
    assert b"5432" not in down.content


def test_a_user_who_is_not_staff_gets_no_details_either(client, user):
    client.force_login(user)

    assert "checks" not in client.get("/healthz").json()


@pytest.mark.parametrize(
    ("header", "details"),
    [("Bearer probe-secret", True), ("Bearer wrong", False), ("probe-secret", False), ("Token probe-secret", False)],
)
def test_the_healthz_token_opens_the_details(client, db, settings, header, details):
    settings.HEALTHZ_TOKEN = "probe-secret"

    body = client.get("/healthz", HTTP_AUTHORIZATION=header).json()

    assert ("checks" in body) is details


def test_without_a_healthz_token_no_bearer_opens_the_details(client, db, settings):
    settings.HEALTHZ_TOKEN = ""

    assert "checks" not in client.get("/healthz", HTTP_AUTHORIZATION="Bearer ").json()
