"""An import's admin page: how its columns were read, its first errors and repeats with all of them a click
away, the errors as CSV, and links to its contacts (shown with the file's own columns) and a new campaign."""

from __future__ import annotations

import csv
import io
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from imports.admin_page import INLINE
from imports.tests.factories import ContactFactory, ImportJobFactory
from inboxerr.tests.pages import visible_text

pytestmark = pytest.mark.django_db
MAPPING = {"phone": ["Mobile"], "name": ["Name"], "variables": {"Order No.": "order_no", "City": "city"}}


def page_of(client, job) -> str:
    response = client.get(reverse("admin:imports_importjob_change", args=[job.pk]))
    assert response.status_code == 200
    return response.content.decode()


def errors(n: int) -> list[dict]:
    return [{"row": i + 2, "column": "Mobile", "message": f"'{i}' is not a phone number."} for i in range(n)]


def test_the_column_mapping_is_a_table_of_what_each_column_became(staff_client, user):
    job = ImportJobFactory(owner=user, column_mapping=MAPPING)

    shown = visible_text(page_of(staff_client, job))

    assert "Mobile the phone number" in shown
    assert "Name the name" in shown
    assert "Order No. {{ order_no }}" in shown
    assert "City {{ city }}" in shown


def test_the_first_errors_are_inline_and_all_are_a_paginated_page_and_a_csv(staff_client, user):
    job = ImportJobFactory(owner=user, invalid_rows=1500, errors=errors(250))

    html = page_of(staff_client, job)
    shown = visible_text(html)
    assert "1,500 invalid rows (the first 250 are kept)." in shown
    assert shown.count("is not a phone number.") == INLINE
    all_url = reverse("admin:imports_importjob_errors", args=[job.pk])
    csv_url = reverse("admin:imports_importjob_errors_csv", args=[job.pk])
    assert f'href="{all_url}"' in html
    assert f'href="{csv_url}"' in html

    third = visible_text(staff_client.get(all_url, {"page": 3}).content.decode())
    assert "Rows 201 to 250 of the 250 kept." in third
    assert "'200' is not a phone number." in third
    assert "Page 3 of 3" in third

    response = staff_client.get(csv_url)
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == ["row", "column", "message"]
    assert len(rows) == 251
    assert rows[1] == ["2", "Mobile", "'0' is not a phone number."]


def test_repeated_numbers_are_listed_with_the_row_kept(staff_client, user):
    job = ImportJobFactory(
        owner=user, duplicate_rows=2, duplicates=[{"row": 9, "phone": "+447400000001", "first_row": 3}] * 2
    )

    shown = visible_text(page_of(staff_client, job))

    assert "2 repeated numbers." in shown
    assert "9 +447400000001 3" in shown


def test_a_finished_import_links_to_its_contacts_and_a_new_campaign_filled_in(staff_client, user):
    job = ImportJobFactory(owner=user, total_rows=2, imported_rows=2, column_mapping=MAPPING)

    html = page_of(staff_client, job)

    contacts = f"/admin/imports/contact/?import_job={job.pk}"
    assert f'href="{contacts}">See its 2 contacts</a>' in html
    new_campaign = f"/admin/campaigns/campaign/add/?owner={user.pk}&amp;import_job={job.pk}"
    assert f'href="{new_campaign}">New campaign from this import</a>' in html
    form = staff_client.get(new_campaign.replace("&amp;", "&")).context["adminform"].form
    assert (form.initial["owner"], form.initial["import_job"]) == (str(user.pk), str(job.pk))


def test_an_imports_contacts_show_the_files_own_columns(staff_client, user):
    job = ImportJobFactory(owner=user, column_mapping=MAPPING)
    ContactFactory(import_job=job, phone="+447400000001", name="Ann", variables={"order_no": "A-1", "city": "Leeds"})
    ContactFactory(phone="+447400000002", name="Someone else's")

    response = staff_client.get("/admin/imports/contact/", {"import_job": job.pk})
    html = response.content.decode()

    assert [c.name for c in response.context["cl"].result_list] == ["Ann"]
    assert ">Order No.<" in html
    assert ">City<" in html
    row = visible_text(re.search(r"<tbody>.*?</tbody>", html, re.S).group())
    assert row.strip().startswith("+447400000001 Ann")
    assert "A-1" in row
    assert "Leeds" in row


