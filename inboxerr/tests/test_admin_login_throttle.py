"""Password guessing is cut short: a username tried too often from one address, or an address trying too
often, gets no password check; nobody can lock a username for everyone."""

from __future__ import annotations

import socket
import uuid

import pytest
from django.contrib.auth.hashers import MD5PasswordHasher
from django.test import Client, override_settings
from knox.models import AuthToken
from rest_framework.test import APIClient

from inboxerr.login_lockout import ADDRESS_FACTOR
from inboxerr.tests.factories import UserFactory

PASSWORD = "correct horse battery staple"
LOCKED = "Too many failed login attempts"


class CountingHasher(MD5PasswordHasher):
    """The test hasher, counting how often a password is checked."""

    verified = 0

    def verify(self, password, encoded):
        CountingHasher.verified += 1
        return super().verify(password, encoded)


@pytest.fixture
def alice(db):
    return UserFactory(username="alice", is_staff=True, is_superuser=True)


@pytest.fixture
def bob(db):
    return UserFactory(username="bob", is_staff=True, is_superuser=True)


def admin_login(username: str, password: str, address: str = "10.0.0.1", **headers):
    """A fresh browser at `address` posting the admin's login form; its client, to see if it got in."""
    client = Client(REMOTE_ADDR=address, **headers)
    response = client.post("/admin/login/?next=/admin/", {"username": username, "password": password})
    return client, response


def logged_in(client: Client) -> bool:
    return client.get("/admin/").status_code == 200


def fail(username: str, times: int = 5, address: str = "10.0.0.1") -> None:
    for _ in range(times):
        _, response = admin_login(username, "wrong password", address)
        assert response.status_code == 200  # the form again, with its error


def test_four_failures_still_allow_the_right_password(alice):
    fail("alice", times=4)

    client, response = admin_login("alice", PASSWORD)

    assert response.status_code == 302
    assert logged_in(client)


def test_five_failures_lock_the_username_from_that_address_with_a_clear_message(alice):
    fail("alice")

    client, response = admin_login("alice", PASSWORD)

    assert response.status_code == 200
    assert LOCKED in response.content.decode()
    assert "Try again in 15 minutes" in response.content.decode()
    assert not logged_in(client)


def test_failing_on_purpose_from_one_address_does_not_keep_the_user_out_from_another(alice):
    fail("alice", address="203.0.113.66")

    client, response = admin_login("alice", PASSWORD, address="10.0.0.2")

    assert response.status_code == 302
    assert logged_in(client)


def test_the_fifth_failure_already_says_the_username_is_locked(alice):
    fail("alice", times=4)

    _, response = admin_login("alice", "wrong password")

    assert LOCKED in response.content.decode()


def test_a_locked_login_checks_no_password(alice, settings):
    settings.PASSWORD_HASHERS = [f"{CountingHasher.__module__}.CountingHasher"]
    alice.set_password(PASSWORD)
    alice.save()
    fail("alice")
    checked = CountingHasher.verified

    for password in ["wrong password", PASSWORD, "another guess"]:
        admin_login("alice", password)

    assert checked >= 5  # the hasher was counting
    assert CountingHasher.verified == checked


def test_case_does_not_make_a_new_username(alice):
    fail("ALICE", times=3)
    fail("Alice", times=2)

    client, _ = admin_login("alice", PASSWORD)

    assert not logged_in(client)


def test_a_username_that_does_not_exist_locks_the_same_way(db):
    fail("ghost", times=4)

    _, response = admin_login("ghost", "wrong password")

    assert LOCKED in response.content.decode()


def test_a_locked_username_does_not_block_other_users(alice, bob):
    fail("alice")

    client, response = admin_login("bob", PASSWORD, address="10.0.0.2")

    assert response.status_code == 302
    assert logged_in(client)


def test_failures_from_one_address_lock_that_address_for_every_username(alice, bob):
    for n in range(5 * ADDRESS_FACTOR):
        fail(f"x{n}", times=1, address="10.0.0.1")

    same_address, response = admin_login("bob", PASSWORD, address="10.0.0.1")
    other_address, _ = admin_login("bob", PASSWORD, address="10.0.0.2")

    assert LOCKED in response.content.decode()
    assert not logged_in(same_address)
    assert logged_in(other_address)


def test_x_forwarded_for_does_not_make_a_new_address(alice, bob):
    for n in range(5 * ADDRESS_FACTOR):
        admin_login(f"x{n}", "wrong password", "10.0.0.1", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}")

    client, response = admin_login("bob", PASSWORD, "10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.200")

    assert LOCKED in response.content.decode()
    assert not logged_in(client)


def test_a_successful_login_forgets_the_usernames_failures(alice):
    fail("alice", times=4)
    first, _ = admin_login("alice", PASSWORD)
    fail("alice", times=4)

    client, _ = admin_login("alice", PASSWORD)

    assert logged_in(first)
    assert logged_in(client)


