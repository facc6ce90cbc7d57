import pytest
from django.db import IntegrityError, transaction

from imports.models import ImportJob
from imports.tests.factories import ContactFactory, ImportJobFactory


def test_a_phone_is_unique_within_one_import(db):
    contact = ContactFactory(phone="+447700900001")

    with pytest.raises(IntegrityError), transaction.atomic():
        ContactFactory(import_job=contact.import_job, phone="+447700900001")


def test_the_same_phone_may_appear_in_two_imports(db):
    ContactFactory(phone="+447700900001")

    assert ContactFactory(phone="+447700900001").pk


def test_the_database_refuses_a_phone_not_in_e164(db):
    with pytest.raises(IntegrityError), transaction.atomic():
        ContactFactory(phone="07700900001")


def test_the_database_refuses_an_unknown_status(db):
    job = ImportJobFactory()

    with pytest.raises(IntegrityError), transaction.atomic():
        ImportJob.objects.filter(pk=job.pk).update(status="DONE")


def test_the_database_refuses_negative_counters(db):
    job = ImportJobFactory()

    with pytest.raises(IntegrityError), transaction.atomic():
        ImportJob.objects.filter(pk=job.pk).update(invalid_rows=-1)


def test_the_database_refuses_more_imported_rows_than_rows(db):
    job = ImportJobFactory(total_rows=10)

    with pytest.raises(IntegrityError), transaction.atomic():
        ImportJob.objects.filter(pk=job.pk).update(imported_rows=11)
