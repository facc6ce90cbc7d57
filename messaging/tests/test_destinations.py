"""Where messages may go: the deployment's countries, a user's own allowlist, and no premium-rate or
shared-cost number unless staff allow it; one check for single sends, batches and campaigns."""

from __future__ import annotations

import pytest
from django.urls import reverse

from campaigns.fanout import campaign_fan_out
from campaigns.models import Campaign
from campaigns.tests.factories import CampaignFactory
from imports.models import ImportJob
from imports.tests.factories import ContactFactory, ImportJobFactory
from messaging import dispatcher
from messaging.destinations import COUNTRY_NOT_ALLOWED, PREMIUM_RATE_NOT_ALLOWED, country_of, destinations_for
from messaging.models import Message, OptOut, SendingLimits
from messaging.tests.factories import MessageFactory

UK, US, IN, UK_PREMIUM = "+447400123456", "+12015550123", "+919812345678", "+449061234567"
pytestmark = pytest.mark.django_db


def send(api, phone: str):
    return api.post("/api/v1/messages/send/", {"phone": phone, "content": "Hi"}, format="json")


@pytest.mark.parametrize(("phone", "country"), [(UK, "GB"), (US, "US"), ("+14165550123", "CA"), (IN, "IN")])
def test_a_numbers_country_is_read_from_it(phone, country):
    assert country_of(phone) == country


def test_without_any_rule_every_country_is_open_but_premium_rate_is_not(user):
    rule = destinations_for(user.pk)

    assert [rule.refusal(phone) for phone in (UK, US, IN)] == [None, None, None]
    assert rule.refusal(UK_PREMIUM) == PREMIUM_RATE_NOT_ALLOWED


def test_the_deployment_and_the_user_both_bound_the_countries(settings, user):
    settings.SMS_ALLOWED_COUNTRIES = ["GB", "US"]
    assert [destinations_for(user.pk).refusal(p) for p in (UK, US, IN)] == [None, None, COUNTRY_NOT_ALLOWED]

    SendingLimits.objects.create(owner=user, allowed_countries=["US", "IN"])
    # The user's list narrows the deployment's, never widens it: India stays closed.
    assert [destinations_for(user.pk).refusal(p) for p in (UK, US, IN)] == [
        COUNTRY_NOT_ALLOWED,
        None,
        COUNTRY_NOT_ALLOWED,
    ]


def test_a_single_send_outside_the_allowlist_is_a_422_naming_the_country(api, user):
    SendingLimits.objects.create(owner=user, allowed_countries=["GB"])

    response = send(api, US)

    assert response.status_code == 422
    assert response.json()["error"] == {
        "code": "country_not_allowed",
        "message": "+12015550123 is a number in US; you may send to GB.",
        "details": None,
    }
    assert not Message.objects.exists()


def test_a_premium_rate_number_is_refused_until_staff_allow_it(api, user):
    refused = send(api, UK_PREMIUM)
    SendingLimits.objects.create(owner=user, allow_premium_rate=True)
    allowed = send(api, UK_PREMIUM)

    assert (refused.status_code, refused.json()["error"]["code"]) == (422, "premium_rate_not_allowed")
    assert allowed.status_code == 202


def test_a_batch_skips_what_it_may_not_send_to_with_the_reason(api, user):
    SendingLimits.objects.create(owner=user, allowed_countries=["GB"])
    recipients = [{"phone": UK}, {"phone": US}, {"phone": UK_PREMIUM}]

    response = api.post("/api/v1/messages/batch/", {"content": "Hi", "recipients": recipients}, format="json")

    assert response.status_code == 202
    assert response.json()["skipped"] == [
        {"index": 1, "phone": US, "reason": "country_not_allowed"},
        {"index": 2, "phone": UK_PREMIUM, "reason": "premium_rate_not_allowed"},
    ]
    assert list(Message.objects.values_list("phone", flat=True)) == [UK]


def test_a_campaign_skips_and_counts_the_recipients_it_may_not_send_to(user):
    SendingLimits.objects.create(owner=user, allowed_countries=["GB"])
    job = ImportJobFactory(owner=user, status=ImportJob.Status.SUCCESS, column_mapping={"variables": {}})
    for phone, line_type in ((UK, "mobile"), (US, "mobile"), (IN, "mobile"), (UK_PREMIUM, "premium_rate")):
        ContactFactory(import_job=job, phone=phone, line_type=line_type)
    campaign = CampaignFactory(owner=user, import_job=job, message_content="Hi", include_non_mobile=True,
                               status=Campaign.Status.RUNNING)  # fmt: skip

    campaign_fan_out(campaign_id=campaign.pk)

    campaign.refresh_from_db()
    assert (campaign.recipients_count, campaign.skipped_not_allowed) == (4, 3)
    assert list(Message.objects.values_list("phone", flat=True)) == [UK]


def test_staff_set_a_users_allowlist_in_the_admin_as_typed(staff_client, user):
    response = staff_client.post(
        reverse("admin:messaging_sendinglimits_add"),
        {"owner": user.pk, "allowed_countries": "gb, ie ;US", "allow_premium_rate": ""},
    )
    refused = staff_client.post(
        reverse("admin:messaging_sendinglimits_add"), {"owner": user.pk, "allowed_countries": "GB, XX"}
    )

    assert response.status_code == 302
    assert SendingLimits.objects.get().allowed_countries == ["GB", "IE", "US"]
    assert "Not ISO 3166 country codes that phone numbers use: XX." in refused.content.decode()


def test_a_queued_message_to_a_country_closed_since_is_cancelled_when_claimed(user, settings, locmem_gateway):
    MessageFactory(owner=user, phone=UK, status="QUEUED")
    us = MessageFactory(owner=user, phone=US, status="QUEUED")
    settings.SMS_ALLOWED_COUNTRIES = ["GB"]

    dispatcher.dispatch(worker="test-worker", seconds=30)

    assert [m.phone for m in locmem_gateway.outbox] == [UK]
    us.refresh_from_db()
    assert (us.status, us.error) == ("CANCELLED", "country_not_allowed")


def test_a_queued_message_to_a_number_that_texted_stop_is_cancelled_when_claimed_and_never_sent(user, locmem_gateway):
    queued = MessageFactory(owner=user, phone=UK, status="QUEUED")
    OptOut.objects.create(owner=None, phone=UK, source="android", keyword="STOP")

    dispatcher.dispatch(worker="test-worker", seconds=30)

    assert locmem_gateway.outbox == []
    queued.refresh_from_db()
    assert (queued.status, queued.error) == ("CANCELLED", "opted_out")
