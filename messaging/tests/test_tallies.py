"""Hourly tallies count each message once, where it happens: the dispatcher, a receipt, an opt-out."""

from __future__ import annotations

import importlib
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from django.apps import apps as installed_apps
from django.db import connection
from django.utils import timezone

from messaging import dispatcher
from messaging.backends.base import PermanentError
from messaging.models import Message, Tally, TallyKind
from messaging.services import opt_out_add
from messaging.tallies import daily, hour_of, hourly, tally, totals_since
from messaging.tests.android_webhooks import post_signed
from messaging.tests.factories import AndroidEventFactory, MessageFactory

pytestmark = pytest.mark.django_db
S = Message.Status
KEY = "test-signing-key"
NOON = datetime(2026, 3, 4, 12, 30, tzinfo=UTC)


def counts(since=NOON - timedelta(days=30)) -> dict[str, int]:
    return totals_since(since)


def test_a_tally_spreads_over_shards_and_reads_back_as_one_count():
    for _ in range(40):
        tally(TallyKind.SENT, at=NOON)
    tally(TallyKind.SENT, 5, at=NOON + timedelta(minutes=20))  # same hour

    assert Tally.objects.filter(kind="sent").count() > 1  # 40 writes to 8 shards do not land on one
    assert Tally.objects.filter(hour=hour_of(NOON)).values("hour").distinct().count() == 1
    assert counts()["sent"] == 45
    assert counts()["delivered"] == 0


def test_nothing_is_counted_for_nothing():
    tally(TallyKind.FAILED, 0, at=NOON)

    assert not Tally.objects.exists()


def test_hourly_gives_every_hour_oldest_first_with_empty_hours_as_zero():
    tally(TallyKind.SENT, 3, at=NOON - timedelta(hours=2))
    tally(TallyKind.DELIVERED, 2, at=NOON)
    tally(TallyKind.SENT, 9, at=NOON - timedelta(hours=5))  # before the window

    hours = hourly(3, now=NOON)

    assert [hour for hour, _ in hours] == [hour_of(NOON) - timedelta(hours=n) for n in (2, 1, 0)]
    assert [(c["sent"], c["delivered"]) for _, c in hours] == [(3, 0), (0, 0), (0, 2)]


def test_daily_adds_up_each_utc_day_today_so_far_included():
    tally(TallyKind.FAILED, 1, at=NOON - timedelta(days=1, hours=12))  # 00:30 yesterday
    tally(TallyKind.FAILED, 2, at=NOON - timedelta(hours=1))
    tally(TallyKind.FAILED, 4, at=NOON - timedelta(days=3))  # outside two days

    days = daily(2, now=NOON)

    assert [day.date().isoformat() for day, _ in days] == ["2026-03-03", "2026-03-04"]
    assert [c["failed"] for _, c in days] == [1, 2]


def test_the_dispatcher_counts_what_it_sent_and_what_failed(user, locmem_gateway):
    MessageFactory.create_batch(3, owner=user)
    MessageFactory(owner=user, phone="+447400000099")
    locmem_gateway.failures["+447400000099"] = PermanentError("Gateway refused the message (400): bad number")

    dispatcher.dispatch(worker="test-worker", seconds=30)

    today = counts(timezone.now() - timedelta(hours=1))
    assert (today["sent"], today["failed"], today["delivered"]) == (3, 1, 0)


@pytest.fixture
def signed(settings, client):
    settings.SMS_WEBHOOK_SIGNING_KEY = KEY

    def post(event: str, message: Message, **payload):
        envelope = AndroidEventFactory(event=event, payload={"messageId": str(message.pk), **payload})
        assert post_signed(client, envelope, KEY).status_code == 200

    return post


def test_a_delivery_receipt_counts_delivered_and_not_sent_again(signed):
    message = MessageFactory(status=S.SENT, attempts=1, sent_at=NOON)

    signed("sms:delivered", message, deliveredAt="2026-03-04T12:40:00Z")
    signed("sms:delivered", message, deliveredAt="2026-03-04T12:40:00Z")  # a repeat changes nothing

    assert counts() == {"sent": 0, "delivered": 1, "failed": 0, "opted_out": 0}


def test_a_receipt_for_a_message_the_dispatcher_never_marked_sent_counts_it_sent(signed):
    # Claimed, the send's answer lost (SENDING), and the gateway reports it delivered.
    message = MessageFactory(status=S.SENDING, attempts=1)

    signed("sms:delivered", message, deliveredAt="2026-03-04T12:40:00Z")

    assert counts() == {"sent": 1, "delivered": 1, "failed": 0, "opted_out": 0}
    assert hourly(1, now=NOON)[0][1]["delivered"] == 1  # counted in the hour it happened


def test_an_opt_out_counts_once_however_often_it_is_asked(user):
    opt_out_add(owner_id=user.pk, phone="+447400000001")
    opt_out_add(owner_id=user.pk, phone="+447400000001")

    assert counts(timezone.now() - timedelta(hours=1))["opted_out"] == 1


def test_the_migration_counts_the_messages_already_there(user):
    now = timezone.now()
    MessageFactory.create_batch(2, owner=user, status=S.DELIVERED, sent_at=now, delivered_at=now)
    MessageFactory(owner=user, status=S.FAILED, failed_at=now - timedelta(days=2))
    MessageFactory(owner=user, status=S.SENT, sent_at=now - timedelta(days=40))  # older than the dashboard
    migration = importlib.import_module("messaging.migrations.0009_tallies")

    migration.backfill(installed_apps, SimpleNamespace(connection=connection))  # all it reads of the editor

    assert counts(now - timedelta(days=30)) == {"sent": 2, "delivered": 2, "failed": 1, "opted_out": 0}
