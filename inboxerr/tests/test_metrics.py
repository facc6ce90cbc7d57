"""/metrics: Prometheus text for staff (session or token), counting what every process did."""

import re

import pytest

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
    assert "# TYPE inboxerr_messages_queue_depth gauge" in token.content.decode()


def test_sends_and_queue_depth_show_up(api, user, settings):
    user.is_staff = True
    user.save()
    settings.SMS_BACKEND = "locmem"
    LocmemBackend.reset()
    MessageFactory.create_batch(3, owner=user)
    before = api.get("/metrics").content.decode()

    dispatcher.dispatch(worker="w", seconds=10)
    after = api.get("/metrics").content.decode()

    assert sample(before, "inboxerr_messages_queue_depth") == 3
    assert sample(after, "inboxerr_messages_queue_depth") == 0
    sent = sample(after, "inboxerr_messages_sent_total", status="sent") - sample(
        before, "inboxerr_messages_sent_total", status="sent"
    )
    assert sent == 3
    assert sample(after, "inboxerr_dispatcher_loop_duration_seconds_count") > sample(
        before, "inboxerr_dispatcher_loop_duration_seconds_count"
    )
    assert "inboxerr_task_queue_depth" in after


def staff_api(api, user):
    user.is_staff = True
    user.save()
    return api


@pytest.mark.parametrize(
    "accept",
    ["text/plain", "text/plain;version=0.0.4", "*/*", "", "application/json", "text/html", "image/png"],
)
def test_any_scrapers_accept_gets_the_prometheus_text_format(api, user, accept):
    response = staff_api(api, user).get("/metrics", HTTP_ACCEPT=accept)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")


def test_openmetrics_when_asked_for_it(api, user):
    response = staff_api(api, user).get("/metrics", HTTP_ACCEPT="application/openmetrics-text; version=1.0.0")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/openmetrics-text")
    assert response.content.decode().rstrip().endswith("# EOF")


def test_every_family_is_there_from_the_start_under_the_inboxerr_prefix(api, user):
    text = staff_api(api, user).get("/metrics").content.decode()

    # Counters' TYPE lines name them with _total, as the multiprocess collector writes them.
    families = {name.removesuffix("_total") for name in re.findall(r"^# TYPE (\S+) ", text, re.MULTILINE)}
    ours = {
        "inboxerr_import_rows_processed",
        "inboxerr_messages_sent",
        "inboxerr_dispatcher_loop_duration_seconds",
        "inboxerr_webhook_events",
        "inboxerr_messages_queue_depth",
        "inboxerr_messages_sending",
        "inboxerr_gateway_auth_refused",
        "inboxerr_task_queue_depth",
    }
    assert ours <= families
    assert not [family for family in families if not family.startswith("inboxerr_")]
    # Present before any webhook came (a test run earlier in this process may have counted some since).
    assert re.search(
        r'^inboxerr_webhook_events_total\{kind="delivered",result="applied",source="android"\} \d', text, re.M
    )
