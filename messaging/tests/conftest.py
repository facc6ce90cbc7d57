from __future__ import annotations

import pytest

from messaging.backends.locmem import LocmemBackend


@pytest.fixture(autouse=True)
def locmem_gateway(settings):
    """Every messaging test sends through the in-memory backend: LocmemBackend.outbox is what left."""
    settings.SMS_BACKEND = "locmem"
    LocmemBackend.reset()
    yield LocmemBackend
    LocmemBackend.reset()
