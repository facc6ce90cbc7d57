"""SMS_RATE_LIMIT holds for all dispatchers together: the count lives in the database."""

import threading

import pytest
from django.db import connection

from messaging import dispatcher
from messaging.dispatcher.ratelimit import SharedRateLimit
from messaging.models import Message
from messaging.tests.factories import MessageFactory


def test_two_limiters_on_one_key_share_one_windows_capacity(db):
    first, second = SharedRateLimit("sms:test", 10), SharedRateLimit("sms:test", 10)

    granted = [first.take(4, now=100.2), second.take(4, now=100.5), first.take(4, now=100.9)]

    assert granted == [4, 4, 2]
    assert second.take(1, now=100.99) == 0
    assert second.take(7, now=101.0) == 7  # a new window


def test_a_limit_under_one_per_second_spreads_over_longer_windows(db):
    limit = SharedRateLimit("sms:slow", 0.5)

    assert (limit.window_seconds, limit.capacity) == (2.0, 1)
    assert [limit.take(1, now=t) for t in (10.0, 11.0, 12.0)] == [1, 0, 1]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_taking_at_once_never_exceed_the_limit():
    grants = []
    start = threading.Barrier(2)

    def worker():
        limit = SharedRateLimit("sms:shared", 50)
        try:
            start.wait()
            grants.extend(limit.take(3, now=500.0) for _ in range(20))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sum(grants) == 50


def test_the_dispatcher_sends_no_more_than_the_limit_per_window(user, locmem_gateway, settings, monkeypatch):
    settings.SMS_RATE_LIMIT = 3
    MessageFactory.create_batch(7, owner=user)
    windows = []
    real_take = SharedRateLimit.take

    def recording_take(self, wanted, now=None):
        granted = real_take(self, wanted, now)
        windows.append(granted)
        return granted

    monkeypatch.setattr(SharedRateLimit, "take", recording_take)
    report = dispatcher.dispatch(worker="w", seconds=30)

    assert report.sent == 7
    assert max(windows) <= 3
    assert Message.objects.filter(status="SENT").count() == 7


def test_segments_count_against_the_limit_when_asked(user, locmem_gateway, settings):
    settings.SMS_RATE_LIMIT, settings.SMS_RATE_LIMIT_UNIT = 4, "segments"
    MessageFactory.create_batch(2, owner=user, parts_count=2)
    MessageFactory(owner=user, parts_count=1)

    report = dispatcher.dispatch(worker="w", seconds=30)

    assert report.sent == 3
    assert sum(m.parts for m in locmem_gateway.outbox) == 5
