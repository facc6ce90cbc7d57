"""A campaign run from its page, in a real browser under our Content-Security-Policy: chosen with searchable
selects that offer only the owner's template and import, previewed, test-sent, started, paused, resumed and
exported; a contact found by a phone typed in national format; a delivered message that cannot be edited."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.db import connection
from playwright.sync_api import Page, expect

from campaigns.fanout import campaign_fan_out
from campaigns.models import Campaign, CampaignTestSend
from imports.tests.factories import ContactFactory, ImportJobFactory
from inboxerr.tests.factories import UserFactory
from messaging.models import Message
from messaging.tests.factories import MessageFactory
from templates.tests.factories import MessageTemplateFactory
from tests.browser.pages import choose, chromium_page, log_in_to_the_admin

pytestmark = [pytest.mark.browser, pytest.mark.postgres]


def off_the_browsers_loop(work: Callable[[], Any]) -> Any:
    """Database work while the browser is open: Playwright runs an event loop in this thread, where Django
    refuses synchronous queries, so it runs in a thread of its own (and closes that thread's connection)."""

    def run() -> Any:
        try:
            return work()
        finally:
            connection.close()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(run).result()


@pytest.mark.django_db(transaction=True)
def test_a_campaign_is_chosen_previewed_tested_run_and_exported_from_its_page(live_server):
    staff = UserFactory(is_staff=True, is_superuser=True)
    owner = UserFactory(username="grace")
    other = UserFactory(username="hopper")
    job = ImportJobFactory(
        owner=owner,
        original_filename="spring.csv",
        column_mapping={"phone": "phone", "name": ["name"], "variables": {"order_no": "order_no"}},
    )
    for i in range(3):
        ContactFactory(import_job=job, phone=f"+44740000000{i}", name=f"Person {i}", variables={"order_no": f"A-{i}"})
    MessageTemplateFactory(owner=owner, name="Order shipped", content="Hi {{ name }}, order {{ order_no }} ships.")
    MessageTemplateFactory(owner=other, name="Order delayed", content="Sorry {{ name }}.")
    ImportJobFactory(owner=other, original_filename="theirs.csv")

    with chromium_page(live_server, accept_downloads=True) as page:
        walk_a_campaign(page, staff)
    assert page.console_errors == []


def walk_a_campaign(page: Page, staff) -> None:
    log_in_to_the_admin(page, staff.username)

    page.goto("/admin/campaigns/campaign/add/")
    page.fill("#id_name", "Spring orders")
    choose(page, "owner", "grace", ["grace"])
    choose(page, "template", "Order", ["Order shipped"])  # not the other user's "Order delayed"
    choose(page, "import_job", "", ["spring.csv (SUCCESS)"])
    page.click("input[name=_continue]")

    expect(page.locator(".messagelist")).to_contain_text("was added successfully")
    before = page.locator(".field-before_start")
    expect(before).to_contain_text("3 recipients")
    expect(before).to_contain_text("Hi Person 0, order A-0 ships.")
    campaign = off_the_browsers_loop(lambda: Campaign.objects.get(name="Spring orders"))

    page.fill("form.test-send input[name=phone]", "07400 123456")
    page.click("form.test-send button")
    expect(page.locator(".messagelist")).to_contain_text("Test message queued for +447400123456.")
    expect(page.locator(".field-test_sends")).to_contain_text("+447400123456")
    tested = off_the_browsers_loop(lambda: CampaignTestSend.objects.get().message.content)
    assert tested == "Hi Person 0, order A-0 ships."

    page.click("button.lifecycle-start")
    expect(page.locator(".messagelist")).to_contain_text("Started Spring orders.")
    off_the_browsers_loop(lambda: campaign_fan_out(campaign_id=campaign.pk))  # what the worker does next
    page.click("button.lifecycle-pause")
    expect(page.locator(".messagelist")).to_contain_text("Paused Spring orders.")
    page.click("button.lifecycle-resume")
    expect(page.locator(".messagelist")).to_contain_text("Resumed Spring orders.")
    expect(page.locator(".field-breakdown")).to_contain_text("Queued")

    with page.expect_download() as download:
        page.click("text=Export results (CSV)")
    rows = list(csv.DictReader(io.StringIO(download.value.path().read_text(encoding="utf-8-sig"))))
    assert sorted(row["phone"] for row in rows) == ["+447400000000", "+447400000001", "+447400000002"]
    # The test send is not among them.
    assert off_the_browsers_loop(lambda: Message.objects.filter(campaign=campaign).count()) == 3


@pytest.mark.django_db(transaction=True)
def test_a_national_format_search_finds_the_contact_and_a_delivered_message_has_no_save(live_server):
    staff = UserFactory(is_staff=True, is_superuser=True)
    contact = ContactFactory(phone="+447400900123", name="Ada")
    delivered = MessageFactory(owner=contact.owner, contact=contact, phone=contact.phone, status="DELIVERED")

    with chromium_page(live_server, accept_downloads=True) as page:
        log_in_to_the_admin(page, staff.username)
        find_and_open(page, delivered.pk)
    assert page.console_errors == []


def find_and_open(page: Page, message_id) -> None:
    page.goto("/admin/imports/contact/")
    page.fill("#searchbar", "07400 900123")
    page.press("#searchbar", "Enter")
    expect(page.locator("#result_list tbody tr")).to_have_count(1)
    expect(page.locator("#result_list")).to_contain_text("Ada")

    page.goto(f"/admin/messaging/message/{message_id}/change/")
    expect(page.locator("#content h1")).to_be_visible()
    expect(page.locator("input[name=_save]")).to_have_count(0)
