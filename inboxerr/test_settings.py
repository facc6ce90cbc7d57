"""Test settings: the real ones, with a fast password hasher."""

from inboxerr.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Serve static files from the apps, as in development, without a collectstatic first.
WHITENOISE_AUTOREFRESH = True
