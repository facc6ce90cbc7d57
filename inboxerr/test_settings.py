"""Test settings: the real ones, with a fast password hasher."""

from inboxerr.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Serve static files from the apps, as in development, without a collectstatic first. WhiteNoise
# only looks in the apps when DEBUG is on, and pytest-django turns DEBUG off: say so explicitly.
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True
