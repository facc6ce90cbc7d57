"""In a real browser, the Content-Security-Policy blocks nothing the admin, Swagger UI or the browsable API need."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from conftest import CHROMIUM
from inboxerr.tests.factories import UserFactory
from templates.tests.factories import MessageTemplateFactory

PASSWORD = "correct horse battery staple"
WAIT_MS = 30_000

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Runs before any page script and is not subject to the page's policy: records every violation.
RECORD_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.cspViolations.push(`${e.violatedDirective} blocked ${e.blockedURI || "inline code"}`);
});
"""


@pytest.fixture
def staff():
    # Made before the browser starts: the ORM refuses to run beside playwright's event loop.
    boss = UserFactory(username="boss", is_staff=True, is_superuser=True)
    MessageTemplateFactory(owner=boss)
    return boss


@pytest.fixture
def page(live_server):
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"]
        )
        page = browser.new_page(base_url=live_server.url)
        page.set_default_timeout(WAIT_MS)
        page.add_init_script(RECORD_VIOLATIONS)
        page.console_errors = []
        page.on("console", lambda message: message.type == "error" and page.console_errors.append(message.text))
        page.on("pageerror", lambda error: page.console_errors.append(str(error)))
        yield page
        browser.close()


def violations(page: Page) -> list[str]:
    return page.evaluate("window.cspViolations") + [e for e in page.console_errors if "Content Security" in e]


def log_in_to_the_admin(page: Page, username: str) -> None:
    page.goto("/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()


def test_swagger_ui_renders_the_api_under_the_policy(page):
    page.goto("/api/docs/")

    expect(page.locator(".opblock").first).to_be_visible()
    expect(page.get_by_text("Inboxerr API").first).to_be_visible()
    assert violations(page) == []


def test_the_admin_works_under_the_policy(staff, page):
    log_in_to_the_admin(page, staff.username)
    page.goto("/admin/campaigns/campaign/add/")
    expect(page.locator("#campaign_form")).to_be_visible()
    page.goto("/admin/message_templates/messagetemplate/")
    # The select-all box only works if the admin's own scripts ran.
    page.click("#action-toggle")

    expect(page.locator("input.action-select").first).to_be_checked()
    assert violations(page) == []


def test_the_browsable_apis_log_out_link_works_under_the_policy(staff, page):
    log_in_to_the_admin(page, staff.username)

    page.goto("/api/v1/")
    page.click("a.dropdown-toggle")
    page.click("text=Log out")

    expect(page.get_by_role("link", name="Log in")).to_be_visible()
    assert violations(page) == []
