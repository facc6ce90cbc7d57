"""POST /api/v1/campaigns/from-csv: contacts and campaign in one request; it starts when the import succeeds."""

import io
from datetime import timedelta

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from django_q.models import OrmQ

from campaigns import services, tasks
from campaigns.models import Campaign
from imports import services as import_services
from imports.models import ImportJob
from imports.tests.conftest import leftover_files
from imports.tests.factories import ImportJobFactory
from messaging.models import Message


@pytest.fixture(autouse=True)
def upload_dir(settings, tmp_path):
    settings.IMPORT_TMP_DIR = tmp_path / "uploads"
    settings.IMPORT_PARSE_PROCESSES = 0
    return settings.IMPORT_TMP_DIR


def from_csv(api, content: bytes, **fields):
    file = SimpleUploadedFile("people.csv", content, content_type="text/csv")
    return api.post("/api/v1/campaigns/from-csv", {"file": file, "name": "Launch", **fields}, format="multipart")


GOOD = b"Name,Phone,Order No.\nAnn,07400 000001,A-1\nBob,07400 000002,A-2\n"


def finish_import(job: ImportJob, django_capture_on_commit_callbacks) -> None:
    """What the workers do: parse the file, then run the task the import queues when it ends."""
    with django_capture_on_commit_callbacks(execute=True):
        import_services.import_run(job_id=job.pk)
    queued = [q.task for q in OrmQ.objects.all() if q.func() == "campaigns.tasks.import_finished"]
    assert queued, "the import did not announce that it finished"
    tasks.import_finished(*queued[-1]["args"])


def test_it_answers_202_with_the_campaign_and_its_import(api, user):
    response = from_csv(api, GOOD, message_content="Hi {{ name }}, order {{ order_no }}")

    assert response.status_code == 202
    body = response.json()
    campaign = Campaign.objects.get(pk=body["campaign"]["id"])
    assert response["Location"].endswith(f"/api/v1/campaigns/{campaign.pk}")
    assert body["import_job"]["id"] == campaign.import_job_id
    assert (campaign.status, campaign.start_when_imported) == (Campaign.Status.DRAFT, True)
    assert list(services.campaigns_waiting_for(import_job_id=campaign.import_job_id)) == [campaign]


def test_the_campaign_starts_when_its_import_succeeds(api, django_capture_on_commit_callbacks):
    campaign_id = from_csv(api, GOOD, message_content="Hi {{ name }}, order {{ order_no }}").json()["campaign"]["id"]
    campaign = Campaign.objects.get(pk=campaign_id)

    finish_import(campaign.import_job, django_capture_on_commit_callbacks)
    tasks.fan_out(campaign_id)

    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.RUNNING
    assert sorted(Message.objects.filter(campaign=campaign).values_list("content", flat=True)) == [
        "Hi Ann, order A-1",
        "Hi Bob, order A-2",
    ]


def test_a_future_time_waits_as_scheduled(api, django_capture_on_commit_callbacks):
    later = (timezone.now() + timedelta(hours=2)).isoformat()
    campaign_id = from_csv(api, GOOD, message_content="Hi", scheduled_at=later).json()["campaign"]["id"]

    finish_import(Campaign.objects.get(pk=campaign_id).import_job, django_capture_on_commit_callbacks)

    assert Campaign.objects.get(pk=campaign_id).status == Campaign.Status.SCHEDULED


def test_a_failed_import_fails_the_campaign_with_its_reason(api, django_capture_on_commit_callbacks):
    campaign_id = from_csv(api, b"Name,City\nAnn,Leeds\n", message_content="Hi").json()["campaign"]["id"]

    finish_import(Campaign.objects.get(pk=campaign_id).import_job, django_capture_on_commit_callbacks)

    campaign = Campaign.objects.get(pk=campaign_id)
    assert campaign.status == Campaign.Status.FAILED
    assert "No phone column found" in campaign.failure_reason


def test_columns_the_template_needs_but_the_file_lacks_fail_the_campaign(api, django_capture_on_commit_callbacks):
    campaign_id = from_csv(api, GOOD, message_content="Hi {{ coupon }}").json()["campaign"]["id"]

    finish_import(Campaign.objects.get(pk=campaign_id).import_job, django_capture_on_commit_callbacks)

    campaign = Campaign.objects.get(pk=campaign_id)
    assert campaign.status == Campaign.Status.FAILED
    assert "coupon" in campaign.failure_reason


def test_the_clock_catches_an_import_whose_announcement_was_lost(user):
    job = ImportJobFactory(owner=user, status=ImportJob.Status.FAILED, failure_reason="The file is empty.")
    campaign = Campaign.objects.create(
        owner=user, name="x", message_content="Hi", import_job=job, start_when_imported=True
    )

    tasks.tick()

    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.FAILED


@pytest.mark.parametrize(
    ("fields", "field"),
    [({}, "message_content"), ({"message_content": "Hi", "default_region": "XX"}, "default_region")],
)
def test_bad_fields_are_a_400_and_leave_nothing_behind(api, upload_dir, fields, field):
    response = from_csv(api, GOOD, **fields)

    assert response.status_code == 400
    assert field in response.json()["error"]["details"]
    assert not Campaign.objects.exists()
    assert not ImportJob.objects.exists()
    assert leftover_files(upload_dir) == []


def test_a_non_csv_is_refused_with_415(api, upload_dir):
    file = SimpleUploadedFile("people.xlsx", GOOD, content_type="application/vnd.ms-excel")

    response = api.post(
        "/api/v1/campaigns/from-csv", {"file": file, "name": "x", "message_content": "Hi"}, format="multipart"
    )

    assert response.status_code == 415
    assert not Campaign.objects.exists()


def test_the_import_task_and_the_clock_racing_start_the_campaign_once(api, django_capture_on_commit_callbacks):
    later = (timezone.now() + timedelta(hours=2)).isoformat()
    campaign_id = from_csv(api, GOOD, message_content="Hi", scheduled_at=later).json()["campaign"]["id"]
    job = Campaign.objects.get(pk=campaign_id).import_job
    finish_import(job, django_capture_on_commit_callbacks)

    tasks.import_finished(job.pk)  # the second of the two
    tasks.tick()

    assert Campaign.objects.get(pk=campaign_id).status == Campaign.Status.SCHEDULED


def test_a_workbook_and_its_sheet_are_read_as_an_import_reads_them(api):
    workbook = openpyxl.Workbook()
    workbook.active.title = "Notes"
    customers = workbook.create_sheet("Customers")
    for row in (["Name", "Mobile"], ["Ann", "07400 000001"]):
        customers.append(row)
    data = io.BytesIO()
    workbook.save(data)
    file = SimpleUploadedFile("people.xlsx", data.getvalue(), content_type="application/octet-stream")

    response = api.post(
        "/api/v1/campaigns/from-csv",
        {"file": file, "name": "Launch", "message_content": "Hi {{ name }}", "sheet": "Customers"},
        format="multipart",
    )

    assert response.status_code == 202, response.content
    job = ImportJob.objects.get(pk=response.json()["import_job"]["id"])
    assert (job.file_format, job.sheet) == ("xlsx", "Customers")
    import_services.import_run(job_id=job.pk)
    assert list(job.contacts.values_list("phone", "name")) == [("+447400000001", "Ann")]
