"""The services keep `variables` in step with the content and refuse what the database would."""

from __future__ import annotations

import pytest

from templates import services
from templates.renderer import TemplateSyntaxError


def test_create_stores_the_compiled_variables(user):
    template = services.template_create(owner_id=user.pk, name="T", content="{{ b }} {{ a|default:'x' }} {{ b }}")

    template.refresh_from_db()
    assert template.variables == ["b", "a"]


def test_update_of_other_fields_keeps_the_variables(user):
    template = services.template_create(owner_id=user.pk, name="T", content="{{ a }}")

    services.template_update(template=template, description="new", is_active=False)

    template.refresh_from_db()
    assert (template.description, template.is_active, template.variables) == ("new", False, ["a"])


def test_update_refuses_fields_it_does_not_manage(user):
    template = services.template_create(owner_id=user.pk, name="T", content="x")

    with pytest.raises(TypeError):
        services.template_update(template=template, variables=["forged"])


def test_malformed_content_creates_nothing(user):
    with pytest.raises(TemplateSyntaxError):
        services.template_create(owner_id=user.pk, name="T", content="{{ x")

    assert not user.message_templates.exists()


def test_a_blank_name_is_refused_on_the_name_field(user):
    with pytest.raises(services.TemplateFieldError) as error:
        services.template_create(owner_id=user.pk, name="  ", content="x")

    assert error.value.field == "name"
