"""Gateway backends, chosen by SMS_BACKEND the way Django chooses an email backend."""

from __future__ import annotations

from django.conf import settings
from django.utils.module_loading import import_string

from messaging.backends.base import BaseBackend

ALIASES = {
    "console": "messaging.backends.console.ConsoleBackend",
    "locmem": "messaging.backends.locmem.LocmemBackend",
    "android": "messaging.backends.android.AndroidGatewayBackend",
    "twilio": "messaging.backends.twilio.TwilioBackend",
}


def backend_path(name: str | None = None) -> str:
    name = name or settings.SMS_BACKEND
    return ALIASES.get(name, name)


def get_backend(name: str | None = None) -> BaseBackend:
    """A new backend instance: SMS_BACKEND (or `name`), an alias or a dotted path to a class."""
    return import_string(backend_path(name))()
