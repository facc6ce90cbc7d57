"""A campaign's owner, template and import are searchable selects; the template and import offer only what
the chosen owner may use (their own active templates and finished imports)."""

from __future__ import annotations

from campaigns.tests.factories import CampaignFactory
from imports.models import ImportJob
from imports.tests.factories import ImportJobFactory
from templates.tests.factories import MessageTemplateFactory


def choices(client, field: str, owner: str | None, term: str = "") -> list[str]:
    query = {"app_label": "campaigns", "model_name": "campaign", "field_name": field, "term": term}
    if owner is not None:
        query["owner"] = owner
    response = client.get("/admin/autocomplete/", query)
    assert response.status_code == 200, response.content
    return [result["text"] for result in response.json()["results"]]


def test_the_template_select_offers_the_owners_active_templates_only(staff_client, user, other_user):
    MessageTemplateFactory(owner=user, name="Reminder")
    MessageTemplateFactory(owner=user, name="Retired", is_active=False)
    MessageTemplateFactory(owner=other_user, name="Someone else's")

    assert choices(staff_client, "template", str(user.pk)) == ["Reminder"]
    assert choices(staff_client, "template", str(other_user.pk)) == ["Someone else's"]
    assert choices(staff_client, "template", str(user.pk), term="nothing like it") == []


def test_the_import_select_offers_the_owners_finished_imports_only(staff_client, user, other_user):
    ImportJobFactory(owner=user, original_filename="spring.csv")
    ImportJobFactory(owner=user, original_filename="running.csv", status=ImportJob.Status.PROCESSING)
    ImportJobFactory(owner=other_user, original_filename="theirs.csv")

    assert choices(staff_client, "import_job", str(user.pk)) == ["spring.csv (SUCCESS)"]


def test_no_owner_chosen_yet_offers_nothing_rather_than_everyones(staff_client, user):
    MessageTemplateFactory(owner=user, name="Reminder")

    assert choices(staff_client, "template", "") == []
    assert choices(staff_client, "template", "²") == []


def test_a_search_not_made_for_a_campaign_form_is_not_narrowed(staff_client, user, other_user):
    MessageTemplateFactory(owner=user, name="Reminder", is_active=False)
    MessageTemplateFactory(owner=other_user, name="Theirs")

    assert sorted(choices(staff_client, "template", None)) == ["Reminder", "Theirs"]


def test_the_forms_selects_know_whose_choices_to_ask_for(staff_client, user):
    add = staff_client.get("/admin/campaigns/campaign/add/").content.decode()
    assert 'data-owner-from="id_owner"' in add
    assert "inboxerr/owner_choices.js" in add
    assert add.index("admin/js/autocomplete.js") < add.index("inboxerr/owner_choices.js")

    campaign = CampaignFactory(owner=user, message_content="Hi")
    change = staff_client.get(f"/admin/campaigns/campaign/{campaign.pk}/change/").content.decode()
    assert f'data-owner="{user.pk}"' in change
