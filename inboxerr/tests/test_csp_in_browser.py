"""In a real browser, the Content-Security-Policy blocks nothing the admin, Swagger UI or the browsable API need."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from inboxerr.tests.factories import UserFactory
from templates.tests.factories import MessageTemplateFactory
from tests.browser.pages import chromium_page, log_in_to_the_admin, violations


@pytest.fixture
def staff():
    # Made before the browser starts: the ORM refuses to run beside playwright's event loop.
    boss = UserFactory(username="boss", is_staff=True, is_superuser=True)
    MessageTemplateFactory(owner=boss)
    return boss


@pytest.fixture
def page(live_server):
    with chromium_page(live_server) as page:
        yield page


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
