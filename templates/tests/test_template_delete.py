"""A template campaigns use cannot be deleted (409), only deactivated."""

from __future__ import annotations

import pytest

from campaigns.models import Campaign
from inboxerr.exceptions import Conflict
from templates import services
from templates.models import MessageTemplate
from templates.tests.factories import MessageTemplateFactory

URL = "/api/v1/templates/"


def campaign_using(template, name: str = "Spring sale") -> Campaign:
    return Campaign.objects.create(owner=template.owner, name=name, template=template, message_content="")


def test_deleting_a_template_in_use_is_a_409_saying_how_many_campaigns_use_it(api, user):
    template = MessageTemplateFactory(owner=user, name="Welcome")
    campaign_using(template, "One")
    campaign_using(template, "Two")

    response = api.delete(f"{URL}{template.pk}")

    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "conflict"
    assert error["message"] == (
        'The template "Welcome" is used by 2 campaign(s), so it cannot be deleted. '
        "You can deactivate it instead (is_active: false)."
    )
    assert error["details"] == {"campaigns": 2}
    assert MessageTemplate.objects.filter(pk=template.pk).exists()


def test_a_template_in_use_can_be_deactivated(api, user):
    template = MessageTemplateFactory(owner=user)
    campaign_using(template)

    response = api.patch(f"{URL}{template.pk}", {"is_active": False}, format="json")

    assert response.status_code == 200
    template.refresh_from_db()
    assert template.is_active is False


def test_the_delete_service_raises_conflict_and_keeps_the_row(user):
    template = MessageTemplateFactory(owner=user)
    campaign_using(template)

    with pytest.raises(Conflict):
        services.template_delete(template=template)

    assert MessageTemplate.objects.filter(pk=template.pk).exists()


def test_a_template_is_deletable_once_its_campaigns_are_gone(api, user):
    template = MessageTemplateFactory(owner=user)
    campaign_using(template).delete()

    assert api.delete(f"{URL}{template.pk}").status_code == 204
