"""Every response carries the browser security headers, and the pages still work under the CSP."""

from __future__ import annotations

import base64
import hashlib
import json
from html.parser import HTMLParser

import pytest
from csp.utils import build_policy

from inboxerr.tests.factories import UserFactory
from inboxerr.tests.test_settings import PRODUCTION, manage


@pytest.fixture
def staff_client(client, db):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def session_client(client, user):
    client.force_login(user)
    return client


def directives(policy: str) -> dict[str, list[str]]:
    parsed = {}
    for directive in filter(None, (part.strip() for part in policy.split(";"))):
        name, *sources = directive.split()
        parsed[name] = sources
    return parsed


def policy() -> dict[str, list[str]]:
    """The policy settings.CONTENT_SECURITY_POLICY sets (django-csp writes its directives in any order)."""
    return directives(build_policy())


def assert_security_headers(response):
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] in {"same-origin", "no-referrer"}
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert directives(response["Content-Security-Policy"]) == policy()


def test_the_policy_allows_scripts_only_from_us_and_by_exact_hash():
    policy_ = policy()

    assert policy_["default-src"] == ["'self'"]
    assert policy_["object-src"] == ["'none'"]
    assert policy_["frame-ancestors"] == ["'none'"]
    assert policy_["script-src"][0] == "'self'"
    assert all(source == "'unsafe-hashes'" or source.startswith("'sha256-") for source in policy_["script-src"][1:])
    for sources in policy_.values():
        assert not any(source.startswith(("http:", "https:", "*")) for source in sources)
        assert "'unsafe-eval'" not in sources


def test_an_api_json_answer_has_the_headers(api):
    response = api.get("/api/v1/auth/me")

    assert response.status_code == 200
    assert_security_headers(response)


def test_an_api_error_has_the_headers(client, db):
    response = client.get("/api/v1/templates/")

    assert response.status_code == 401
    assert_security_headers(response)


def test_a_json_404_has_the_headers(client, db):
    response = client.get("/no/such/page")

    assert response.status_code == 404
    assert_security_headers(response)


def test_the_browsable_api_has_the_headers(session_client):
    response = session_client.get("/api/v1/", HTTP_ACCEPT="text/html")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert_security_headers(response)


@pytest.mark.parametrize("path", ["/api-auth/login/", "/admin/login/"])
def test_the_login_pages_have_the_headers(client, db, path):
    response = client.get(path)

    assert response.status_code == 200
    assert_security_headers(response)


@pytest.mark.parametrize("path", ["/admin/", "/admin/campaigns/campaign/", "/admin/campaigns/campaign/add/"])
def test_admin_pages_have_the_headers(staff_client, path):
    response = staff_client.get(path)

    assert response.status_code == 200
    assert_security_headers(response)


def test_healthz_has_the_headers(client, db):
    response = client.get("/healthz")

    assert response.status_code in {200, 503}
    assert_security_headers(response)


@pytest.mark.parametrize("path", ["/api/docs/", "/api/docs/?script=", "/api/schema/"])
def test_the_api_docs_have_the_headers(client, db, path):
    response = client.get(path)

    assert response.status_code == 200
    assert_security_headers(response)


def test_static_files_have_the_headers(client):
    response = client.get("/static/admin/css/base.css")

    assert response.status_code == 200
    assert_security_headers(response)


class ScriptCollector(HTMLParser):
    """The page's script sources, its inline scripts and its inline event handlers."""

    def __init__(self, html: str):
        super().__init__()
        self.sources: list[str] = []
        self.inline: list[str] = []
        self.handlers: list[str] = []
        self._inline_open = False
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.handlers += [value or "" for name, value in attrs if name.startswith("on")]
        if tag != "script":
            return
        if attributes.get("src"):
            self.sources.append(attributes["src"])
        elif attributes.get("type") != "application/json":  # data, never run
            self._inline_open = True
            self.inline.append("")

    def handle_data(self, data):
        if self._inline_open:
            self.inline[-1] += data

    def handle_endtag(self, tag):
        if tag == "script":
            self._inline_open = False


def csp_hash(code: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(code.encode()).digest()).decode() + "'"


def blocked_by_policy(page: ScriptCollector) -> list[str]:
    """The inline code on the page that the policy would stop."""
    script_src = policy()["script-src"]
    blocked = [code for code in page.inline if code.strip() and csp_hash(code) not in script_src]
    hashes_cover_handlers = "'unsafe-hashes'" in script_src
    blocked += [code for code in page.handlers if not (hashes_cover_handlers and csp_hash(code) in script_src)]
    return blocked