def test_guesses_sent_at_once_are_counted_before_any_password_is_checked(alice, settings, monkeypatch):
    """Each try is counted before its password check, so guesses arriving together cannot all be checked."""
    from inboxerr import login_lockout

    settings.PASSWORD_HASHERS = [f"{CountingHasher.__module__}.CountingHasher"]
    alice.set_password(PASSWORD)
    alice.save()
    # As if every guess had passed the lock check before any had failed: the check alone lets them all in.
    monkeypatch.setattr(login_lockout, "login_is_locked", lambda **kwargs: False)
    before = CountingHasher.verified

    for n in range(8):
        admin_login("alice", f"guess {n}")

    assert CountingHasher.verified - before == 5


def test_the_lock_ends_with_its_window(alice, settings, monkeypatch):
    from django.core.cache.backends import locmem

    settings.LOGIN_THROTTLE_WINDOW_SECONDS = 60
    fail("alice")
    locked, _ = admin_login("alice", PASSWORD)

    now = locmem.time.time()
    monkeypatch.setattr(locmem.time, "time", lambda: now + 61)  # the cache's clock, a minute on
    client, _ = admin_login("alice", PASSWORD)

    assert not logged_in(locked)
    assert logged_in(client)


def test_the_limit_comes_from_settings(alice, settings):
    settings.LOGIN_THROTTLE_FAILURES = 2
    fail("alice", times=2)

    client, _ = admin_login("alice", PASSWORD)

    assert not logged_in(client)


def test_a_limit_of_zero_never_locks(alice, settings):
    settings.LOGIN_THROTTLE_FAILURES = 0
    fail("alice", times=10)

    client, _ = admin_login("alice", PASSWORD)

    assert logged_in(client)


def test_a_non_staff_user_with_the_right_password_is_still_turned_away(db):
    UserFactory(username="carol")

    client, response = admin_login("carol", PASSWORD)

    assert response.status_code == 200
    assert not logged_in(client)


# --- The browsable API's login and the token endpoint share the lock ---------


def api_auth_login(username: str, password: str, address: str = "10.0.0.1"):
    client = Client(REMOTE_ADDR=address)
    response = client.post("/api-auth/login/?next=/api/v1/", {"username": username, "password": password})
    return client, response


def test_the_browsable_api_login_locks_after_five_failures(alice):
    for _ in range(5):
        api_auth_login("alice", "wrong password")

    client, response = api_auth_login("alice", PASSWORD)

    assert response.status_code == 200
    assert LOCKED in response.content.decode()
    assert client.get("/api/v1/auth/me").status_code in {401, 403}


def test_the_browsable_api_login_still_works(alice):
    client, response = api_auth_login("alice", PASSWORD)

    assert response.status_code == 302
    assert client.get("/api/v1/auth/me").json()["username"] == "alice"


def test_a_username_locked_in_the_admin_gets_no_api_token(alice):
    fail("alice")

    response = APIClient(REMOTE_ADDR="10.0.0.1").post("/api/v1/auth/token", {"username": "alice", "password": PASSWORD})

    assert response.status_code == 401
    assert not AuthToken.objects.exists()


def test_failures_at_the_token_endpoint_lock_the_admin_login(alice):
    api = APIClient(REMOTE_ADDR="10.0.0.1")
    for _ in range(5):
        api.post("/api/v1/auth/token", {"username": "alice", "password": "wrong password"})

    client, _ = admin_login("alice", PASSWORD)

    assert not logged_in(client)


def test_the_token_throttle_counts_the_connecting_address_not_x_forwarded_for(db):
    api = APIClient(REMOTE_ADDR="10.0.0.1")
    codes = [
        api.post(
            "/api/v1/auth/token", {"username": f"u{n}", "password": "x"}, HTTP_X_FORWARDED_FOR=f"203.0.113.{n}"
        ).status_code
        for n in range(11)
    ]

    assert codes[-1] == 429


# --- Shared between web nodes through Redis ------------------------------------


def redis_is_up() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=0.5).close()
    except OSError:
        return False
    return True


@pytest.mark.skipif(not redis_is_up(), reason="needs Redis at 127.0.0.1:6379")
def test_with_redis_the_counts_live_in_redis_where_every_node_sees_them(alice):
    import redis

    prefix = f"throttle-test-{uuid.uuid4().hex}"
    location = "redis://127.0.0.1:6379/13"
    cache = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": location, "KEY_PREFIX": prefix}
    raw = redis.Redis.from_url(location)
    try:
        with override_settings(CACHES={"default": cache}):
            fail("alice")
            client, _ = admin_login("alice", PASSWORD)
            stored = list(raw.scan_iter(match=f"{prefix}:*"))

        assert not logged_in(client)
        assert len(stored) == 2  # one count for the username from that address, one for the address
        assert {int(raw.get(key)) for key in stored} == {5}
    finally:
        keys = list(raw.scan_iter(match=f"{prefix}:*"))
        if keys:
            raw.delete(*keys)
