"""Creating and editing campaigns: exactly one of content and template, own references, variable checks."""

import pytest

from campaigns.models import Campaign
from campaigns.tests.factories import CampaignFactory
from imports.models import ImportJob
from imports.tests.factories import ImportJobFactory
from templates.tests.factories import MessageTemplateFactory


def create(api, **fields):
    return api.post("/api/v1/campaigns/", {"name": "Spring sale", **fields}, format="json")


def test_a_campaign_is_created_from_raw_content(api, user, contacts_import):
    response = create(api, message_content="Hi {{ name }}, order {{ order_no }}", import_id=contacts_import.pk)

    assert response.status_code == 201
    campaign = Campaign.objects.get(pk=response.json()["id"])
    assert (campaign.owner, campaign.status, campaign.import_job) == (user, Campaign.Status.DRAFT, contacts_import)
    assert campaign.message_content == "Hi {{ name }}, order {{ order_no }}"


def test_a_campaign_is_created_from_a_template(api, user, contacts_import):
    template = MessageTemplateFactory(owner=user, content="Hi {{ name }} from {{ city|default:'us' }}")

    response = create(api, template_id=template.pk, import_id=contacts_import.pk)

    assert response.status_code == 201
    assert response.json()["template_id"] == template.pk
    assert response.json()["message_content"] == ""


@pytest.mark.parametrize("fields", [{}, {"message_content": "", "template_id": None}, "both"])
def test_neither_or_both_of_content_and_template_is_a_400_naming_both_fields(api, user, fields):
    if fields == "both":
        fields = {"message_content": "Hi", "template_id": MessageTemplateFactory(owner=user).pk}

    response = create(api, **fields)

    assert response.status_code == 400
    assert set(response.json()["error"]["details"]) == {"message_content", "template_id"}
    assert not Campaign.objects.exists()


def test_another_users_template_is_refused_without_saying_it_exists(api, other_user):
    theirs = MessageTemplateFactory(owner=other_user)

    response = create(api, template_id=theirs.pk)
    missing = create(api, template_id=999_999)

    assert response.status_code == missing.status_code == 400
    assert response.json()["error"]["details"] == missing.json()["error"]["details"]


def test_an_inactive_template_is_refused(api, user):
    template = MessageTemplateFactory(owner=user, is_active=False)

    response = create(api, template_id=template.pk)

    assert response.status_code == 400
    assert "inactive" in response.json()["error"]["details"]["template_id"][0]


@pytest.mark.parametrize("status", ["PROCESSING", "FAILED", "CANCELLED"])
def test_an_unfinished_or_failed_import_is_refused(api, user, status):
    job = ImportJobFactory(owner=user, status=status)

    response = create(api, message_content="Hi", import_id=job.pk)

    assert response.status_code == 400
    assert status in response.json()["error"]["details"]["import_id"][0]


def test_another_users_import_is_refused_like_a_missing_one(api, other_user):
    theirs = ImportJobFactory(owner=other_user, status=ImportJob.Status.SUCCESS)

    response = create(api, message_content="Hi", import_id=theirs.pk)

    assert response.status_code == 400
    assert response.json()["error"]["details"]["import_id"] == ["No import of yours has this id."]


def test_variables_the_import_lacks_are_a_400_listing_them(api, contacts_import):
    response = create(
        api, message_content="Hi {{ name }} {{ coupon }} {{ tier }} {{ city }}", import_id=contacts_import.pk
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "missing_variables"
    assert response.json()["error"]["details"]["missing"] == ["coupon", "tier"]


def test_a_variable_with_a_default_need_not_be_a_column(api, contacts_import):
    response = create(api, message_content='Hi {{ coupon|default:"friend" }}', import_id=contacts_import.pk)

    assert response.status_code == 201


def test_malformed_content_is_a_400_naming_the_position(api):
    response = create(api, message_content="Hi {{ name")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_template"
    assert "column" in response.json()["error"]["message"]


def test_a_draft_can_be_edited_and_the_same_checks_apply(api, user, contacts_import):
    campaign = CampaignFactory(owner=user, import_job=contacts_import, message_content="Hi")

    ok = api.patch(f"/api/v1/campaigns/{campaign.pk}", {"message_content": "Hello {{ city }}"}, format="json")
    bad = api.patch(f"/api/v1/campaigns/{campaign.pk}", {"message_content": "Hello {{ tier }}"}, format="json")

    assert ok.status_code == 200
    assert bad.status_code == 400
    campaign.refresh_from_db()
    assert campaign.message_content == "Hello {{ city }}"


@pytest.mark.parametrize("status", ["SCHEDULED", "RUNNING", "PAUSED", "COMPLETED", "CANCELLED", "FAILED"])
def test_only_a_draft_can_be_edited_or_deleted(api, user, status):
    campaign = CampaignFactory(owner=user, status=status)

    edit = api.patch(f"/api/v1/campaigns/{campaign.pk}", {"name": "New"}, format="json")
    delete = api.delete(f"/api/v1/campaigns/{campaign.pk}")

    assert edit.status_code == delete.status_code == 409
    assert edit.json()["error"]["details"] == {"status": status}
    assert Campaign.objects.filter(pk=campaign.pk, name=campaign.name).exists()


def test_a_draft_can_be_deleted(api, user):
    campaign = CampaignFactory(owner=user)

    assert api.delete(f"/api/v1/campaigns/{campaign.pk}").status_code == 204
    assert not Campaign.objects.filter(pk=campaign.pk).exists()


@pytest.mark.parametrize(
    ("method", "suffix"),
    [
        ("get", ""),
        ("patch", ""),
        ("delete", ""),
        ("post", "/start"),
        ("post", "/pause"),
        ("post", "/resume"),
        ("post", "/cancel"),
        ("get", "/stats"),
        ("get", "/messages"),
        ("get", "/preview"),
    ],
)
def test_another_users_campaign_is_404_everywhere(api, other_user, method, suffix):
    campaign = CampaignFactory(owner=other_user)

    response = getattr(api, method)(f"/api/v1/campaigns/{campaign.pk}{suffix}", {}, format="json")

    assert response.status_code == 404
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.DRAFT
