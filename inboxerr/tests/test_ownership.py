"""Every API resource shows a user their own objects and answers 404 for anyone else's."""

import pytest

from campaigns.tests.factories import CampaignFactory
from imports.tests.factories import ImportJobFactory
from messaging.tests.factories import MessageFactory
from templates.tests.factories import MessageTemplateFactory

RESOURCES = [
    ("templates", MessageTemplateFactory),
    ("imports", ImportJobFactory),
    ("campaigns", CampaignFactory),
    ("messages", MessageFactory),
]


@pytest.mark.parametrize(("path", "factory"), RESOURCES)
def test_a_user_lists_and_reads_their_own_objects(api, user, path, factory):
    mine = factory(owner=user)

    listed = api.get(f"/api/v1/{path}/")
    detail = api.get(f"/api/v1/{path}/{mine.pk}")

    assert listed.status_code == 200
    assert [item["id"] for item in listed.json()["results"]] == [_json_id(mine.pk)]
    assert detail.status_code == 200
    assert detail.json()["id"] == _json_id(mine.pk)


@pytest.mark.parametrize(("path", "factory"), RESOURCES)
def test_another_users_objects_are_invisible_and_404(api, other_user, path, factory):
    theirs = factory(owner=other_user)

    listed = api.get(f"/api/v1/{path}/")
    detail = api.get(f"/api/v1/{path}/{theirs.pk}")

    assert listed.status_code == 200
    assert listed.json()["results"] == []
    assert detail.status_code == 404
    assert detail.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize(("path", "factory"), RESOURCES)
def test_staff_see_only_their_own_objects_through_the_api(api, user, other_user, path, factory):
    user.is_staff = user.is_superuser = True
    user.save()
    theirs = factory(owner=other_user)

    assert api.get(f"/api/v1/{path}/{theirs.pk}").status_code == 404


def _json_id(pk):
    return pk if isinstance(pk, int) else str(pk)
