"""The template form's live preview: the admin endpoint that renders the content being typed with an import's first
contact or typed values, measures it as an SMS and lists the characters that make it UCS-2."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains

from imports.models import ImportJob
from imports.tests.factories import ContactFactory, ImportJobFactory
from inboxerr.tests.factories import UserFactory
from templates.tests.factories import MessageTemplateFactory

pytestmark = pytest.mark.django_db

URL = reverse("admin:message_templates_messagetemplate_preview")
ADD_URL = reverse("admin:message_templates_messagetemplate_add")


def ask(client, **fields) -> dict:
    response = client.post(URL, fields)
    assert response.status_code == 200
    return response.json()


@pytest.fixture
def orders_import(user):
    """The user's finished import: its first contact Ann, then Bob."""
    job = ImportJobFactory(owner=user, original_filename="orders.csv", total_rows=2, imported_rows=2)
    ContactFactory(import_job=job, phone="+447400000001", name="Ann", variables={"order_no": "A-1", "city": "Łódź"})
    ContactFactory(import_job=job, phone="+447400000002", name="Bob", variables={"order_no": "B-2", "city": "York"})
    return job


def test_gsm_text_is_rendered_and_measured(staff_client, user):
    answer = ask(
        staff_client, content="Hi {{ name }}, order {{ order_no }} €", owner=user.pk, values="name=Ann\norder_no = A-17"
    )

    assert answer == {
        "rendered": "Hi Ann, order A-17 €",
        "encoding": "GSM-7",
        "characters": 20,
        "units": 21,  # € is ESC plus a character
        "parts": 1,
        "missing": [],
        "variables": ["name", "order_no"],
        "ucs2_characters": [],
        "max_parts": answer["max_parts"],
        "values": {"name": "Ann", "order_no": "A-17"},
        "placeholders": False,
        "imports": [],
    }


def test_ucs2_text_lists_the_characters_that_force_it(staff_client, user):
    answer = ask(staff_client, content="Cześć {{ name }} 😀", owner=user.pk, values="name=Zoë")

    assert (answer["rendered"], answer["encoding"]) == ("Cześć Zoë 😀", "UCS-2")
    # Positions count characters: the emoji is one, though two UCS-2 units.
    assert (answer["characters"], answer["units"], answer["parts"]) == (11, 12, 1)
    assert answer["ucs2_characters"] == [
        {"position": 3, "character": "ś"},
        {"position": 4, "character": "ć"},
        {"position": 8, "character": "ë"},
        {"position": 10, "character": "😀"},
    ]


def test_a_saved_templates_preview_takes_values_from_its_owners_import(staff_client, user, orders_import):
    template = MessageTemplateFactory(owner=user)

    answer = ask(
        staff_client,
        content="{{ name }} ({{ phone }}): order {{ order_no }} to {{ city }}",
        template=template.pk,
        **{"import": orders_import.pk},
    )

    # The first contact, with its name and phone as a campaign's message has them.
    assert answer["rendered"] == "Ann (+447400000001): order A-1 to Łódź"
    assert answer["values"] == {"order_no": "A-1", "city": "Łódź", "phone": "+447400000001", "name": "Ann"}
    assert [(found["position"], found["character"]) for found in answer["ucs2_characters"]] == [
        (34, "Ł"),
        (35, "ó"),
        (37, "ź"),
    ]
    assert answer["imports"] == [{"id": orders_import.pk, "label": f"orders.csv (2 contacts, #{orders_import.pk})"}]


def test_values_typed_in_go_over_the_imports(staff_client, user, orders_import):
    answer = ask(
        staff_client,
        content="{{ name }}: {{ order_no }}",
        owner=user.pk,
        values='{"order_no": 17}',
        **{"import": orders_import.pk},
    )

    assert answer["rendered"] == "Ann: 17"


def test_only_the_owners_finished_imports_are_offered(staff_client, user, other_user, orders_import):
    ImportJobFactory(owner=other_user)
    ImportJobFactory(owner=user, status=ImportJob.Status.PROCESSING)
    ImportJobFactory(owner=user, status=ImportJob.Status.FAILED)

    answer = ask(staff_client, content="Hi", owner=user.pk)

    assert [choice["id"] for choice in answer["imports"]] == [orders_import.pk]


