"""API tokens end when asked (this one, or all), when the password changes or the account is deactivated,
and past API_TOKENS_PER_USER; a user lists theirs with when each was last used, and staff list and revoke."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from inboxerr.models import TokenUse
from inboxerr.tests.factories import UserFactory
from inboxerr.tokens import token_create

PASSWORD = "correct horse battery staple"


def client_with(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def works(token: str) -> bool:
    return client_with(token).get("/api/v1/auth/me").status_code == 200


@pytest.fixture
def tokens(user):
    return [token_create(user_id=user.pk)[1] for _ in range(3)]


def test_logout_ends_the_token_it_is_made_with_and_no_other(tokens):
    response = client_with(tokens[0]).post("/api/v1/auth/logout")

    assert response.status_code == 204
    assert [works(token) for token in tokens] == [False, True, True]


def test_logout_all_ends_every_token_of_the_user_and_nobody_elses(tokens, other_user):
    theirs = token_create(user_id=other_user.pk)[1]

    response = client_with(tokens[1]).post("/api/v1/auth/logout-all")

    assert response.status_code == 204
    assert [works(token) for token in tokens] == [False, False, False]
    assert works(theirs)


def test_a_new_password_ends_every_token(user, tokens, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        user.set_password("a new password, long enough")
        user.save()

    assert [works(token) for token in tokens] == [False, False, False]
    assert not AuthToken.objects.filter(user=user).exists()


def test_a_deactivated_account_loses_its_tokens_for_good(user, tokens, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        user.is_active = False
        user.save()
    with django_capture_on_commit_callbacks(execute=True):
        user.is_active = True
        user.save()

    assert not AuthToken.objects.filter(user=user).exists()
    assert not works(tokens[0])


def test_saving_a_user_otherwise_keeps_their_tokens(user, tokens, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        user.email = "new@example.com"
        user.save()

    assert all(works(token) for token in tokens)


def test_a_login_past_the_cap_ends_the_oldest_token(user, settings):
    settings.API_TOKENS_PER_USER = 3
    user.set_password(PASSWORD)
    user.save()
    made = []
    for _ in range(4):
        response = APIClient().post("/api/v1/auth/token", {"username": user.username, "password": PASSWORD})
        assert response.status_code == 201
        made.append(response.json()["token"])

    assert [works(token) for token in made] == [False, True, True, True]
    assert AuthToken.objects.filter(user=user).count() == 3


def test_the_user_lists_their_tokens_with_when_each_was_last_used(user, tokens):
    me = client_with(tokens[0])
    me.get("/api/v1/auth/me")

    listed = me.get("/api/v1/auth/tokens/").json()

    assert len(listed) == 3
    current = [token for token in listed if token["current"]]
    assert len(current) == 1
    assert tokens[0].startswith(current[0]["key"])
    assert current[0]["last_used_at"] is not None
    assert {token["last_used_at"] for token in listed if not token["current"]} == {None}
    assert all(token["expires_at"] and token["created_at"] for token in listed)


def test_the_last_use_is_written_at_most_once_a_minute(user, tokens):
    me = client_with(tokens[0])
    me.get("/api/v1/auth/me")
    first = TokenUse.objects.get().last_used_at
    TokenUse.objects.update(last_used_at=first - timedelta(seconds=30))

    me.get("/api/v1/auth/me")

    assert TokenUse.objects.get().last_used_at == first - timedelta(seconds=30)


def test_the_user_revokes_one_token_by_its_key(user, tokens):
    me = client_with(tokens[0])
    key = AuthToken.objects.get(token_key=tokens[2][:15]).token_key

    assert me.delete(f"/api/v1/auth/tokens/{key}").status_code == 204
    assert [works(token) for token in tokens] == [True, True, False]
    assert me.delete(f"/api/v1/auth/tokens/{key}").status_code == 404


def test_an_expired_token_is_not_listed(user, tokens):
    AuthToken.objects.filter(token_key=tokens[1][:15]).update(expiry=timezone.now() - timedelta(seconds=1))

    assert len(client_with(tokens[0]).get("/api/v1/auth/tokens/").json()) == 2


def test_staff_list_tokens_with_their_last_use_and_revoke_them_but_cannot_make_one(client, user, tokens):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    token = AuthToken.objects.filter(user=user).first()

    listed = client.get("/admin/knox/authtoken/")
    add = client.get("/admin/knox/authtoken/add/")
    revoke = client.post(f"/admin/knox/authtoken/{token.pk}/delete/", {"post": "yes"})

    assert listed.status_code == 200
    assert "Last used" in listed.content.decode()
    assert add.status_code == 403
    assert revoke.status_code == 302
    assert not AuthToken.objects.filter(pk=token.pk).exists()


def test_create_api_user_with_a_new_password_ends_the_old_tokens_and_keeps_the_new_one(user, tokens):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("create_api_user", user.username, "--reset-password", stdout=out)
    new = out.getvalue().split("token:", 1)[1].split()[0]

    assert [works(token) for token in tokens] == [False, False, False]
    assert works(new)


class FastPBKDF2(PBKDF2PasswordHasher):
    """A newer hasher for the test (one iteration, so the test stays fast)."""

    iterations = 1


def test_a_password_re_hashed_at_login_keeps_the_users_tokens(user, tokens, settings):
    # Stored with the test hasher; then the deployment prefers another, so the next login re-hashes it.
    user.set_password(PASSWORD)
    user.save()
    kept = [token_create(user_id=user.pk)[1] for _ in range(2)]
    settings.PASSWORD_HASHERS = [f"{__name__}.FastPBKDF2", "django.contrib.auth.hashers.MD5PasswordHasher"]

    response = APIClient().post("/api/v1/auth/token", {"username": user.username, "password": PASSWORD})

    user.refresh_from_db()
    assert response.status_code == 201
    assert user.password.startswith("pbkdf2_sha256$1$")  # it was re-hashed
    assert all(works(token) for token in kept)
