"""Lists of tables that grow without bound read only what one page needs, whatever the table's size."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from campaigns.tests.factories import CampaignFactory
from imports.tests.factories import ContactFactory
from messaging.models import Message
from messaging.tests.factories import MessageEventFactory, MessageFactory

pytestmark = pytest.mark.django_db


def sql_of(client, path: str) -> list[str]:
    connection.queries_log.clear()  # each request empties the log first
    with CaptureQueriesContext(connection) as captured:
        assert client.get(path).status_code == 200
    return [query["sql"] for query in captured.captured_queries]


def test_the_capped_count_is_not_ordered(staff_client):
    MessageFactory()

    counts = [sql for sql in sql_of(staff_client, "/admin/messaging/message/") if "COUNT(*)" in sql]

    assert counts
    assert all("ORDER BY" not in sql for sql in counts)


def test_a_list_that_fits_on_one_page_is_fetched_with_a_limit_and_an_empty_one_not_at_all(staff_client, user):
    campaign = CampaignFactory(owner=user, message_content="Hi")
    MessageFactory.create_batch(3, owner=user, campaign=campaign, status=Message.Status.DELIVERED)
    path = f"/admin/messaging/message/?campaign={campaign.pk}&status__exact="

    def row_queries(status: str) -> list[str]:
        return [s for s in sql_of(staff_client, path + status) if s.startswith('SELECT "messaging_message"."id"')]

    assert [re.search(r"LIMIT (\d+)", sql).group(1) for sql in row_queries("DELIVERED")] == ["3"]
    assert row_queries("QUEUED") == []


def test_a_column_not_offered_for_sorting_is_not_sorted_by_from_the_url(staff_client, user):
    older = MessageFactory(owner=user, status=Message.Status.CANCELLED)
    newer = MessageFactory(owner=user, status=Message.Status.DELIVERED)

    response = staff_client.get(
        "/admin/messaging/message/", {"o": "4"}
    )  # "Status" (after the checkbox), CANCELLED first

    assert list(response.context["cl"].result_list) == [newer, older]


def test_message_events_are_listed_newest_first(staff_client):
    first, second = MessageEventFactory(), MessageEventFactory()

    response = staff_client.get("/admin/messaging/messageevent/")

    assert list(response.context["cl"].result_list) == [second, first]


def test_the_contacts_list_names_each_import_without_reading_its_kept_errors(staff_client):
    ContactFactory(import_job__errors=[{"row": 2, "column": "Phone", "message": "bad"}])

    rows = [s for s in sql_of(staff_client, "/admin/imports/contact/") if s.startswith('SELECT "imports_contact"')]

    assert rows
    assert all('"imports_importjob"."original_filename"' in sql for sql in rows)
    assert not any('"imports_importjob"."errors"' in sql for sql in rows)