def test_another_owners_import_is_refused(staff_client, user, other_user):
    theirs = ImportJobFactory(owner=other_user)
    ContactFactory(import_job=theirs, name="Secret")
    template = MessageTemplateFactory(owner=user)

    for owner in ({"template": template.pk}, {"owner": user.pk}, {}):
        answer = ask(staff_client, content="Hi {{ name }}", **owner, **{"import": theirs.pk})

        assert answer["error"] == "That import is not one of the owner's finished imports with contacts."
        assert "Secret" not in str(answer)


def test_a_contact_without_a_value_is_reported_missing(staff_client, user, orders_import):
    answer = ask(staff_client, content="{{ name }} {{ shoe_size }}", owner=user.pk, **{"import": orders_import.pk})

    assert (answer["rendered"], answer["missing"], answer["placeholders"]) == (None, ["shoe_size"], False)


def test_without_values_each_one_has_a_stand_in(staff_client, user):
    answer = ask(staff_client, content='Hi {{ name|default:"there" }}, order {{ order_no }}', owner=user.pk)

    assert (answer["rendered"], answer["placeholders"]) == ("Hi there, order <order_no>", True)


def test_a_line_break_typed_in_the_browser_counts_once(staff_client, user):
    answer = ask(staff_client, content="a\r\nb", owner=user.pk)

    assert (answer["rendered"], answer["characters"]) == ("a\nb", 3)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("Hi {{ name|upper }}", 'Unknown filter "upper" (only default is supported) at line 1, column 12.'),
        ("Hi {{ name", 'Unclosed merge field "{{ name" at line 1, column 4.'),
        ("Hi\n}} there", '"}}" without an opening "{{" at line 2, column 1.'),
    ],
)
def test_malformed_content_answers_the_renderers_message(staff_client, user, content, message):
    answer = ask(staff_client, content=content, owner=user.pk)

    assert (answer["error"], answer["code"]) == (message, "invalid_template")
    assert "rendered" not in answer


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ("name=Ann\nBob", "Line 2 of the values is not name=value."),
        ('{"name": "Ann",}', "The values are not a JSON object: Expecting property name enclosed in double quotes"),
        ('{"name": ["Ann"]}', 'The value of "name" must be text or a number.'),
    ],
)
def test_values_that_cannot_be_read_say_why(staff_client, user, values, message):
    answer = ask(staff_client, content="Hi {{ name }}", owner=user.pk, values=values)

    assert answer["error"].startswith(message)


def test_it_answers_post_only(staff_client):
    assert staff_client.get(URL).status_code == 405


def test_a_user_who_is_not_staff_is_sent_to_log_in(client, user, orders_import):
    client.force_login(user)

    response = client.post(URL, {"content": "Hi {{ name }}", "owner": user.pk, "import": orders_import.pk})

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_staff_need_a_permission_on_templates(user):
    template = MessageTemplateFactory(owner=user)
    staff = UserFactory(is_staff=True)
    client = Client()
    client.force_login(staff)

    refused = [client.post(URL, body).status_code for body in ({"content": "Hi"}, {"template": template.pk})]
    staff.user_permissions.set([Permission.objects.get(codename="view_messagetemplate")])
    reader = client.post(URL, {"content": "Hi", "template": template.pk})
    adding = client.post(URL, {"content": "Hi", "owner": user.pk})

    assert refused == [403, 403]
    assert (reader.status_code, adding.status_code) == (200, 403)


def test_it_needs_the_csrf_token(user):
    user.is_staff = user.is_superuser = True
    user.save()
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)

    assert client.post(URL, {"content": "Hi"}).status_code == 403


def test_an_unknown_template_is_not_found(staff_client):
    assert staff_client.post(URL, {"content": "Hi", "template": "999999"}).status_code == 404
    assert staff_client.post(URL, {"content": "Hi", "template": "²"}).status_code == 404


@pytest.mark.parametrize("page", ["add", "change"])
def test_the_form_has_the_preview_and_its_script(staff_client, user, page):
    url = (
        ADD_URL
        if page == "add"
        else reverse("admin:message_templates_messagetemplate_change", args=[MessageTemplateFactory(owner=user).pk])
    )

    response = staff_client.get(url)

    assertContains(response, '<script src="/static/message_templates/preview.js"></script>', html=True)
    assertContains(response, 'href="/static/message_templates/preview.css"')
    assertContains(response, f'<div class="template-preview" data-url="{URL}"')
    assertContains(response, '<select class="template-preview-import">')
    assertContains(response, '<textarea class="template-preview-typed')
    assertNotContains(response, "Save the template to see a preview")
