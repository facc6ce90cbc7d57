"""The admin is for staff: every model's list and form load, for staff only."""

import pytest

from campaigns.tests.factories import CampaignFactory
from imports.tests.factories import ContactFactory, ImportJobFactory
from messaging.tests.factories import MessageEventFactory, MessageFactory, OptOutFactory, TaskRecordFactory
from messaging.tests.webhook_factories import WebhookDeliveryFactory, WebhookEndpointFactory
from templates.tests.factories import MessageTemplateFactory

MODELS = [
    ("message_templates/messagetemplate", MessageTemplateFactory),
    ("imports/importjob", ImportJobFactory),
    ("imports/contact", ContactFactory),
    ("campaigns/campaign", CampaignFactory),
    ("messaging/message", MessageFactory),
    ("messaging/messageevent", MessageEventFactory),
    ("messaging/taskrecord", TaskRecordFactory),
    ("messaging/optout", OptOutFactory),
    ("messaging/webhookendpoint", WebhookEndpointFactory),
    ("messaging/webhookdelivery", WebhookDeliveryFactory),
]


@pytest.mark.parametrize(("path", "factory"), MODELS)
def test_staff_open_every_list_search_and_form(staff_client, path, factory):
    obj = factory()

    assert staff_client.get(f"/admin/{path}/").status_code == 200
    assert staff_client.get(f"/admin/{path}/", {"q": "+4477"}).status_code == 200
    assert staff_client.get(f"/admin/{path}/{obj.pk}/change/").status_code == 200


@pytest.mark.parametrize(("path", "factory"), MODELS)
def test_the_admin_turns_away_users_who_are_not_staff(client, user, path, factory):
    client.force_login(user)

    response = client.get(f"/admin/{path}/")

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_the_admin_login_page_works(client, db):
    from inboxerr.tests.factories import UserFactory

    UserFactory(username="boss", is_staff=True, is_superuser=True)

    response = client.post(
        "/admin/login/?next=/admin/", {"username": "boss", "password": "correct horse battery staple"}
    )

    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200


def test_big_lists_never_count_the_whole_table(staff_client):
    from inboxerr.admin import CappedCountPaginator

    MessageFactory.create_batch(5)
    CappedCountPaginator.COUNT_CAP, cap = 3, CappedCountPaginator.COUNT_CAP
    try:
        response = staff_client.get("/admin/messaging/message/")
    finally:
        CappedCountPaginator.COUNT_CAP = cap

    assert response.context["cl"].result_count == 3
