from __future__ import annotations

import pytest

from imports.models import ImportJob
from imports.tests.factories import ContactFactory, ImportJobFactory
from messaging.backends.locmem import LocmemBackend

COLUMNS = {"phone": "Phone", "name": ["Name"], "variables": {"Order No.": "order_no", "City": "city"}}


@pytest.fixture
def contacts_import(user):
    """A finished import of three contacts with order_no and city columns."""
    job = ImportJobFactory(owner=user, status=ImportJob.Status.SUCCESS, column_mapping=COLUMNS)
    for i, city in enumerate(["Leeds", "York", ""]):
        ContactFactory(
            import_job=job, phone=f"+44740000000{i}", name=f"Person {i}", variables={"order_no": f"A-{i}", "city": city}
        )
    return job


@pytest.fixture
def locmem_gateway(settings):
    """Sends go to the in-memory backend: LocmemBackend.outbox is what left."""
    settings.SMS_BACKEND = "locmem"
    LocmemBackend.reset()
    yield LocmemBackend
    LocmemBackend.reset()
