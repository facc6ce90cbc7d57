"""/metrics: Prometheus text for staff (session or token), counting what every process did."""

import re

from messaging import dispatcher
from messaging.backends.locmem import LocmemBackend
from messaging.tests.factories import MessageFactory


def sample(text: str, name: str, **labels) -> float:
    label_text = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    pattern = rf"^{re.escape(name)}{{{re.escape(label_text)}}} (\S+)$" if labels else rf"^{re.escape(name)} (\S+)$"
    match = re.search(pattern, text, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


def test_anonymous_and_non_staff_users_are_refused(client, user, api):
    assert client.get("/metrics").status_code in (401, 403)
    assert api.get("/metrics").status_code == 403  # a token alone is not enough: metrics cover every user
    client.force_login(user)
    assert client.get("/metrics").status_code == 403


def test_staff_sessions_and_tokens_read_prometheus_text(client, user, api):
    user.is_staff = True
    user.save()
    token = api.get("/metrics")
    client.force_login(user)
    staff = client.get("/metrics")

    assert token.status_code == staff.status_code == 200
    assert token["Content-Type"].startswith("text/plain")
    assert "# TYPE messages_queue_depth gauge" in token.content.decode()


def test_sends_and_queue_depth_show_up(api, user, settings):
    user.is_staff = True
    user.save()
    settings.SMS_BACKEND = "locmem"
    LocmemBackend.reset()
    MessageFactory.create_batch(3, owner=user)
    before = api.get("/metrics").content.decode()

    dispatcher.dispatch(worker="w", seconds=10)
    after = api.get("/metrics").content.decode()

    assert sample(before, "messages_queue_depth") == 3
    assert sample(after, "messages_queue_depth") == 0
    sent = sample(after, "messages_sent_total", status="sent") - sample(before, "messages_sent_total", status="sent")
    assert sent == 3
    assert sample(after, "dispatcher_loop_duration_seconds_count") > sample(
        before, "dispatcher_loop_duration_seconds_count"
    )
    assert "task_queue_depth" in after
