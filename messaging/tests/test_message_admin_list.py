"""The messages list is compact: one line a message, with its contact's name and its error in words."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from imports.tests.factories import ContactFactory
from inboxerr.tests.pages import visible_text
from messaging.tests.factories import MessageEventFactory, MessageFactory

pytestmark = pytest.mark.django_db


def test_a_row_shows_phone_name_campaign_status_parts_and_the_error_in_words(staff_client, user):
    contact = ContactFactory(import_job__owner=user, name="Ann Example")
    MessageFactory(owner=user, contact=contact, phone="+447400000001", status="FAILED", error="30006")

    html = staff_client.get("/admin/messaging/message/").content.decode()
    row = visible_text(re.search(r"<tbody>.*?</tbody>", html, re.S).group())

    assert "+447400000001 Ann Example - Failed 1 A landline, or a carrier that cannot re…" in row
    assert 'title="A landline, or a carrier that cannot receive SMS. (Twilio 30006)"' in html  # whole on hover


def test_the_lists_cost_the_same_queries_for_one_row_or_a_page(staff_client, user):
    def queries(path: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert staff_client.get(path).status_code == 200
        return len(captured)

    MessageEventFactory(message=MessageFactory(owner=user, contact=ContactFactory(import_job__owner=user)))
    one = {path: queries(path) for path in ("/admin/messaging/message/", "/admin/messaging/messageevent/")}
    for _ in range(20):
        MessageEventFactory(message=MessageFactory(owner=user, contact=ContactFactory(import_job__owner=user)))

    assert {path: queries(path) for path in one} == one
