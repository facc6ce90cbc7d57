"""The dispatcher rides out a lost database connection (PostgreSQL restarting) instead of ending its run."""

from __future__ import annotations

import psycopg
import pytest
from django.db import connection

from messaging import dispatcher
from messaging.backends.locmem import LocmemBackend
from messaging.models import Message
from messaging.tests.factories import MessageFactory

S = Message.Status


def drop_connection(pid: int) -> None:
    """End a server process from outside, as a PostgreSQL restart does to every client."""
    db = connection.settings_dict
    dsn = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    with psycopg.connect(dsn, autocommit=True) as admin:
        assert admin.execute("SELECT pg_terminate_backend(%s, 5000)", (pid,)).fetchone() == (True,)


def our_connection_pid() -> int:
    connection.ensure_connection()
    return connection.connection.info.backend_pid


class GatewayDuringOutage(LocmemBackend):
    """Accepts messages like locmem; while the first batch is at the gateway, the database drops our connection."""

    pid_to_drop: int | None = None

    async def send_batch(self, messages, *, concurrency):
        if GatewayDuringOutage.pid_to_drop is not None:
            drop_connection(GatewayDuringOutage.pid_to_drop)
            GatewayDuringOutage.pid_to_drop = None
        return await super().send_batch(messages, concurrency=concurrency)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_messages_at_the_gateway_when_the_connection_drops_are_recorded_sent_once(user, locmem_gateway):
    messages = MessageFactory.create_batch(3, owner=user)
    GatewayDuringOutage.pid_to_drop = our_connection_pid()

    report = dispatcher.dispatch(worker="w", seconds=30, backend=GatewayDuringOutage())

    assert GatewayDuringOutage.pid_to_drop is None, "the connection was never dropped; the test proves nothing"
    assert report.stopped == "idle"
    assert sorted(locmem_gateway.receipts().values()) == [1, 1, 1]
    assert set(Message.objects.values_list("status", flat=True)) == {S.SENT}
    assert sorted(Message.objects.values_list("attempts", flat=True)) == [1, 1, 1]
    for message in messages:
        assert list(message.events.values_list("kind", flat=True)) == ["sent"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_run_starting_on_a_dead_connection_reconnects_and_sends(user, locmem_gateway):
    MessageFactory.create_batch(2, owner=user)
    drop_connection(our_connection_pid())

    report = dispatcher.dispatch(worker="w", seconds=30)

    assert (report.claimed, report.sent) == (2, 2)
    assert sorted(locmem_gateway.receipts().values()) == [1, 1]
    assert set(Message.objects.values_list("status", flat=True)) == {S.SENT}
