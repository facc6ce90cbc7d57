"""Templates through the API: create, list, read, update and delete one's own; variables derived."""

from __future__ import annotations

import pytest

from templates.models import MessageTemplate
from templates.tests.factories import MessageTemplateFactory

URL = "/api/v1/templates/"


def detail(template) -> str:
    return f"{URL}{template.pk}"


def test_creating_a_template_derives_its_variables(api, user):
    response = api.post(
        URL,
        {"name": "Shipping", "content": 'Hi {{ name|default:"there" }}, order {{ order_no }} ships to {{ city }}.'},
        format="json",
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    template = MessageTemplate.objects.get(pk=body["id"])
    assert template.owner == user
    assert body["variables"] == template.variables == ["name", "order_no", "city"]
    assert (body["name"], body["description"], body["is_active"]) == ("Shipping", "", True)


def test_variables_sent_by_the_client_are_ignored(api):
    response = api.post(URL, {"name": "T", "content": "{{ a }}", "variables": ["x", "y"]}, format="json")

    assert response.json()["variables"] == ["a"]


def test_content_is_kept_exactly_as_written(api):
    response = api.post(URL, {"name": "T", "content": "  Hi {{ a }}\n"}, format="json")

    assert MessageTemplate.objects.get(pk=response.json()["id"]).content == "  Hi {{ a }}\n"


def test_a_template_needs_a_name_and_content(api):
    response = api.post(URL, {"description": "no name, no content"}, format="json")

    assert response.status_code == 400
    assert set(response.json()["error"]["details"]) == {"name", "content"}


def test_whitespace_only_content_is_refused_on_the_content_field(api):
    response = api.post(URL, {"name": "T", "content": "   "}, format="json")

    assert response.status_code == 400
    assert list(response.json()["error"]["details"]) == ["content"]
    assert not MessageTemplate.objects.exists()


def test_malformed_content_is_refused_naming_its_position(api):
    response = api.post(URL, {"name": "T", "content": "Hello {{ name"}, format="json")

    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "invalid_template",
        "message": 'Unclosed merge field "{{ name" at line 1, column 7.',
        "details": {"position": 6, "line": 1, "column": 7},
    }
    assert not MessageTemplate.objects.exists()


def test_the_list_shows_only_own_templates_filtered_by_active(api, user, other_user):
    active = MessageTemplateFactory(owner=user, name="A")
    inactive = MessageTemplateFactory(owner=user, name="B", is_active=False)
    MessageTemplateFactory(owner=other_user, name="C")

    everything = api.get(URL).json()["results"]
    only_active = api.get(URL, {"is_active": "true"}).json()["results"]

    assert [t["id"] for t in everything] == [active.pk, inactive.pk]
    assert [t["id"] for t in only_active] == [active.pk]


def test_a_template_reads_back(api, user):
    template = MessageTemplateFactory(owner=user)

    body = api.get(detail(template)).json()

    assert (body["id"], body["content"], body["variables"]) == (template.pk, template.content, ["name", "order_no"])


def test_changing_the_content_changes_the_variables(api, user):
    template = MessageTemplateFactory(owner=user, content="{{ a }}")

    response = api.patch(detail(template), {"content": "{{ b }} {{ c|default:'x' }}"}, format="json")

    assert response.status_code == 200
    template.refresh_from_db()
    assert response.json()["variables"] == template.variables == ["b", "c"]


def test_a_full_update_replaces_every_field(api, user):
    template = MessageTemplateFactory(owner=user, description="old")

    response = api.put(
        detail(template), {"name": "New", "content": "Hi", "description": "new", "is_active": False}, format="json"
    )

    assert response.status_code == 200
    template.refresh_from_db()
    assert (template.name, template.content, template.description, template.is_active) == ("New", "Hi", "new", False)
    assert template.variables == []


def test_malformed_content_leaves_the_template_unchanged(api, user):
    template = MessageTemplateFactory(owner=user, content="{{ a }}")

    response = api.patch(detail(template), {"content": "{{ a }} {{ x|upper }}"}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["details"] == {"position": 13, "line": 1, "column": 14}
    template.refresh_from_db()
    assert (template.content, template.variables) == ("{{ a }}", ["a"])


def test_a_template_no_campaign_uses_can_be_deleted(api, user):
    template = MessageTemplateFactory(owner=user)

    response = api.delete(detail(template))

    assert response.status_code == 204
    assert not MessageTemplate.objects.exists()


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("get", "", None),
        ("patch", "", {"name": "Mine now"}),
        ("put", "", {"name": "Mine now", "content": "x"}),
        ("delete", "", None),
        ("post", "/preview", {"variables": {}}),
    ],
)
def test_another_users_template_is_not_found(other_api, user, method, suffix, body):
    template = MessageTemplateFactory(owner=user, name="Theirs")

    response = getattr(other_api, method)(detail(template) + suffix, body, format="json")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    template.refresh_from_db()
    assert template.name == "Theirs"


def test_the_api_needs_authentication(client, db):
    assert client.get(URL).status_code in (401, 403)


def test_a_template_created_with_a_form_body_that_leaves_is_active_out_is_active(api):
    response = api.post("/api/v1/templates/", {"name": "Form", "content": "Hi"}, format="multipart")

    assert response.status_code == 201
    assert response.json()["is_active"] is True


def test_a_form_put_that_leaves_is_active_out_leaves_it_as_it_was(api, user):
    template = MessageTemplateFactory(owner=user, is_active=True)

    response = api.put(f"/api/v1/templates/{template.pk}", {"name": "Renamed", "content": "Hi"}, format="multipart")

    assert response.status_code == 200
    template.refresh_from_db()
    assert (template.name, template.is_active) == ("Renamed", True)


def test_a_form_can_still_deactivate_a_template(api, user):
    template = MessageTemplateFactory(owner=user, is_active=True)

    api.patch(f"/api/v1/templates/{template.pk}", {"is_active": "false"}, format="multipart")

    template.refresh_from_db()
    assert template.is_active is False
