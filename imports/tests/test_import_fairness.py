"""Imports are fair between users: each queued task runs the waiting import fairest to run now, and no user
runs more than IMPORT_RUNNING_PER_USER at once."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone

from imports import services
from imports.models import ImportJob
from imports.tests.factories import ImportJobFactory

pytestmark = pytest.mark.django_db
PROCESSING = ImportJob.Status.PROCESSING


def waiting(owner, *, minutes_ago: int) -> ImportJob:
    job = ImportJobFactory(owner=owner, status=PROCESSING, started_at=None, finished_at=None)
    ImportJob.objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(minutes=minutes_ago))
    return job


def running(owner) -> ImportJob:
    return ImportJobFactory(owner=owner, status=PROCESSING, started_at=timezone.now(), heartbeat_at=timezone.now(),
                            finished_at=None)  # fmt: skip


def test_another_users_upload_goes_before_the_rest_of_one_users_queue(user, other_user, settings):
    settings.IMPORT_RUNNING_PER_USER = 2
    running(user)
    queued_first = [waiting(user, minutes_ago=10 - n) for n in range(4)]
    theirs = waiting(other_user, minutes_ago=1)

    assert services._fairest_waiting() == [theirs.pk, *(job.pk for job in queued_first)]


def test_between_owners_with_nothing_running_the_one_who_started_longest_ago_goes_first(user, other_user):
    ImportJobFactory(owner=user, started_at=timezone.now())  # finished a moment ago
    ImportJobFactory(owner=other_user, started_at=timezone.now() - timedelta(hours=1))
    mine, theirs = waiting(user, minutes_ago=5), waiting(other_user, minutes_ago=1)

    assert services._fairest_waiting() == [theirs.pk, mine.pk]


def test_an_owner_at_their_limit_waits_and_the_task_goes_back_in_the_queue(user, settings):
    settings.IMPORT_RUNNING_PER_USER = 1
    running(user)
    job = waiting(user, minutes_ago=1)

    with (
        mock.patch.object(services, "IMPORT_RETRY_SECONDS", 0),
        mock.patch.object(services.tasks, "enqueue_import") as requeued,
    ):
        ran = services.import_run_fairly(job_id=job.pk)

    assert ran is None
    requeued.assert_called_once_with(job_id=job.pk)
    assert ImportJob.objects.get(pk=job.pk).started_at is None


def test_a_task_runs_another_waiting_job_when_its_own_was_taken(user, other_user):
    theirs = waiting(other_user, minutes_ago=1)

    with mock.patch.object(services, "import_run", return_value=theirs) as run:
        ran = services.import_run_fairly(job_id=12345)  # its own job ran already, or never existed

    assert ran == theirs
    run.assert_called_once_with(job_id=theirs.pk)


def test_with_nothing_waiting_a_task_does_nothing(user):
    with mock.patch.object(services.tasks, "enqueue_import") as requeued:
        assert services.import_run_fairly(job_id=1) is None

    requeued.assert_not_called()
