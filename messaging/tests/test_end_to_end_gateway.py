"""The whole loop through real HTTP: API -> dispatcher -> android backend -> simulated gateway -> signed webhooks."""

import pytest
from django.core.management import call_command

from messaging import dispatcher
from messaging.management.commands.gateway_webhooks import EVENTS
from messaging.models import InboundMessage, Message
from messaging.simulator import SimulatorConfig, SimulatorThread
from tests.cluster import wait_until

KEY = "end-to-end-signing-key"


@pytest.fixture
def gateway(settings, live_server):
    config = SimulatorConfig(
        port=0,
        latency_ms=5,
        webhook_delay_ms=5,
        signing_key=KEY,
        delivery_failure_rate=0.0,
        webhook_urls=[f"{live_server.url}/api/v1/webhooks/android"],
    )
    with SimulatorThread(config) as sim:
        settings.SMS_BACKEND = "android"
        settings.SMS_GATEWAY_URL = sim.url
        settings.SMS_GATEWAY_LOGIN, settings.SMS_GATEWAY_PASSWORD = "sim", "sim"
        settings.SMS_WEBHOOK_SIGNING_KEY = KEY
        settings.PUBLIC_BASE_URL = live_server.url
        yield sim


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_batch_is_sent_once_and_delivered_through_the_gateway(api, gateway):
    recipients = [{"phone": f"+44740000{i:04d}"} for i in range(30)]
    queued = api.post("/api/v1/messages/batch", {"content": "Hi", "recipients": recipients}, format="json")

    report = dispatcher.dispatch(worker="e2e", seconds=30)
    delivered = wait_until(lambda: Message.objects.filter(status="DELIVERED").count() == 30, seconds=15)

    assert queued.status_code == 202
    assert report.sent == 30
    assert delivered, list(Message.objects.values_list("status", flat=True))
    stats = gateway.stats()
    assert (stats["accepted"], stats["duplicate_receipts"]) == (30, 0)
    task = api.get(queued.json()["task_url"]).json()
    assert (task["status"], task["counts"]["DELIVERED"]) == ("SUCCEEDED", 30)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_refused_credentials_pause_sending(api, gateway, settings):
    settings.SMS_GATEWAY_PASSWORD = "wrong"
    api.post("/api/v1/messages/send", {"phone": "+447400000001", "content": "Hi"}, format="json")

    report = dispatcher.dispatch(worker="e2e", seconds=30)

    assert report.stopped == "auth"
    assert Message.objects.get().status == "QUEUED"
    assert gateway.stats()["accepted"] == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_gateway_webhooks_registers_our_url_once(gateway, settings, capsys):
    settings.PUBLIC_BASE_URL = "https://sms.example.com"

    call_command("gateway_webhooks", "register")
    call_command("gateway_webhooks", "register", "--event", "sms:received")
    call_command("gateway_webhooks", "list")

    out = capsys.readouterr().out
    assert out.count("registered ") == len(EVENTS)  # every event we act on or record
    assert "already registered: sms:received -> https://sms.example.com/api/v1/webhooks/android" in out
    listed = [line for line in out.splitlines() if "https://sms.example.com" in line and "registered" not in line]
    assert len(listed) == len(EVENTS)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_reply_reaches_the_inbox_and_is_answered_through_the_gateway(api, user, gateway):
    phone = "+447400000001"
    api.post("/api/v1/messages/send", {"phone": phone, "content": "Your parcel ships today"}, format="json")
    dispatcher.dispatch(worker="e2e", seconds=30)
    assert wait_until(lambda: Message.objects.filter(status="DELIVERED").count() == 1, seconds=15)

    call_command("simulate_reply", "--from", phone, "--text", "my parcel ORD-100221 hasn't arrived",
                 "--simulator", gateway.url)  # fmt: skip

    inbound = InboundMessage.objects.get()
    assert (inbound.owner, inbound.text, inbound.gateway_number) == (
        user, "my parcel ORD-100221 hasn't arrived", "+447700900000",
    )  # fmt: skip
    assert inbound.in_reply_to == Message.objects.get()
    answered = api.post(f"/api/v1/inbox/{inbound.pk}/reply", {"content": "It arrives at 5"}, format="json")
    dispatcher.dispatch(worker="e2e", seconds=30)
    reply = Message.objects.get(pk=answered.json()["message_ids"][0])
    assert wait_until(lambda: Message.objects.get(pk=reply.pk).status == "DELIVERED", seconds=15)
    thread = api.get(f"/api/v1/conversations/{phone}").json()["messages"]
    assert [(m["direction"], m["text"]) for m in thread] == [
        ("out", "Your parcel ships today"),
        ("in", "my parcel ORD-100221 hasn't arrived"),
        ("out", "It arrives at 5"),
    ]