def test_contacts_of_a_file_with_several_phone_columns_show_which_one_each_number_came_from(staff_client, user):
    mapping = {**MAPPING, "phone": ["Mobile", "Home"]}
    job = ImportJobFactory(owner=user, column_mapping=mapping)
    ContactFactory(import_job=job, phone="+447400000001", name="Ann", phone_column="Home")

    response = staff_client.get("/admin/imports/contact/", {"import_job": job.pk})
    html = response.content.decode()

    assert ">From column<" in html
    row = visible_text(re.search(r"<tbody>.*?</tbody>", html, re.S).group())
    assert row.strip().startswith("+447400000001 Home Ann")


@pytest.mark.parametrize("value", ["x", "99999999999999999999", "²"])
def test_a_bad_import_filter_is_the_admins_own_error(staff_client, value):
    response = staff_client.get("/admin/imports/contact/", {"import_job": value})

    assert response.status_code == 302
    assert response["Location"].endswith("?e=1")


def found(client, job, term: str) -> list[str]:
    response = client.get(reverse("admin:imports_contact_changelist"), {"import_job": job.pk, "q": term})
    assert response.status_code == 200
    return sorted(contact.name for contact in response.context["cl"].result_list)


@pytest.mark.postgres
def test_one_imports_contacts_are_found_by_its_own_columns_in_part_and_any_case(staff_client, user):
    job = ImportJobFactory(owner=user, column_mapping=MAPPING)
    ContactFactory(
        import_job=job, phone="+447400000001", name="Ann", variables={"order_no": "ORD-100221", "city": "Leeds"}
    )
    ContactFactory(
        import_job=job, phone="+447400000002", name="Bob", variables={"order_no": "ORD-100300", "city": "York"}
    )
    elsewhere = ImportJobFactory(owner=user, column_mapping=MAPPING)
    ContactFactory(import_job=elsewhere, phone="+447400000003", name="Cy", variables={"order_no": "ORD-100221"})

    assert found(staff_client, job, "ORD-100221") == ["Ann"]
    assert found(staff_client, job, "york") == ["Bob"]
    assert found(staff_client, job, "ORD-100") == ["Ann", "Bob"]
    assert found(staff_client, job, "bob") == ["Bob"]  # the name, as before
    assert found(staff_client, job, "07400 000002") == ["Bob"]  # a phone, in national format
    assert found(staff_client, job, "Glasgow") == []


@pytest.mark.postgres
def test_a_word_searched_in_one_import_reads_its_contacts_once_and_pages_through_them(staff_client, user):
    job = ImportJobFactory(owner=user, column_mapping=MAPPING)
    for i in range(5):
        ContactFactory(import_job=job, phone=f"+44740000001{i}", name=f"Person {i}", variables={"city": "York"})
    ContactFactory(import_job=job, phone="+447400000020", name="Elsewhere", variables={"city": "Leeds"})
    url = reverse("admin:imports_contact_changelist")

    with CaptureQueriesContext(connection) as captured:
        first = staff_client.get(url, {"import_job": job.pk, "q": "york", "p": "1"})
    searches = [q["sql"] for q in captured.captured_queries if "LIKE" in q["sql"]]
    # The count and the page share one read of the import's contacts; the page's rows come by primary key.
    assert len([sql for sql in searches if '"imports_contact"."id" IN' not in sql]) == 1

    cl = first.context["cl"]
    assert cl.result_count == 5
    cl.model_admin.list_per_page = 2
    pages = [
        [
            c.name
            for c in staff_client.get(url, {"import_job": job.pk, "q": "york", "p": str(n)}).context["cl"].result_list
        ]
        for n in (1, 2, 3)
    ]
    assert pages == [["Person 0", "Person 1"], ["Person 2", "Person 3"], ["Person 4"]]  # in the file's order
