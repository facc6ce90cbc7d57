"""The dispatcher sends claimed messages and records SENT, a retry with backoff, or FAILED."""

from datetime import timedelta

import pytest
from django.utils import timezone

from campaigns.tests.factories import CampaignFactory
from messaging import dispatcher
from messaging.backends.base import GatewayAuthError, PermanentError, RetryableError
from messaging.models import Message
from messaging.tests.factories import MessageFactory

S = Message.Status


def run(**kwargs):
    return dispatcher.dispatch(worker="test-worker", seconds=30, **kwargs)


def test_due_messages_are_sent_once_and_recorded_sent(user, locmem_gateway):
    messages = MessageFactory.create_batch(3, owner=user)

    report = run()

    assert (report.claimed, report.sent, report.stopped) == (3, 3, "idle")
    assert sorted(str(m.id) for m in locmem_gateway.outbox) == sorted(str(m.pk) for m in messages)
    for message in Message.objects.all():
        assert (message.status, message.attempts) == (S.SENT, 1)
        assert message.sent_at
        assert message.lease_expires_at is None
        assert list(message.events.values_list("kind", "status")) == [("sent", S.SENT)]


def test_messages_not_yet_due_wait(user, locmem_gateway):
    MessageFactory(owner=user, next_attempt_at=timezone.now() + timedelta(minutes=5))

    assert run().claimed == 0
    assert locmem_gateway.outbox == []


@pytest.mark.parametrize("status", ["PAUSED", "CANCELLED"])
def test_messages_of_a_paused_or_cancelled_campaign_are_not_claimed(user, locmem_gateway, status):
    campaign = CampaignFactory(owner=user, status=status)
    MessageFactory(owner=user, campaign=campaign)
    running = MessageFactory(owner=user, campaign=CampaignFactory(owner=user, status="RUNNING"))

    run()

    assert [m.id for m in locmem_gateway.outbox] == [running.pk]


def test_a_retryable_failure_requeues_with_backoff(user, locmem_gateway, settings):
    settings.SMS_RETRY_BASE_SECONDS = 30
    message = MessageFactory(owner=user, phone="+447400000001")
    locmem_gateway.failures["+447400000001"] = RetryableError("Gateway answered 503")
    before = timezone.now()

    report = run()

    message.refresh_from_db()
    assert report.retried == 1
    assert (message.status, message.attempts, message.error) == (S.QUEUED, 1, "Gateway answered 503")
    assert before + timedelta(seconds=15) <= message.next_attempt_at <= timezone.now() + timedelta(seconds=30)
    assert message.events.get().kind == "retry"


def test_backoff_grows_exponentially_with_jitter_and_a_cap(settings):
    settings.SMS_RETRY_BASE_SECONDS, settings.SMS_RETRY_MAX_SECONDS = 30, 3600

    for attempts, ceiling in [(1, 30), (2, 60), (3, 120), (10, 3600)]:
        delays = [dispatcher.backoff_seconds(attempts) for _ in range(200)]
        assert ceiling / 2 <= min(delays) <= max(delays) <= ceiling
        assert max(delays) - min(delays) > ceiling / 10  # jittered, not fixed


def test_the_last_allowed_attempt_fails_the_message_for_good(user, locmem_gateway, settings):
    settings.SMS_MAX_ATTEMPTS = 3
    message = MessageFactory(owner=user, phone="+447400000001", attempts=2)
    locmem_gateway.failures["+447400000001"] = RetryableError("Gateway unreachable")

    run()

    message.refresh_from_db()
    assert (message.status, message.attempts) == (S.FAILED, 3)
    assert message.error == "Gave up after 3 attempts: Gateway unreachable"
    assert message.failed_at


def test_a_permanent_failure_fails_at_once(user, locmem_gateway):
    message = MessageFactory(owner=user, phone="+447400000001")
    locmem_gateway.failures["+447400000001"] = PermanentError("Gateway refused the message (400): bad number")

    report = run()

    message.refresh_from_db()
    assert report.failed == 1
    assert (message.status, message.error) == (S.FAILED, "Gateway refused the message (400): bad number")


