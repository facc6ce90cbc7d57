"""Phone numbers in the admin as people type them: contact and opt-out forms normalise them with the import's
own code (a bad one gets a sentence), and contacts, messages and opt-outs are found by a number in any format."""

from __future__ import annotations

import pytest

from imports.models import Contact
from imports.tests.factories import ContactFactory, ImportJobFactory
from messaging.models import Message, OptOut
from messaging.tests.factories import MessageFactory

pytestmark = pytest.mark.django_db


def add_contact(client, job, phone):
    return client.post(
        "/admin/imports/contact/add/",
        {"import_job": job.pk, "phone": phone, "name": "Ann", "variables": "{}", "row_number": 2},
    )


def test_a_contact_typed_in_national_format_is_stored_in_e164_read_in_its_imports_region(staff_client, user):
    job = ImportJobFactory(owner=user, default_region="DE")

    response = add_contact(staff_client, job, "0151 23456789")

    assert response.status_code == 302
    assert Contact.objects.get().phone == "+4915123456789"


def test_a_bad_number_gets_a_sentence_not_a_constraint_name(staff_client, user):
    job = ImportJobFactory(owner=user)

    response = add_contact(staff_client, job, "12")

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["phone"]
    assert errors == ["'12' is not a valid phone number (read with default region GB)."]
    assert not Contact.objects.exists()


def test_an_opt_out_added_here_is_normalised_says_admin_and_cancels_queued_messages(staff_client, user):
    queued = MessageFactory(owner=user, phone="+447800788645")

    response = staff_client.post("/admin/messaging/optout/add/", {"owner": user.pk, "phone": "07800 788645"})

    assert response.status_code == 302
    opt_out = OptOut.objects.get()
    assert (opt_out.phone, opt_out.source) == ("+447800788645", "admin")
    queued.refresh_from_db()
    assert (queued.status, queued.error) == (Message.Status.CANCELLED, "opted_out")


def test_an_opt_out_twice_is_refused_in_words(staff_client, user):
    staff_client.post("/admin/messaging/optout/add/", {"owner": user.pk, "phone": "07800 788645"})

    response = staff_client.post("/admin/messaging/optout/add/", {"owner": user.pk, "phone": "+44 7800 788645"})

    assert response.status_code == 200
    assert "already exists" in str(response.context["adminform"].form.errors)
    assert OptOut.objects.count() == 1


def test_an_opt_out_cannot_be_edited(staff_client, user):
    staff_client.post("/admin/messaging/optout/add/", {"owner": user.pk, "phone": "07800 788645"})
    opt_out = OptOut.objects.get()

    staff_client.post(f"/admin/messaging/optout/{opt_out.pk}/change/", {"owner": user.pk, "phone": "07800 788646"})

    opt_out.refresh_from_db()
    assert opt_out.phone == "+447800788645"


@pytest.mark.parametrize(
    "typed", ["07800 788645", "07800788645", "+44 7800 788645", "+447800788645", "(07800) 788-645"]
)
@pytest.mark.parametrize(
    ("path", "make"),
    [
        ("/admin/imports/contact/", lambda user, phone: ContactFactory(import_job__owner=user, phone=phone)),
        ("/admin/messaging/message/", lambda user, phone: MessageFactory(owner=user, phone=phone)),
        ("/admin/messaging/optout/", lambda user, phone: OptOut.objects.create(owner=user, phone=phone)),
    ],
)
def test_a_number_in_any_format_finds_its_rows(staff_client, user, path, make, typed):
    wanted = make(user, "+447800788645")
    make(user, "+447800788646")

    response = staff_client.get(path, {"q": typed})

    assert [row.pk for row in response.context["cl"].result_list] == [wanted.pk]


def test_a_name_still_searches_as_before(staff_client, user):
    ContactFactory(import_job__owner=user, name="Ann Example")
    ContactFactory(import_job__owner=user, name="Bob Other")

    response = staff_client.get("/admin/imports/contact/", {"q": "Ann"})

    assert [row.name for row in response.context["cl"].result_list] == ["Ann Example"]
