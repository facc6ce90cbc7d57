"""The admin runs the API's checks: no form of ours lets staff tie one user's object to another user's.

Every add and change form is walked: a form that takes an owner beside references to owned objects (a
campaign's template and import) is posted with another user's objects and must refuse them, changing
nothing; a form that takes owned references without an owner (a contact's import) makes the owner follow them.
"""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.forms import ModelChoiceField
from django.test import RequestFactory

from campaigns.admin import CampaignForm
from campaigns.models import Campaign
from campaigns.tests.factories import CampaignFactory
from imports.models import Contact
from imports.tests.factories import ImportJobFactory
from inboxerr.admin import ModelAdmin
from inboxerr.tests.factories import UserFactory
from templates.tests.factories import MessageTemplateFactory

User = get_user_model()
COLUMNS = {"phone": "Phone", "name": ["Name"], "variables": {"Order No.": "order_no"}}


@pytest.fixture
def staff(db):
    return UserFactory(is_staff=True, is_superuser=True)


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


def owned_model(model) -> bool:
    return any(field.name == "owner" for field in model._meta.get_fields())


def form_references(staff) -> dict[str, tuple[bool, list[str]]]:
    """For each admin form of ours that can be filled in: (does it take an owner, its owned references)."""
    request = RequestFactory().get("/")
    request.user = staff
    found = {}
    for model, model_admin in admin.site._registry.items():
        if not isinstance(model_admin, ModelAdmin) or not model_admin.has_add_permission(request):
            continue
        if type(model_admin).add_view is not admin.ModelAdmin.add_view:
            continue  # its own add page (an import's is the upload form, owned by whoever uploads)
        fields = model_admin.get_form(request).base_fields
        owned = [
            name
            for name, field in fields.items()
            if isinstance(field, ModelChoiceField) and field.queryset.model is not User
            if owned_model(field.queryset.model)
        ]
        if owned:
            found[model._meta.label] = ("owner" in fields, owned)
    return found


def test_the_walk_covers_every_form_that_takes_owned_references(staff):
    # A new form with owned references must get its own test below before this passes.
    assert form_references(staff) == {
        "campaigns.Campaign": (True, ["template", "import_job"]),
        "imports.Contact": (False, ["import_job"]),
    }


def campaign_data(owner, **fields) -> dict:
    return {
        "owner": owner.pk,
        "name": "Spring",
        "description": "",
        "message_content": "",
        "template": "",
        "import_job": "",
        "scheduled_at_0": "",
        "scheduled_at_1": "",
        **fields,
    }


def test_a_campaign_cannot_be_added_on_another_users_import(staff_client, user, other_user):
    theirs = ImportJobFactory(owner=other_user, column_mapping=COLUMNS)

    response = staff_client.post(
        "/admin/campaigns/campaign/add/", campaign_data(user, message_content="Hi {{ name }}", import_job=theirs.pk)
    )

    assert response.status_code == 200
    assert "This import belongs to another user" in response.content.decode()
    assert not Campaign.objects.exists()


def test_a_campaign_cannot_be_added_with_another_users_template(staff_client, user, other_user):
    theirs = MessageTemplateFactory(owner=other_user, content="Hi {{ name }}")
    mine = ImportJobFactory(owner=user, column_mapping=COLUMNS)

    response = staff_client.post(
        "/admin/campaigns/campaign/add/", campaign_data(user, template=theirs.pk, import_job=mine.pk)
    )

    assert response.status_code == 200
    assert "This template belongs to another user" in response.content.decode()
    assert not Campaign.objects.exists()


def test_a_draft_cannot_be_moved_onto_another_users_import_or_template(staff_client, user, other_user):
    campaign = CampaignFactory(owner=user, import_job__column_mapping=COLUMNS, message_content="Hi {{ name }}")
    their_import = ImportJobFactory(owner=other_user, column_mapping=COLUMNS)
    their_template = MessageTemplateFactory(owner=other_user, content="Hi {{ name }}")
    url = f"/admin/campaigns/campaign/{campaign.pk}/change/"

    onto_import = staff_client.post(
        url, campaign_data(user, message_content="Hi {{ name }}", import_job=their_import.pk)
    )
    onto_template = staff_client.post(
        url, campaign_data(user, template=their_template.pk, import_job=campaign.import_job_id)
    )

    assert "This import belongs to another user" in onto_import.content.decode()
    assert "This template belongs to another user" in onto_template.content.decode()
    campaign.refresh_from_db()
    assert (campaign.import_job.owner, campaign.template) == (user, None)


def test_the_admin_checks_the_variables_when_saving(staff_client, user):
    mine = ImportJobFactory(owner=user, column_mapping=COLUMNS)

    response = staff_client.post(
        "/admin/campaigns/campaign/add/", campaign_data(user, message_content="Hi {{ tier }}", import_job=mine.pk)
    )

    assert "The import has no column for tier" in response.content.decode()
    assert not Campaign.objects.exists()


def test_a_campaign_added_in_the_admin_goes_through_the_service_and_is_the_owners(staff_client, user):
    mine = ImportJobFactory(owner=user, column_mapping=COLUMNS)

    response = staff_client.post(
        "/admin/campaigns/campaign/add/", campaign_data(user, message_content="Hi {{ name }}", import_job=mine.pk)
    )

    assert response.status_code == 302
    campaign = Campaign.objects.get()
    assert (campaign.owner, campaign.import_job, campaign.status) == (user, mine, Campaign.Status.DRAFT)


def test_a_contact_belongs_to_whoever_owns_its_import(staff_client, other_user):
    theirs = ImportJobFactory(owner=other_user)

    response = staff_client.post(
        "/admin/imports/contact/add/",
        {"import_job": theirs.pk, "phone": "+447400123456", "name": "Ann", "variables": "{}", "row_number": "2"},
    )

    assert response.status_code == 302
    assert Contact.objects.get().owner == other_user


def test_a_campaign_out_of_draft_is_read_only_and_a_post_changes_nothing(staff_client, user):
    campaign = CampaignFactory(owner=user, status=Campaign.Status.RUNNING, import_job__column_mapping=COLUMNS)
    url = f"/admin/campaigns/campaign/{campaign.pk}/change/"

    page = staff_client.get(url)
    posted = staff_client.post(url, campaign_data(user, name="Renamed", message_content="Hi"))

    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    assert posted.status_code == 403
    campaign.refresh_from_db()
    assert campaign.name != "Renamed"


def test_a_draft_started_while_its_page_was_open_is_not_edited(staff_client, user):
    campaign = CampaignFactory(owner=user, import_job__column_mapping=COLUMNS, message_content="Hi {{ name }}")
    url = f"/admin/campaigns/campaign/{campaign.pk}/change/"
    form = CampaignForm(
        data=campaign_data(user, name="Renamed", message_content="Hi", import_job=campaign.import_job_id),
        instance=campaign,
    )
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.RUNNING)

    assert not form.is_valid()
    assert "A RUNNING campaign cannot edit." in str(form.errors)
    assert staff_client.get(url).status_code == 200
