"""Orphaned upload files and expired jobs are removed; what is in use stays."""

import os
import time
from datetime import timedelta

from django.core.management import call_command
from django.utils import timezone
from django_q.models import OrmQ, Schedule

from campaigns.tests.factories import CampaignFactory
from imports import services
from imports.models import Contact, ImportJob
from imports.tests.conftest import leftover_files
from imports.tests.factories import ContactFactory, ImportJobFactory


def make_file(directory, name, age_seconds=0):
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text("phone\n")
    then = time.time() - age_seconds
    os.utime(path, (then, then))
    return str(path)


def test_orphaned_upload_files_are_removed_but_live_ones_kept(user, upload_dir, settings):
    old = settings.IMPORT_STALL_SECONDS + 60
    make_file(upload_dir, "upload-orphan.csv", age_seconds=old)
    make_file(upload_dir, "upload-streaming.csv", age_seconds=5)
    owned = make_file(upload_dir, "upload-owned.csv", age_seconds=old)
    make_file(upload_dir, "unrelated.txt", age_seconds=old)
    ImportJobFactory(owner=user, status=ImportJob.Status.PROCESSING, file_path=owned)

    report = services.import_cleanup()

    assert report.files_removed == 1
    assert leftover_files(upload_dir) == ["unrelated.txt", "upload-owned.csv", "upload-streaming.csv"]


def test_finished_jobs_past_retention_go_with_their_contacts(user, settings):
    settings.IMPORT_RETENTION_DAYS = 4
    old = timezone.now() - timedelta(days=5)
    expired = ImportJobFactory(owner=user, status=ImportJob.Status.SUCCESS)
    recent = ImportJobFactory(owner=user, status=ImportJob.Status.SUCCESS)
    in_use = ImportJobFactory(owner=user, status=ImportJob.Status.SUCCESS)
    stuck = ImportJobFactory(owner=user, status=ImportJob.Status.PROCESSING)
    ImportJob.objects.filter(pk__in=[expired.pk, in_use.pk, stuck.pk]).update(created_at=old)
    ContactFactory.create_batch(3, import_job=expired)
    ContactFactory.create_batch(2, import_job=in_use)
    CampaignFactory(owner=user, import_job=in_use)

    report = services.import_cleanup()

    assert (report.jobs_deleted, report.contacts_deleted) == (1, 3)
    assert set(ImportJob.objects.values_list("pk", flat=True)) == {recent.pk, in_use.pk, stuck.pk}
    assert Contact.objects.filter(import_job=in_use).count() == 2


def test_the_cleanup_command_reports_what_it_removed(user, upload_dir, settings, capsys):
    make_file(upload_dir, "upload-orphan.csv", age_seconds=settings.IMPORT_STALL_SECONDS + 60)

    call_command("cleanup_imports")

    assert "Removed 1 orphaned file(s); deleted 0 job(s) older than 4 days" in capsys.readouterr().out


def test_stalled_and_never_started_jobs_are_queued_again(user, settings):
    long_ago = timezone.now() - timedelta(seconds=settings.IMPORT_STALL_SECONDS + 1)
    stalled = ImportJobFactory(
        owner=user, status=ImportJob.Status.PROCESSING, started_at=long_ago, heartbeat_at=long_ago
    )
    lost = ImportJobFactory(owner=user, status=ImportJob.Status.PROCESSING, started_at=None)
    ImportJob.objects.filter(pk=lost.pk).update(created_at=long_ago)
    ImportJobFactory(
        owner=user, status=ImportJob.Status.PROCESSING, started_at=timezone.now(), heartbeat_at=timezone.now()
    )
    ImportJobFactory(owner=user, status=ImportJob.Status.PROCESSING, started_at=None)  # just queued

    requeued = services.import_requeue_stalled()

    assert sorted(requeued) == sorted([stalled.pk, lost.pk])
    assert OrmQ.objects.count() == 2


def test_the_watchdog_and_the_daily_cleanup_are_scheduled(db):
    schedules = {s.func: s for s in Schedule.objects.filter(func__startswith="imports.tasks.")}

    assert schedules["imports.tasks.requeue_stalled_imports"].schedule_type == Schedule.MINUTES
    assert schedules["imports.tasks.requeue_stalled_imports"].minutes == 5
    assert schedules["imports.tasks.cleanup_imports"].schedule_type == Schedule.DAILY
