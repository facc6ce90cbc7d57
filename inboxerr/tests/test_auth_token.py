import hashlib

import pytest
from django.db import connection
from knox.models import AuthToken

from inboxerr.tests.factories import UserFactory

PASSWORD = "correct horse battery staple"


@pytest.fixture
def anon():
    from rest_framework.test import APIClient

    return APIClient()


def test_it_exchanges_a_username_and_password_for_a_working_token(anon, user):
    response = anon.post("/api/v1/auth/token", {"username": user.username, "password": PASSWORD}, format="json")

    assert response.status_code == 201
    token = response.json()["token"]
    assert response.json()["user"]["username"] == user.username
    anon.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    me = anon.get("/api/v1/auth/me")
    assert me.status_code == 200
    assert me.json()["username"] == user.username


def test_it_stores_only_a_hash_of_the_token(anon, user):
    token = anon.post("/api/v1/auth/token", {"username": user.username, "password": PASSWORD}).json()["token"]

    stored = AuthToken.objects.get(user=user)
    assert stored.digest == hashlib.sha512(token.encode()).hexdigest()
    with connection.cursor() as cursor:
        cursor.execute("SELECT digest, token_key FROM knox_authtoken")
        for row in cursor.fetchall():
            assert token not in row


def test_it_refuses_a_wrong_password_with_401_in_the_error_shape(anon, user):
    response = anon.post("/api/v1/auth/token", {"username": user.username, "password": "nope"})

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"
    assert not AuthToken.objects.exists()


def test_it_refuses_requests_without_a_token(anon, db):
    response = anon.get("/api/v1/auth/me")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_it_refuses_a_revoked_or_made_up_token(anon, user):
    anon.credentials(HTTP_AUTHORIZATION="Token " + "0" * 64)

    assert anon.get("/api/v1/auth/me").status_code == 401


def test_it_throttles_token_requests(anon, user):
    codes = [
        anon.post("/api/v1/auth/token", {"username": user.username, "password": "nope"}).status_code for _ in range(11)
    ]

    assert codes[:10] == [401] * 10
    assert codes[10] == 429


@pytest.mark.parametrize("method", ["put", "patch", "post", "delete"])
def test_nobody_makes_themselves_staff_through_me(api, user, method):
    response = getattr(api, method)("/api/v1/auth/me", {"is_staff": True, "is_superuser": True}, format="json")

    assert response.status_code == 405
    user.refresh_from_db()
    assert not user.is_staff
    assert not user.is_superuser


def test_the_browsable_api_works_with_a_session(client, user):
    client.force_login(user)

    response = client.get("/api/v1/", HTTP_ACCEPT="text/html")

    assert response.status_code == 200
    assert b"Api Root" in response.content


def test_create_api_user_prints_a_token_that_authenticates(db, capsys):
    from django.core.management import call_command
    from rest_framework.test import APIClient

    call_command("create_api_user", "carol", "--superuser")

    out = capsys.readouterr().out
    token = next(line.split()[-1] for line in out.splitlines() if line.startswith("token:"))
    assert "password:" in out
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/v1/auth/me").json()["is_staff"] is True


def test_another_users_token_sees_that_user_only(db):
    from conftest import token_client

    alice, bob = UserFactory(), UserFactory()

    assert token_client(alice).get("/api/v1/auth/me").json()["username"] == alice.username
    assert token_client(bob).get("/api/v1/auth/me").json()["username"] == bob.username
