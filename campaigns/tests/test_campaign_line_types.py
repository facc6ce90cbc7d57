"""A campaign skips numbers that are not mobile (fixed line, toll-free, premium rate, ...), counting them, unless
it is told to include them; North America's numbers, which phonenumbers cannot tell apart, count as mobile."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from campaigns.fanout import campaign_fan_out
from campaigns.models import Campaign
from imports import services as import_services
from imports.models import Contact, ImportJob
from imports.tests.test_import_line_types import MIXED as IMPORTS_MIXED
from imports.upload import stage_local_file
from messaging import dispatcher
from messaging.backends.locmem import LocmemBackend
from messaging.models import OptOut, SendingLimits

# The first five rows of imports' own line-type file: a mobile, a landline, a freephone, a premium-rate number
# and a North American number phonenumbers can only call fixed-line-or-mobile (a mobile here).
MIXED = "".join(IMPORTS_MIXED.splitlines(keepends=True)[:6])
MOBILES = {"+447400123456", "+12012345678"}
NOT_MOBILE = {"+442079460018", "+448001234567", "+449061234567"}
PREMIUM_RATE = "+449061234567"


@pytest.fixture(autouse=True)
def upload_dir(settings, tmp_path):
    settings.IMPORT_TMP_DIR = tmp_path / "uploads"
    settings.IMPORT_PARSE_PROCESSES = 0


@pytest.fixture
def gateway(locmem_gateway):
    return locmem_gateway


@pytest.fixture
def mixed_import(user, tmp_path) -> ImportJob:
    source = tmp_path / "mixed.csv"
    source.write_text(MIXED)
    job = import_services.import_create(owner_id=user.pk, upload=stage_local_file(str(source)), enqueue=False)
    import_services.import_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.line_types == {"mobile": 2, "fixed_line": 1, "toll_free": 1, "premium_rate": 1}
    return job


def create(api, job: ImportJob, **fields) -> dict:
    response = api.post(
        "/api/v1/campaigns/", {"name": "Sale", "message_content": "Hi {{ name }}", "import_id": job.pk, **fields}
    )
    assert response.status_code == 201, response.content
    return response.json()


def start_and_send(api, campaign_id: int) -> set[str]:
    """Start it, write its messages and send them: the phones that reached the gateway."""
    assert api.post(f"/api/v1/campaigns/{campaign_id}/start").status_code == 202
    campaign_fan_out(campaign_id=campaign_id)
    dispatcher.dispatch(worker="test-worker", seconds=30)
    return {message.phone for message in LocmemBackend.outbox}


def test_a_campaign_skips_the_numbers_that_are_not_mobile_and_counts_them(api, mixed_import, gateway):
    campaign = create(api, mixed_import)
    preview = api.get(f"/api/v1/campaigns/{campaign['id']}/preview?limit=10").json()

    sent = start_and_send(api, campaign["id"])

    assert campaign["include_non_mobile"] is False
    assert (preview["recipients"], preview["skipped_not_mobile"]) == (2, 3)
    assert {message["phone"] for message in preview["messages"]} == MOBILES
    assert sent == MOBILES
    stats = api.get(f"/api/v1/campaigns/{campaign['id']}/stats").json()
    assert (stats["recipients"], stats["messages"], stats["skipped_not_mobile"]) == (5, 2, 3)
    assert api.get(f"/api/v1/campaigns/{campaign['id']}").json()["skipped_not_mobile"] == 3


def test_with_include_non_mobile_it_sends_to_every_number_but_premium_rate_unless_allowed(
    api, user, mixed_import, gateway
):
    campaign = create(api, mixed_import, include_non_mobile=True)
    preview = api.get(f"/api/v1/campaigns/{campaign['id']}/preview").json()

    sent = start_and_send(api, campaign["id"])

    assert campaign["include_non_mobile"] is True
    assert (preview["recipients"], preview["skipped_not_mobile"]) == (5, 0)
    assert sent == MOBILES | NOT_MOBILE - {PREMIUM_RATE}  # messaging.destinations: not without staff's leave
    stats = api.get(f"/api/v1/campaigns/{campaign['id']}/stats").json()
    assert (stats["messages"], stats["skipped_not_mobile"], stats["skipped_not_allowed"]) == (4, 0, 1)


def test_a_user_staff_allow_premium_rate_numbers_sends_to_them_too(api, user, mixed_import, gateway):
    SendingLimits.objects.create(owner=user, allow_premium_rate=True)
    campaign = create(api, mixed_import, include_non_mobile=True)

    assert start_and_send(api, campaign["id"]) == MOBILES | NOT_MOBILE


@pytest.mark.parametrize("body", ["json", "multipart"])  # a form body's missing box is no "off" here
def test_include_non_mobile_is_changed_on_a_draft_and_left_alone_by_other_edits(api, mixed_import, body):
    campaign = create(api, mixed_import)
    url = f"/api/v1/campaigns/{campaign['id']}"

    turned_on = api.patch(url, {"include_non_mobile": True}, format=body).json()
    renamed = api.patch(url, {"name": "Renamed"}, format=body).json()

    assert turned_on["include_non_mobile"] is True
    assert renamed["include_non_mobile"] is True
    assert Campaign.objects.get().include_non_mobile is True


def test_contacts_imported_before_line_types_were_recorded_are_sent_to_as_before(api, mixed_import, gateway):
    Contact.objects.filter(import_job=mixed_import).update(line_type="unknown")
    campaign = create(api, mixed_import)

    assert start_and_send(api, campaign["id"]) == MOBILES | NOT_MOBILE - {PREMIUM_RATE}
    assert Campaign.objects.get().skipped_not_mobile == 0


def test_a_landline_that_also_opted_out_is_counted_once(api, user, mixed_import):
    OptOut.objects.create(owner=user, phone="+442079460018", source="api")
    campaign = create(api, mixed_import)
    api.post(f"/api/v1/campaigns/{campaign['id']}/start")

    result = campaign_fan_out(campaign_id=campaign["id"])

    assert (result.recipients, result.queued, result.skipped_not_mobile, result.skipped_opted_out) == (5, 2, 3, 0)


def test_a_campaign_from_csv_can_include_them(api):
    file = SimpleUploadedFile("people.csv", MIXED.encode(), content_type="text/csv")

    response = api.post(
        "/api/v1/campaigns/from-csv",
        {"file": file, "name": "Launch", "message_content": "Hi", "include_non_mobile": "true"},
        format="multipart",
    )

    assert response.status_code == 202
    assert response.json()["campaign"]["include_non_mobile"] is True
    assert Campaign.objects.get().include_non_mobile is True
