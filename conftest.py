"""Fixtures shared by every app's tests."""

from __future__ import annotations

import os

import pytest
from django.core.cache import cache
from knox.models import AuthToken
from rest_framework.test import APIClient

from inboxerr import debounce
from inboxerr.tests.factories import UserFactory


@pytest.fixture(autouse=True)
def _clear_cache():
    # Throttle counters and debounced wake-ups live in the cache; each test starts with none.
    cache.clear()
    debounce.reset()
    yield
    cache.clear()
    debounce.reset()


@pytest.fixture(autouse=True)
def _fresh_webhook_subscribers():
    # Which owners have webhook endpoints is cached per process for a few seconds; each test reads its own.
    from messaging.outbound import subscribers

    subscribers.reset()
    yield
    subscribers.reset()


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def other_user(db):
    return UserFactory()


def token_client(user) -> APIClient:
    """An API client that authenticates the way API clients do: with a token."""
    _, token = AuthToken.objects.create(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


@pytest.fixture
def staff_client(client, user):
    """The admin, logged in as `user` made a superuser (so what the test makes for `user` is theirs)."""
    user.is_staff = user.is_superuser = True
    user.save()
    client.force_login(user)
    return client


@pytest.fixture
def api(user) -> APIClient:
    return token_client(user)


@pytest.fixture
def other_api(other_user) -> APIClient:
    return token_client(other_user)


CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
NGINX = os.environ.get("NGINX", "/usr/sbin/nginx")


def pytest_collection_modifyitems(config, items):
    """Tests marked `postgres` need PostgreSQL, `browser` Chromium and `nginx` nginx: skipped where those
    are missing, but never silently in CI (REQUIRE_POSTGRES, REQUIRE_BROWSER, REQUIRE_NGINX)."""
    from django.db import connection

    needs = []
    if connection.vendor != "postgresql":
        if os.environ.get("REQUIRE_POSTGRES"):
            raise pytest.UsageError("REQUIRE_POSTGRES is set but the tests are not running on PostgreSQL.")
        needs.append(("postgres", "needs PostgreSQL (set DATABASE_URL)"))
    if not os.access(CHROMIUM, os.X_OK):
        if os.environ.get("REQUIRE_BROWSER"):
            raise pytest.UsageError(f"REQUIRE_BROWSER is set but there is no Chromium at {CHROMIUM}.")
        needs.append(("browser", f"needs Chromium at {CHROMIUM} (apt-get install chromium)"))
    if not os.access(NGINX, os.X_OK):
        if os.environ.get("REQUIRE_NGINX"):
            raise pytest.UsageError(f"REQUIRE_NGINX is set but there is no nginx at {NGINX}.")
        needs.append(("nginx", f"needs nginx at {NGINX} (apt-get install nginx)"))
    for marker, reason in needs:
        skip = pytest.mark.skip(reason=reason)
        for item in items:
            if marker in item.keywords:
                item.add_marker(skip)