def test_refused_credentials_stop_the_loop_loudly_and_fail_no_message(user, locmem_gateway, client, caplog):
    MessageFactory.create_batch(2, owner=user, phone="+447400000001")
    locmem_gateway.failures["+447400000001"] = GatewayAuthError("The gateway refused our credentials (401).")

    report = run()
    second = run()
    user.is_staff = True
    user.save()
    client.force_login(user)
    health = client.get("/healthz")
    metrics = client.get("/metrics").content.decode()

    assert (report.stopped, second.stopped, second.claimed) == ("auth", "auth", 0)
    for message in Message.objects.all():
        assert (message.status, message.attempts) == (S.QUEUED, 0)  # released, not counted against it
    assert "refused our credentials" in caplog.text
    assert health.status_code == 503
    assert health.json()["checks"]["gateway"]["ok"] is False
    assert "inboxerr_gateway_auth_refused 1.0" in metrics


def test_sending_resumes_after_the_auth_pause_once_credentials_work(user, locmem_gateway, settings, client):
    MessageFactory(owner=user, phone="+447400000001")
    locmem_gateway.failures["+447400000001"] = GatewayAuthError("refused")
    run()
    locmem_gateway.failures.clear()
    settings.SMS_AUTH_RETRY_SECONDS = 0
    Message.objects.update(next_attempt_at=timezone.now())

    report = run()

    assert report.sent == 1
    user.is_staff = True
    user.save()
    client.force_login(user)
    assert client.get("/healthz").json()["checks"]["gateway"] == {"ok": True, "backend": "locmem"}


def test_a_dispatch_stops_when_its_time_is_up(user, settings):
    settings.SMS_DISPATCH_BATCH = 1
    MessageFactory.create_batch(3, owner=user)

    report = dispatcher.dispatch(worker="w", seconds=0)

    assert (report.claimed, report.stopped) == (0, "time")


def test_a_retry_is_checked_with_the_gateway_before_it_is_sent_again(user, locmem_gateway):
    message = MessageFactory(owner=user, phone="+447400000001")
    locmem_gateway.failures["+447400000001"] = RetryableError("timeout: the gateway may have it")
    run()
    locmem_gateway.failures.clear()
    Message.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())

    assert Message.objects.get(pk=message.pk).verify_before_send is True
    run()

    message.refresh_from_db()
    assert (message.status, message.verify_before_send) == (S.SENT, False)
    assert locmem_gateway.receipts()[str(message.pk)] == 1


def test_a_number_that_opted_out_after_queuing_is_cancelled_not_sent(user, locmem_gateway):
    from messaging.models import OptOut

    message = MessageFactory(owner=user, phone="+447400000001")
    OptOut.objects.create(owner=user, phone="+447400000001")  # e.g. a STOP while it was being retried

    run()

    message.refresh_from_db()
    assert (message.status, message.error) == (S.CANCELLED, "opted_out")
    assert locmem_gateway.outbox == []


def test_a_dispatch_asked_to_stop_ends_before_its_next_batch(user, monkeypatch):
    from inboxerr import shutdown

    MessageFactory.create_batch(3, owner=user)
    monkeypatch.setattr(shutdown, "requested", lambda: True)

    report = dispatcher.dispatch(worker="w", seconds=30)

    assert (report.claimed, report.stopped) == (0, "shutdown")
    assert Message.objects.filter(status=S.QUEUED).count() == 3


def test_a_stop_asked_for_while_the_rate_limit_holds_a_batch_back_releases_the_rest_at_once(
    user, settings, monkeypatch
):
    from inboxerr import shutdown

    settings.SMS_RATE_LIMIT = 1000  # a window of 1,000: the batch goes out as one chunk, then the stop is seen
    MessageFactory.create_batch(3, owner=user)
    answers = iter([False, True])  # between batches: go on; before the chunk is sent: stop
    monkeypatch.setattr(shutdown, "requested", lambda: next(answers, True))

    report = dispatcher.dispatch(worker="w", seconds=30)

    assert (report.claimed, report.sent) == (3, 0)
    for message in Message.objects.all():
        assert (message.status, message.attempts) == (S.QUEUED, 0)
        assert message.next_attempt_at <= timezone.now()
