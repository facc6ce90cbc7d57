"""Driving the admin in headless Chromium: a page that records what went wrong, logging in, searchable selects."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from playwright.sync_api import Page, expect, sync_playwright

from conftest import CHROMIUM

PASSWORD = "correct horse battery staple"  # UserFactory's
# Generous: the machine running the suite may be busy; every wait ends as soon as its condition holds.
WAIT_MS = 30_000

# Runs before any page script and is not subject to the page's policy: records every violation.
RECORD_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.cspViolations.push(`${e.violatedDirective} blocked ${e.blockedURI || "inline code"}`);
});
"""


@contextlib.contextmanager
def chromium_page(live_server, **options) -> Iterator[Page]:
    """A page on the live server that keeps its console and script errors in `page.console_errors` and its
    Content-Security-Policy violations for `violations(page)`.

    The ORM refuses to run beside Playwright's event loop: make rows before, and read them after (or in a
    thread of their own)."""
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"]
        )
        page = browser.new_page(base_url=live_server.url, **options)
        page.set_default_timeout(WAIT_MS)
        expect.set_options(timeout=WAIT_MS)
        page.add_init_script(RECORD_VIOLATIONS)
        page.console_errors = []  # type: ignore[attr-defined]
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


def choose(page: Page, field: str, typed: str, offered: list[str] | None = None) -> None:
    """Open field's searchable select, type `typed`, check it offers exactly `offered` (when given), pick the
    first."""
    page.click(f"#id_{field} + .select2 .select2-selection")
    page.fill(".select2-container--open .select2-search__field", typed)
    options = page.locator(".select2-results__option:not(.loading-results)")
    if offered is not None:
        expect(options).to_have_text(offered)
    options.first.click()
    if offered is None:
        expect(page.locator(f"#id_{field}")).not_to_have_value("")
