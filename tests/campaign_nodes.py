"""What the node tests (faults, scaling) set up alike: a campaign to send, the gateway, the nodes' environment."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.db import connection

from campaigns.models import Campaign
from campaigns.services import campaign_create
from imports.models import Contact
from imports.tests.factories import ImportJobFactory
from messaging.simulator import SimulatorConfig, SimulatorThread
from tests.cluster import REDIS_URL, database_url, flush_redis, node_environment, use_broker


def draft_campaign(owner, contacts: int, *, name: str, phone_prefix: str) -> Campaign:
    """A DRAFT campaign on a finished import of `contacts` contacts, with a merge field to render."""
    job = ImportJobFactory(owner=owner, total_rows=contacts, imported_rows=contacts)
    Contact.objects.bulk_create(
        Contact(import_job=job, owner=owner, phone=f"{phone_prefix}{i:08d}", name=f"Contact {i}", row_number=i + 2)
        for i in range(contacts)
    )
    return campaign_create(owner_id=owner.pk, name=name, message_content="Hello {{ name }}", import_job=job)


@contextmanager
def gateway_for_nodes(live_server_url: str, tmp_path: Path, *, signing_key: str, **env_overrides: str) -> Iterator:
    """The gateway simulator (50 ms a send, signed receipts to the live server) and the environment of
    worker nodes sending to it on a freshly emptied Redis, which this process's task queue uses too."""
    flush_redis(REDIS_URL)
    config = SimulatorConfig(port=0, latency_ms=50, webhook_delay_ms=5, signing_key=signing_key,
                             webhook_urls=[f"{live_server_url}/api/v1/webhooks/android"])  # fmt: skip
    (tmp_path / "metrics").mkdir()
    with SimulatorThread(config) as gateway, use_broker(REDIS_URL):
        env = node_environment(
            database_url=database_url(connection.settings_dict),
            redis_url=REDIS_URL,
            gateway_url=gateway.url,
            PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "metrics"),
            **env_overrides,
        )
        yield gateway, env
