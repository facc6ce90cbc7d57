"""The dashboard, in a real browser under our Content-Security-Policy: its charts draw and nothing on the
page is refused or fails."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect, sync_playwright

from conftest import CHROMIUM
from inboxerr.tests.factories import UserFactory
from messaging.models import TallyKind
from messaging.tallies import tally

PASSWORD = "correct horse battery staple"
pytestmark = [pytest.mark.browser, pytest.mark.postgres]


@pytest.mark.django_db(transaction=True)
def test_the_dashboard_draws_its_charts_with_no_console_error(live_server):
    staff = UserFactory(is_staff=True, is_superuser=True, password=PASSWORD)
    now = timezone.now()
    for hours_ago in range(0, 24 * 14, 5):
        tally(TallyKind.SENT, 100 + hours_ago, at=now - timedelta(hours=hours_ago))
        tally(TallyKind.DELIVERED, 90 + hours_ago, at=now - timedelta(hours=hours_ago))
    problems: list[str] = []

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(base_url=live_server.url)
        # A CSP refusal shows as a console error; a failed request (a missing stylesheet or icon) too.
        page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.on("requestfailed", lambda request: problems.append(f"failed: {request.url}"))
        page.goto("/admin/")
        page.fill("#id_username", staff.username)
        page.fill("#id_password", PASSWORD)
        page.click("input[type=submit]")

        charts = page.locator("svg.chart")
        expect(charts).to_have_count(2)
        expect(charts.first.locator("polyline.sent")).to_be_visible()
        # The stylesheet applied: a line is drawn in colour, not the browser's default black fill.
        assert charts.first.locator("polyline.sent").evaluate("line => getComputedStyle(line).fill") == "none"
        assert page.locator("svg.chart").first.bounding_box()["width"] > 300
        expect(page.locator("#content-related")).to_contain_text("Operations")
        browser.close()

    assert problems == []
