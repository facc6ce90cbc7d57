"""In a real browser under the Content-Security-Policy, the template form previews the content as it is typed."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from imports.tests.factories import ContactFactory, ImportJobFactory
from inboxerr.tests.factories import UserFactory
from tests.browser.pages import choose, chromium_page, log_in_to_the_admin, violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def staff():
    # Made before the browser starts: the ORM refuses to run beside playwright's event loop.
    boss = UserFactory(username="boss", is_staff=True, is_superuser=True)
    job = ImportJobFactory(owner=boss, original_filename="orders.csv", total_rows=1, imported_rows=1)
    ContactFactory(import_job=job, name="Paweł", variables={"order_no": "A-1"})
    boss.import_label = f"orders.csv (1 contact, #{job.pk})"
    return boss


@pytest.fixture
def page(live_server):
    with chromium_page(live_server) as page:
        yield page


def test_the_add_form_previews_the_content_with_an_imports_first_contact(staff, page):
    log_in_to_the_admin(page, staff.username)
    page.goto("/admin/message_templates/messagetemplate/add/")
    choose(page, "owner", staff.username, [staff.username])
    page.fill("#id_content", "Hi {{ name }}, order {{ order_no }} 😀")
    page.select_option(".template-preview-import", label=staff.import_label)

    text = page.locator(".template-preview-text")
    expect(text).to_have_text("Hi Paweł, order A-1 😀")
    expect(page.locator("mark.template-preview-ucs2")).to_have_text(["ł", "😀"])
    expect(page.locator(".template-preview-counts")).to_have_text("UCS-2 · 21 characters · 22 units · 1 part")
    assert violations(page) == []
    assert page.console_errors == []
