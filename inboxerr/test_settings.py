"""Test settings: the real ones, with a fast password hasher and metrics of this run only."""

import os
import tempfile

# Metrics files of earlier runs (or of `make run`) would be added to this run's: a fresh directory,
# which the processes the tests start inherit.
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="inboxerr-test-metrics-"))

from inboxerr.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Serve static files from the apps, as in development, without a collectstatic first. WhiteNoise
# only looks in the apps when DEBUG is on, and pytest-django turns DEBUG off: say so explicitly.
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True