def test_swagger_ui_runs_no_inline_script_and_loads_its_own_files(client, db):
    page = ScriptCollector(client.get("/api/docs/").content.decode())

    assert page.inline == []
    assert page.handlers == []
    assert any("swagger-ui-bundle.js" in src for src in page.sources)
    for src in page.sources:
        assert src.startswith("/"), src  # same origin, never a CDN
        asset = client.get(src)
        assert asset.status_code == 200, src
        # nosniff: a script served under any other type would not run.
        assert asset["Content-Type"].split(";")[0] in {"application/javascript", "text/javascript"}, src


def test_swagger_uis_start_up_script_points_at_our_schema(client, db):
    script = client.get("/api/docs/?script=")

    body = script.content.decode()
    assert "SwaggerUIBundle(" in body
    assert '"/api/schema/"' in body


@pytest.mark.parametrize(
    "path",
    [
        "/admin/",
        "/admin/campaigns/campaign/",
        "/admin/campaigns/campaign/add/",
        "/admin/imports/importjob/upload/",
        "/admin/message_templates/messagetemplate/add/",
    ],
)
def test_admin_pages_run_no_inline_script(staff_client, path):
    response = staff_client.get(path)

    page = ScriptCollector(response.content.decode())
    assert response.status_code == 200
    assert page.sources  # the parser saw the page's scripts
    assert page.inline == []
    assert page.handlers == []


@pytest.mark.parametrize("path", ["/admin/login/", "/api-auth/login/"])
def test_login_pages_run_no_inline_script(client, db, path):
    page = ScriptCollector(client.get(path).content.decode())

    assert page.inline == []
    assert page.handlers == []


def test_the_browsable_apis_only_inline_code_is_its_log_out_link_allowed_by_hash(session_client):
    response = session_client.get("/api/v1/", HTTP_ACCEPT="text/html")

    page = ScriptCollector(response.content.decode())
    assert page.handlers == ['document.getElementById("logoutForm").submit()']
    assert blocked_by_policy(page) == []


def test_the_policy_check_would_catch_an_inline_script():
    html = '<script>alert(1)</script><a onclick="alert(2)">x</a><script type="application/json">{}</script>'

    page = ScriptCollector(html)

    assert blocked_by_policy(page) == ["alert(1)", "alert(2)"]


# --- With production settings ------------------------------------------------

# Runs inside `manage.py shell` with the production variables; prints what the responses carried.
PROBE = """
import json
from django.conf import settings
from django.test import Client

client = Client(HTTP_HOST="sms.example.com")
plain_api = client.get("/api/v1/")
plain_health = client.get("/healthz")
login = client.get("/admin/login/", secure=True)
csrf = login.cookies["csrftoken"]
print(json.dumps({
    "plain_api": [plain_api.status_code, plain_api.get("Location")],
    "plain_health": plain_health.status_code,
    "login": [login.status_code, login.get("Strict-Transport-Security"), login.get("Content-Security-Policy")],
    "csrf_cookie": {"secure": bool(csrf["secure"]), "httponly": bool(csrf["httponly"]), "samesite": csrf["samesite"]},
    "session_cookie": [settings.SESSION_COOKIE_SECURE, settings.SESSION_COOKIE_HTTPONLY],
}))
"""


@pytest.fixture(scope="module")
def production_probe(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("production")
    env = PRODUCTION | {"STATIC_ROOT": str(tmp / "static"), "DATABASE_URL": f"sqlite:///{tmp / 'db.sqlite3'}"}
    # DEBUG off serves static files through their manifest, which collectstatic writes.
    collected = manage("collectstatic", "--noinput", **env)
    assert collected.returncode == 0, collected.stderr
    result = manage("shell", "-c", PROBE, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_redirects_plain_http_to_https(production_probe):
    assert production_probe["plain_api"] == [301, "https://sms.example.com/api/v1/"]


def test_production_answers_health_checks_over_plain_http(production_probe):
    assert production_probe["plain_health"] != 301


def test_production_sends_hsts_for_a_year_with_subdomains_and_preload(production_probe):
    status, hsts, sent_policy = production_probe["login"]

    assert status == 200
    assert hsts == "max-age=31536000; includeSubDomains; preload"
    assert directives(sent_policy) == policy()


def test_production_cookies_are_secure_and_out_of_reach_of_scripts(production_probe):
    assert production_probe["csrf_cookie"] == {"secure": True, "httponly": True, "samesite": "Lax"}
    assert production_probe["session_cookie"] == [True, True]
