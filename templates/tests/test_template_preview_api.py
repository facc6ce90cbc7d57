"""Previewing a template: the rendered text and its SMS size, or the variables still missing."""

from __future__ import annotations

from templates.tests.factories import MessageTemplateFactory

CONTENT = 'Hi {{ name|default:"there" }}, your order {{ order_no }} ships to {{ city }}.'


def preview(api, template, body):
    return api.post(f"/api/v1/templates/{template.pk}/preview", body, format="json")


def test_a_preview_renders_and_measures_the_text(api, user):
    template = MessageTemplateFactory(owner=user, content=CONTENT)

    response = preview(api, template, {"variables": {"name": "Ann", "order_no": "A-17", "city": "Leeds"}})

    assert response.status_code == 200
    assert response.json() == {
        "rendered": "Hi Ann, your order A-17 ships to Leeds.",
        "encoding": "GSM-7",
        "characters": 39,
        "units": 39,
        "parts": 1,
        "missing": [],
        "variables": ["name", "order_no", "city"],
    }


def test_missing_variables_are_reported_not_refused(api, user):
    template = MessageTemplateFactory(owner=user, content=CONTENT)

    response = preview(api, template, {"variables": {"name": "Ann", "order_no": ""}})

    assert response.status_code == 200
    assert response.json() == {
        "rendered": None,
        "encoding": None,
        "characters": None,
        "units": None,
        "parts": None,
        "missing": ["city", "order_no"],
        "variables": ["name", "order_no", "city"],
    }


def test_the_phone_is_a_value_like_the_others(api, user):
    template = MessageTemplateFactory(owner=user, content="Reply STOP from {{ phone }}")

    body = preview(api, template, {"phone": "+447400123456"}).json()

    assert body["rendered"] == "Reply STOP from +447400123456"


def test_a_non_gsm_value_makes_the_text_ucs2(api, user):
    template = MessageTemplateFactory(owner=user, content="Hi {{ name }} " + "x" * 60)

    body = preview(api, template, {"variables": {"name": "Олег 😀"}}).json()

    assert (body["encoding"], body["characters"], body["units"], body["parts"]) == ("UCS-2", 70, 71, 2)


def test_an_extension_character_counts_two_units(api, user):
    template = MessageTemplateFactory(owner=user, content="Total {{ amount }}")

    body = preview(api, template, {"variables": {"amount": "€10"}}).json()

    assert (body["encoding"], body["characters"], body["units"]) == ("GSM-7", 9, 10)


def test_variables_must_be_an_object_of_strings(api, user):
    template = MessageTemplateFactory(owner=user)

    response = preview(api, template, {"variables": ["name"]})

    assert response.status_code == 400
    assert list(response.json()["error"]["details"]) == ["variables"]


def test_an_inactive_template_can_be_previewed(api, user):
    template = MessageTemplateFactory(owner=user, content="Hi", is_active=False)

    assert preview(api, template, {}).json()["rendered"] == "Hi"
