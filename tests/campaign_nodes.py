"""What the node tests (faults, scaling) set up alike: a campaign to send, the gateway, the nodes' environment."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.db import connection
from django.utils import timezone
from django_q.tasks import async_task

from campaigns.models import Campaign
from campaigns.services import campaign_create
from imports.models import Contact
from imports.tests.factories import ImportJobFactory
from messaging.models import Message
from messaging.simulator import SimulatorConfig, SimulatorThread
from tests.cluster import REDIS_URL, database_url, flush_redis, node_environment, use_broker, wait_until


def draft_campaign(owner, contacts: int, *, name: str, phone_prefix: str) -> Campaign:
    """A DRAFT campaign on a finished import of `contacts` contacts, with a merge field to render."""
    job = ImportJobFactory(owner=owner, total_rows=contacts, imported_rows=contacts)
    Contact.objects.bulk_create(
        Contact(import_job=job, owner=owner, phone=f"{phone_prefix}{i:08d}", name=f"Contact {i}", row_number=i + 2)
        for i in range(contacts)
    )
    return campaign_create(owner_id=owner.pk, name=name, message_content="Hello {{ name }}", import_job=job)


def finish_as_the_schedules_would(campaign: Campaign, *, messages: int, lease_seconds: float) -> tuple[bool, bool]:
    """After a node went away mid-campaign: what the one-minute schedules do, run as soon as the gone node's
    leases have expired rather than up to a minute later: expired leases back to QUEUED (checked with the
    gateway), then dispatch; then the campaign clock, which completes a campaign with nothing left to send.
    Answers (every message DELIVERED, the campaign COMPLETED)."""

    def leases_expired() -> bool:
        return not Message.objects.filter(status="SENDING", lease_expires_at__gte=timezone.now()).exists()

    assert wait_until(leases_expired, seconds=lease_seconds + 30)
    async_task("messaging.tasks.dispatch_tick")
    delivered = wait_until(lambda: Message.objects.filter(status="DELIVERED").count() == messages, seconds=120)
    async_task("campaigns.tasks.tick")
    completed = wait_until(lambda: Campaign.objects.get(pk=campaign.pk).status == "COMPLETED", seconds=60)
    return delivered, completed


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
