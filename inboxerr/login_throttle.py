"""Failed password logins, counted per username and per client address.

After LOGIN_THROTTLE_FAILURES failures within LOGIN_THROTTLE_WINDOW_SECONDS, that
username, and that address, get no further password check until the window
(counted from the first failure) ends. The counts live in the cache, which is
Redis when REDIS_URL is set, so every web node sees the same ones.
"""

from __future__ import annotations

import hashlib
import math

from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from rest_framework.throttling import BaseThrottle

KEY_PREFIX = "login-failures"


def client_address(request) -> str | None:
    """The client's address as DRF's throttles read it (X-Forwarded-For only through NUM_PROXIES proxies)."""
    if request is None:
        return None
    return BaseThrottle().get_ident(request) or None


def _key(kind: str, value: str) -> str:
    # Hashed: any username or address makes a short key that every cache backend accepts.
    return f"{KEY_PREFIX}:{kind}:{hashlib.sha256(value.encode()).hexdigest()}"


def _keys(*, username: str | None, address: str | None) -> list[str]:
    keys = []
    if username:
        # "Alice" and "alice" share a count, so changing case buys an attacker nothing.
        keys.append(_key("username", username.casefold()))
    if address:
        keys.append(_key("address", address))
    return keys


def login_is_locked(*, username: str | None, address: str | None) -> bool:
    limit = settings.LOGIN_THROTTLE_FAILURES
    if not limit:
        return False
    counts = cache.get_many(_keys(username=username, address=address))
    return any(count >= limit for count in counts.values())


def login_failure_record(*, username: str | None, address: str | None) -> None:
    if not settings.LOGIN_THROTTLE_FAILURES:
        return
    window = settings.LOGIN_THROTTLE_WINDOW_SECONDS
    for key in _keys(username=username, address=address):
        # add() starts the window at the first failure; later failures only count, never extend it.
        if cache.add(key, 1, timeout=window):
            continue
        try:
            cache.incr(key)
        except ValueError:  # the window ended between add() and incr()
            cache.add(key, 1, timeout=window)


def login_failures_reset(*, username: str | None) -> None:
    """Forget a username's failures once its password is right; the address's count stays."""
    keys = _keys(username=username, address=None)
    if keys:
        cache.delete_many(keys)


def locked_message() -> str:
    minutes = math.ceil(settings.LOGIN_THROTTLE_WINDOW_SECONDS / 60)
    return (
        "Too many failed login attempts for this username or from this address. "
        f"Try again in {minutes} minute{'s' if minutes != 1 else ''}."
    )


class ThrottledModelBackend(ModelBackend):
    """Django's username and password check, refused outright while the username or address is locked.

    Being the backend, it holds for every way in: the admin, the browsable API's
    login and the API token endpoint.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.pop(get_user_model().USERNAME_FIELD, None)
        if username is None or password is None:
            return None  # not a password login: nothing to count
        address = client_address(request)
        if login_is_locked(username=username, address=address):
            # PermissionDenied makes authenticate() stop here, before any password hashing.
            raise PermissionDenied(locked_message())
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None:
            login_failure_record(username=username, address=address)
        else:
            login_failures_reset(username=username)
        return user


class ThrottledLoginFormMixin:
    """Says why a locked login is refused, instead of "wrong username or password"."""

    def get_invalid_login_error(self):
        username = self.cleaned_data.get("username")
        if login_is_locked(username=username, address=client_address(self.request)):
            return ValidationError(locked_message(), code="throttled")
        return super().get_invalid_login_error()


class ThrottledAuthenticationForm(ThrottledLoginFormMixin, AuthenticationForm):
    pass


class ThrottledAdminAuthenticationForm(ThrottledLoginFormMixin, AdminAuthenticationForm):
    pass
