"""Password logins locked out by django-axes: per username and address together, and per address.

Axes keeps the counts (its cache handler: Redis with REDIS_URL, so every web
node sees the same ones), checks them, and offers its address allow and deny
lists; settings.py configures it from LOGIN_THROTTLE_*. A username tried
LOGIN_THROTTLE_FAILURES times from one address within the window (counted from
the first try) gets no further password check from that address; an address
gets ADDRESS_FACTOR times as many over all usernames. A username is never locked
for everyone: then anybody could keep an admin out by failing on purpose.

Two things axes does not do are done here. Axes counts a failure after the
password check, so guesses sent at once could all be checked: each try is counted
before its check, and a right password takes its try back (the username's count
from that address is cleared, the address's own count loses one). And axes has
one limit, which the address's count is scaled to.
"""

from __future__ import annotations

import contextlib
import math
from datetime import timedelta
from typing import Any

from axes.backends import AxesStandaloneBackend
from axes.handlers.cache import AxesCacheHandler
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_cache, get_cache_timeout, get_client_cache_keys, get_credentials
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.models import User
from django.core.cache.backends.base import BaseCache
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest

# An address (an office, a NAT) is shared by people who each mistype now and then.
ADDRESS_FACTOR = 4


# --- What settings.py hands axes ----------------------------------------------------


def username_key(request: HttpRequest | None, credentials: dict[str, Any] | None) -> str:
    """The username as counted: "Alice" and "alice" share a count, so changing case buys an attacker nothing.

    It ends in "/", which no address holds: axes joins username and address into one key without a separator.
    """
    username = (credentials or {}).get(get_user_model().USERNAME_FIELD) or ""
    return f"{str(username).casefold()}/"


def failure_limit(request: HttpRequest | None, credentials: dict[str, Any] | None) -> int:
    return int(settings.LOGIN_THROTTLE_FAILURES)


def window(request: HttpRequest | None) -> timedelta:
    return timedelta(seconds=settings.LOGIN_THROTTLE_WINDOW_SECONDS)


def locked_message() -> str:
    minutes = math.ceil(settings.LOGIN_THROTTLE_WINDOW_SECONDS / 60)
    return (
        "Too many failed login attempts for this username or from this address. "
        f"Try again in {minutes} minute{'s' if minutes != 1 else ''}."
    )


# --- Counting ---------------------------------------------------------------------------


class LockoutHandler(AxesCacheHandler):
    """Axes' cache handler, with each try counted before its password is checked."""

    def __init__(self) -> None:
        """Axes builds one handler per process; the cache is looked up at each use instead of here."""

    @property
    def cache(self) -> BaseCache:
        return get_cache()

    def get_failures(self, request: HttpRequest, credentials: dict[str, Any] | None = None) -> int:
        pair, address = (self.cache.get(key, 0) for key in get_client_cache_keys(request, credentials))
        # Axes compares one number with one limit: the address's count, scaled to the pair's limit.
        return max(int(pair), int(address) // ADDRESS_FACTOR)

    def count_try(self, request: HttpRequest, credentials: dict[str, Any]) -> bool:
        """Count one try; False if it goes over a limit (its password must not be checked)."""
        timeout = get_cache_timeout(request)
        counts = []
        for key in get_client_cache_keys(request, credentials):
            # add() starts the window at the first try; later tries only count, never extend it.
            if self.cache.add(key, 1, timeout=timeout):
                counts.append(1)
                continue
            try:
                counts.append(self.cache.incr(key))
            except ValueError:  # the window ended between add() and incr()
                self.cache.add(key, 1, timeout=timeout)
                counts.append(1)
        pair, address = counts
        limit = settings.LOGIN_THROTTLE_FAILURES
        return bool(pair <= limit and address <= limit * ADDRESS_FACTOR)

    def take_back_try(self, request: HttpRequest, credentials: dict[str, Any]) -> None:
        """A right password: forget the username's tries from this address, and this try of the address."""
        pair, address = get_client_cache_keys(request, credentials)
        self.cache.delete(pair)
        with contextlib.suppress(ValueError):  # its window has just ended
            self.cache.decr(address)

    def user_login_failed(self, sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any) -> None:
        """Counted already, before the password check (count_try)."""


def login_is_locked(*, request: HttpRequest, username: str) -> bool:
    if not settings.LOGIN_THROTTLE_FAILURES:
        return False
    return not AxesProxyHandler.is_allowed(request, get_credentials(username))


def _handler() -> LockoutHandler:
    handler = AxesProxyHandler.get_implementation()
    assert isinstance(handler, LockoutHandler), "settings.AXES_HANDLER names LockoutHandler"
    return handler


# --- Where logins happen -----------------------------------------------------------------


class LockoutBackend(AxesStandaloneBackend, ModelBackend):
    """Django's username and password check, refused outright while the username and address are locked.

    Being the backend, it holds for every way in: the admin, the browsable API's login and the token endpoint.
    """

    def authenticate(
        self, request: HttpRequest | None, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> User | None:
        if username is None:
            username = kwargs.pop(get_user_model().USERNAME_FIELD, None)
        if username is None or password is None:
            return None  # not a password login: nothing to count
        if not settings.LOGIN_THROTTLE_FAILURES:
            return ModelBackend.authenticate(self, request, username=username, password=password, **kwargs)
        if request is None:
            return None  # refused: with no request there is no address to count the try against
        credentials = get_credentials(username)
        # PermissionDenied makes authenticate() stop here, before any password hashing.
        if login_is_locked(request=request, username=username) or not _handler().count_try(request, credentials):
            raise PermissionDenied(locked_message())
        user = ModelBackend.authenticate(self, request, username=username, password=password, **kwargs)
        if user is not None:
            _handler().take_back_try(request, credentials)
        return user


class LockoutMessageMixin:
    """Says why a locked login is refused, instead of "wrong username or password"."""

    cleaned_data: dict[str, Any]
    request: HttpRequest | None

    def get_invalid_login_error(self) -> ValidationError:
        username = self.cleaned_data.get("username") or ""
        if self.request is not None and login_is_locked(request=self.request, username=username):
            return ValidationError(locked_message(), code="throttled")
        return super().get_invalid_login_error()  # type: ignore[misc]


class LockoutAuthenticationForm(LockoutMessageMixin, AuthenticationForm):
    pass


class LockoutAdminAuthenticationForm(LockoutMessageMixin, AdminAuthenticationForm):
    pass
