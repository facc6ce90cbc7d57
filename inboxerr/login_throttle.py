"""Password logins, counted per username and address together, and per address.

A username tried LOGIN_THROTTLE_FAILURES times from one address without success
within LOGIN_THROTTLE_WINDOW_SECONDS (counted from the first try) gets no further
password check from that address until the window ends; an address gets
ADDRESS_FACTOR times as many tries, over all usernames. A username is never
locked for everyone: then anybody could keep an admin out by failing on purpose.
Tries are counted before the password is checked, so guesses sent at once
cannot all slip in under the limit; a right password clears its username's
count from that address. The counts live in the cache, which is Redis when
REDIS_URL is set, so every web node sees the same ones.
"""

from __future__ import annotations

import contextlib
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

KEY_PREFIX = "login-tries"
# An address (an office, a NAT) is shared by people who each mistype now and then.
ADDRESS_FACTOR = 4


def client_address(request) -> str:
    """The client's address as DRF's throttles read it (X-Forwarded-For only through NUM_PROXIES proxies)."""
    return (BaseThrottle().get_ident(request) if request is not None else None) or "unknown"


def _key(*parts: str) -> str:
    # Hashed: any username or address makes a short key that every cache backend accepts.
    return f"{KEY_PREFIX}:{hashlib.sha256(chr(0).join(parts).encode()).hexdigest()}"


def _limits(*, username: str, address: str) -> dict[str, int]:
    """Each count that applies to this login, with its limit."""
    limit = settings.LOGIN_THROTTLE_FAILURES
    # "Alice" and "alice" share a count, so changing case buys an attacker nothing.
    return {_key("pair", username.casefold(), address): limit, _key("address", address): limit * ADDRESS_FACTOR}


def login_is_locked(*, username: str, address: str) -> bool:
    if not settings.LOGIN_THROTTLE_FAILURES:
        return False
    limits = _limits(username=username, address=address)
    counts = cache.get_many(list(limits))
    return any(count >= limits[key] for key, count in counts.items())


def login_try_counted(*, username: str, address: str) -> bool:
    """Count one try; False if it is over a limit (the password must not be checked)."""
    if not settings.LOGIN_THROTTLE_FAILURES:
        return True
    within = True
    for key, limit in _limits(username=username, address=address).items():
        # add() starts the window at the first try; later tries only count, never extend it.
        if cache.add(key, 1, timeout=settings.LOGIN_THROTTLE_WINDOW_SECONDS):
            count = 1
        else:
            try:
                count = cache.incr(key)
            except ValueError:  # the window ended between add() and incr()
                cache.add(key, 1, timeout=settings.LOGIN_THROTTLE_WINDOW_SECONDS)
                count = 1
        within = within and count <= limit
    return within


def login_succeeded(*, username: str, address: str) -> None:
    """A right password: forget this username's tries from this address, and this try of the address."""
    pair, by_address = list(_limits(username=username, address=address))
    cache.delete(pair)
    with contextlib.suppress(ValueError):  # its window has just ended
        cache.decr(by_address)


def locked_message() -> str:
    minutes = math.ceil(settings.LOGIN_THROTTLE_WINDOW_SECONDS / 60)
    return (
        "Too many failed login attempts for this username or from this address. "
        f"Try again in {minutes} minute{'s' if minutes != 1 else ''}."
    )


class ThrottledModelBackend(ModelBackend):
    """Django's username and password check, refused outright while the username and address are locked.

    Being the backend, it holds for every way in: the admin, the browsable API's
    login and the API token endpoint.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.pop(get_user_model().USERNAME_FIELD, None)
        if username is None or password is None:
            return None  # not a password login: nothing to count
        address = client_address(request)
        # PermissionDenied makes authenticate() stop here, before any password hashing.
        if login_is_locked(username=username, address=address):
            raise PermissionDenied(locked_message())
        if not login_try_counted(username=username, address=address):
            raise PermissionDenied(locked_message())
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is not None:
            login_succeeded(username=username, address=address)
        return user


class ThrottledLoginFormMixin:
    """Says why a locked login is refused, instead of "wrong username or password"."""

    def get_invalid_login_error(self):
        username = self.cleaned_data.get("username") or ""
        if login_is_locked(username=username, address=client_address(self.request)):
            return ValidationError(locked_message(), code="throttled")
        return super().get_invalid_login_error()


class ThrottledAuthenticationForm(ThrottledLoginFormMixin, AuthenticationForm):
    pass


class ThrottledAdminAuthenticationForm(ThrottledLoginFormMixin, AdminAuthenticationForm):
    pass
