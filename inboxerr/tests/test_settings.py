"""Settings come from the environment; production refuses to start half-configured."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "k" * 20 + "-production-secret-key-of-enough-length-0123456789",
    "ALLOWED_HOSTS": "sms.example.com",
    # Login lockout counts shared by every process (axes.W001 says so without it).
    "REDIS_URL": "redis://127.0.0.1:6379/0",
}


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS"}}
    clean["DJANGO_SETTINGS_MODULE"] = "inboxerr.settings"
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("secret", [None, "short", "django-insecure-" + "x" * 60])
def test_it_refuses_to_start_with_debug_off_and_no_real_secret_key(secret):
    env = {"DEBUG": "false"} | ({"SECRET_KEY": secret} if secret else {})

    result = manage("check", **env)

    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_migrations_apply_to_a_fresh_sqlite_file_in_wal_mode(tmp_path):
    url = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"

    migrate = manage("migrate", "--noinput", DATABASE_URL=url)
    mode = manage(
        "shell",
        "-c",
        "from django.db import connection; c = connection.cursor();"
        "print(c.execute('PRAGMA journal_mode').fetchone()[0])",
        DATABASE_URL=url,
    )

    assert migrate.returncode == 0, migrate.stderr
    assert mode.stdout.strip().splitlines()[-1] == "wal"


def test_the_models_and_migrations_agree(db):
    from django.core.management import call_command

    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


def test_the_database_under_test_is_migrated(db):
    from django.db import connection

    tables = set(connection.introspection.table_names())

    assert {"imports_importjob", "imports_contact", "campaigns_campaign", "messaging_message"} <= tables
    assert "message_templates_messagetemplate" in tables


@pytest.mark.parametrize("parts", ["0", "256"])
def test_sms_max_parts_is_held_to_what_a_parts_count_and_a_phone_can_take(parts):
    result = manage("check", SMS_MAX_PARTS=parts)

    assert result.returncode != 0
    assert f"SMS_MAX_PARTS must be from 1 to 255, not {parts}." in result.stderr
