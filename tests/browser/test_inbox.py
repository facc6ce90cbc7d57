"""Staff read a reply in the admin's Inbox, open its conversation and answer it, in a real browser."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from inboxerr.tests.factories import UserFactory
from messaging.models import InboundMessage, Message
from messaging.tests.factories import MessageFactory
from tests.browser.pages import PASSWORD, chromium_page, log_in_to_the_admin, violations

PHONE = "+447400000001"
pytestmark = [pytest.mark.browser, pytest.mark.postgres]


@pytest.mark.django_db(transaction=True)
def test_staff_read_a_reply_and_answer_it(live_server):
    staff = UserFactory(is_staff=True, is_superuser=True, password=PASSWORD)
    sent = MessageFactory(owner=staff, phone=PHONE, content="Your parcel ships today", status="DELIVERED",
                          sent_at=timezone.now() - timedelta(hours=1))  # fmt: skip
    InboundMessage.objects.create(
        owner=staff, source="android", external_id="evt-1", phone=PHONE, in_reply_to=sent,
        text="my parcel ORD-100221 hasn't arrived", received_at=timezone.now(),
    )  # fmt: skip

    with chromium_page(live_server, viewport={"width": 1280, "height": 900}) as page:
        log_in_to_the_admin(page, staff.username)
        page.goto("/admin/messaging/inboundmessage/")
        row = page.locator("#result_list tbody tr").first
        expect(row).to_contain_text("my parcel ORD-100221 hasn't arrived")
        row.get_by_role("link", name=PHONE).click()

        thread = page.locator("ul.thread li")
        expect(thread).to_have_count(2)
        expect(thread.nth(0)).to_contain_text("Your parcel ships today")
        expect(thread.nth(1)).to_contain_text("my parcel ORD-100221 hasn't arrived")
        page.fill("#id_content", "Sorry! It arrives at 5 today.")
        page.click("input[type=submit][value=Send]")

        expect(page.locator(".messagelist .success")).to_contain_text(f"Your answer to {PHONE} is queued.")
        expect(thread).to_have_count(3)
        expect(thread.nth(2)).to_contain_text("Sorry! It arrives at 5 today.")
        expect(thread.nth(2)).to_contain_text("queued")
        assert violations(page) == []
        assert page.console_errors == []

    answer = Message.objects.exclude(pk=sent.pk).get()
    assert (answer.phone, answer.content, answer.status) == (PHONE, "Sorry! It arrives at 5 today.", "QUEUED")
    assert InboundMessage.objects.get().read_at is not None
