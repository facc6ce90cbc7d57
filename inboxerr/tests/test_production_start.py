"""The README's production start, run as written on a fresh database and an empty STATIC_ROOT:
migrate, collectstatic, check --deploy, gunicorn; then the admin, Swagger UI, the API and a static file answer."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from inboxerr.tests.test_settings import PRODUCTION, ROOT, manage
from tests.cluster import free_port, kill_group, start_group, tail, wait_until

# Behind the TLS-terminating proxy the README describes: it says the request came over HTTPS.
PROXIED = {"Host": "sms.example.com", "X-Forwarded-Proto": "https"}


def get(url: str, **headers: str) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers={**PROXIED, **headers})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()
    except urllib.error.URLError:  # not listening yet
        return 0, b""


@pytest.fixture
def production_env(tmp_path) -> dict[str, str]:
    return PRODUCTION | {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "STATIC_ROOT": str(tmp_path / "static"),
        "IMPORT_TMP_DIR": str(tmp_path / "imports"),
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prometheus"),
        "SECURE_PROXY_SSL_HEADER": "true",
        "TRUSTED_PROXY_COUNT": "1",
    }


def test_check_deploy_says_when_the_static_files_were_not_collected(production_env):
    result = manage("check", "--deploy", "--fail-level", "WARNING", **production_env)

    assert result.returncode != 0
    assert "inboxerr.W001" in result.stderr
    assert "collectstatic" in result.stderr


def test_the_readme_production_start_serves_the_admin_swagger_ui_and_the_api(production_env, tmp_path):
    for step in (
        ["migrate", "--noinput"],
        ["collectstatic", "--noinput"],
        ["check", "--deploy", "--fail-level", "WARNING"],
    ):
        result = manage(*step, **production_env)
        assert result.returncode == 0, f"{step}: {result.stderr}"
    assert "no issues" in result.stdout  # check --deploy, with production variables
    created = manage("create_api_user", "ops", **production_env)
    token = created.stdout.split("token:", 1)[1].split()[0]
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS"}},
        **production_env,
        "DJANGO_SETTINGS_MODULE": "inboxerr.settings",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "1",
    }
    log = tmp_path / "gunicorn.log"
    gunicorn = start_group(["-m", "gunicorn", "inboxerr.wsgi", "--config", "gunicorn.conf.py"], env=env, log=log)
    base = f"http://127.0.0.1:{port}"
    try:
        assert wait_until(lambda: get(f"{base}/healthz")[0] == 200, seconds=30), tail(log)

        admin_status, admin_page = get(f"{base}/admin/login/")
        docs_status, docs_page = get(f"{base}/api/docs/")
        api_status, api_body = get(f"{base}/api/v1/templates/", Authorization=f"Token {token}")
        css = admin_page.decode().split('href="/static/admin/css/base.', 1)[1].split('"', 1)[0]
        static_status, _ = get(f"{base}/static/admin/css/base.{css}")

        assert (admin_status, docs_status, api_status, static_status) == (200, 200, 200, 200), tail(log)
        assert b"Log in" in admin_page
        assert b"swagger-ui" in docs_page
        assert json.loads(api_body)["results"] == []
        assert b"Internal Server Error" not in Path(log).read_bytes()
    finally:
        kill_group(gunicorn)


def test_the_readme_lists_these_steps_in_this_order():
    readme = (ROOT / "README.md").read_text()
    block = readme.index("```sh", readme.index("A production start"))
    section = readme[block : readme.index("```", block + 3)]

    steps = [step for step in ("migrate", "collectstatic", "check --deploy", "gunicorn") if step in section]
    assert steps == ["migrate", "collectstatic", "check --deploy", "gunicorn"]
    assert [section.index(step) for step in steps] == sorted(section.index(step) for step in steps)
