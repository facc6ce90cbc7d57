"""Fan-out on PostgreSQL: batches COPYed into the messages table, written on a connection of their own while
the next batch is made, and rewritten with ON CONFLICT DO NOTHING when some of their messages exist already."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.db.models import Count
from django.utils import timezone

from campaigns import fanout, services
from campaigns.fanout import campaign_fan_out
from campaigns.models import Campaign
from campaigns.tests.factories import CampaignFactory
from imports.models import ImportJob
from imports.tests.factories import ContactFactory, ImportJobFactory
from messaging.models import Message, OptOut

pytestmark = pytest.mark.postgres
ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = 'Hi {{ name }}, order {{ order_no }} to {{ city|default:"you" }}{{ note|default:"" }}'
# What COPY's text format must escape, text outside GSM-7, and a note long enough for two parts.
TRICKY = [
    ("O\\Brien", {"order_no": "A\\1\t2", "city": "Line 1\nLine 2\r"}),
    ("Zoë 🙂", {"order_no": "B-2", "city": "Zürich", "note": " \\N"}),
    ("Person 3", {"order_no": "C-3", "city": "", "note": " long note" * 20}),
    ("Person 4", {"order_no": "D-4", "city": "York", "extra": {"nested": [1, "two"]}}),
]
# Every column but those that differ from one write to the next.
COMPARED = [f.attname for f in Message._meta.concrete_fields if f.attname not in ("id", "created_at", "updated_at")]


COLUMNS = {"variables": {"Order": "order_no", "City": "city", "Note": "note", "Extra": "extra"}}


def tricky_campaign(user, **fields) -> Campaign:
    job = ImportJobFactory(owner=user, status=ImportJob.Status.SUCCESS, column_mapping=COLUMNS)
    for i, (name, variables) in enumerate(TRICKY):
        ContactFactory(import_job=job, phone=f"+44740000010{i}", name=name, variables=variables)
    ContactFactory(import_job=job, phone="+447400000199", name="Opted", variables={"order_no": "E"})
    OptOut.objects.create(owner=user, phone="+447400000199")
    campaign = CampaignFactory(owner=user, import_job=job, message_content=TEMPLATE, **fields)
    return services.campaign_start(campaign=campaign)


def written(campaign: Campaign) -> dict[str, dict]:
    return {row["phone"]: row for row in Message.objects.filter(campaign=campaign).values(*COMPARED)}


def start_again(campaign: Campaign) -> None:
    Campaign.objects.filter(pk=campaign.pk).update(fanout_completed_at=None, fanout_heartbeat_at=None)


@pytest.mark.django_db
def test_text_copy_must_escape_is_written_as_it_was_rendered(user):
    campaign = tricky_campaign(user)

    result = campaign_fan_out(campaign_id=campaign.pk)

    messages = {m.phone: m for m in Message.objects.filter(campaign=campaign)}
    assert (result.queued, result.skipped_opted_out) == (4, 1)
    first = messages["+447400000100"]
    assert first.content == "Hi O\\Brien, order A\\1\t2 to Line 1\nLine 2\r"
    assert first.variables == TRICKY[0][1]
    assert messages["+447400000101"].content == "Hi Zoë 🙂, order B-2 to Zürich \\N"
    assert messages["+447400000102"].parts_count == 2
    assert messages["+447400000103"].variables["extra"] == {"nested": [1, "two"]}


@pytest.mark.django_db
def test_a_batch_meeting_a_message_written_before_writes_the_rest_as_copy_would(user, caplog):
    campaign = tricky_campaign(user, send_window="00:00-23:59")
    campaign_fan_out(campaign_id=campaign.pk)
    by_copy = written(campaign)
    kept = Message.objects.get(campaign=campaign, phone="+447400000100")
    Message.objects.filter(campaign=campaign).exclude(pk=kept.pk).delete()
    start_again(campaign)

    with caplog.at_level(logging.INFO, logger="campaigns.fanout"):
        again = campaign_fan_out(campaign_id=campaign.pk)

    assert "met messages written before" in caplog.text  # the batch went through ON CONFLICT DO NOTHING
    by_insert = written(campaign)
    for row in [*by_copy.values(), *by_insert.values()]:
        row.pop("next_attempt_at")  # the moment each was written, when its window is open
    assert by_insert == by_copy
    assert Message.objects.get(campaign=campaign, phone=kept.phone).pk == kept.pk
    assert (again.recipients, again.queued, again.skipped_opted_out) == (5, 4, 1)


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_batches_are_written_on_a_connection_of_their_own(user, monkeypatch):
    monkeypatch.setattr(fanout, "BATCH_SIZE", 2)
    campaign = tricky_campaign(user)

    result = campaign_fan_out(campaign_id=campaign.pk)

    assert (result.recipients, result.queued, result.skipped_opted_out) == (5, 4, 1)
    assert Message.objects.filter(campaign=campaign).count() == 4
    assert Message.objects.get(phone="+447400000100").content == "Hi O\\Brien, order A\\1\t2 to Line 1\nLine 2\r"
    campaign.refresh_from_db()
    assert (campaign.recipients_count, campaign.skipped_opted_out) == (5, 1)
    assert campaign.fanout_completed_at


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_a_cancel_stops_the_fan_out_at_the_next_batch(user, monkeypatch):
    monkeypatch.setattr(fanout, "BATCH_SIZE", 1)
    campaign = tricky_campaign(user)

    def cancel_after_first_batch(result):
        services.campaign_cancel(campaign=Campaign.objects.get(pk=campaign.pk))

    result = campaign_fan_out(campaign_id=campaign.pk, on_batch=cancel_after_first_batch)

    assert result.recipients == 2  # the second batch was read, then refused
    assert Message.objects.filter(campaign=campaign).count() == 1


KILLED_FAN_OUT = """
import sys, django
django.setup()
from campaigns import fanout
fanout.BATCH_SIZE = 500
fanout.campaign_fan_out(campaign_id=int(sys.argv[1]))
"""


@pytest.mark.django_db(transaction=True)
def test_a_fan_out_killed_mid_way_and_run_again_writes_each_message_once(user):
    contacts = 30_000
    job = ImportJobFactory(owner=user, status=ImportJob.Status.SUCCESS, column_mapping={"variables": {"N": "n"}})
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO imports_contact (owner_id, import_job_id, phone, name, variables, row_number, line_type) "
            "SELECT %s, %s, '+4474' || lpad(n::text, 8, '0'), 'Person ' || n, jsonb_build_object('n', n), n, "
            "'mobile' FROM generate_series(1, %s) AS n",
            [user.pk, job.pk, contacts],
        )
    campaign = services.campaign_start(
        campaign=CampaignFactory(owner=user, import_job=job, message_content="Hi {{ name }}, #{{ n }}")
    )
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "inboxerr.settings",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
    }
    worker = subprocess.Popen([sys.executable, "-c", KILLED_FAN_OUT, str(campaign.pk)], cwd=ROOT, env=env)
    deadline = time.monotonic() + 60
    while Message.objects.filter(campaign=campaign).count() < 2_000 and time.monotonic() < deadline:
        time.sleep(0.005)
    os.kill(worker.pid, signal.SIGKILL)  # mid-way: batches committed, one perhaps being written
    worker.wait()
    before = dict(Message.objects.filter(campaign=campaign).values_list("phone", "id"))
    campaign.refresh_from_db()
    assert 0 < len(before) < contacts
    assert campaign.fanout_completed_at is None
    long_ago = timezone.now() - fanout.STALL - timedelta(seconds=1)
    Campaign.objects.filter(pk=campaign.pk).update(fanout_heartbeat_at=long_ago)  # as the clock finds it

    result = campaign_fan_out(campaign_id=campaign.pk)

    messages = Message.objects.filter(campaign=campaign)
    assert (result.recipients, result.queued) == (contacts, contacts)
    assert messages.count() == contacts
    assert not messages.values("contact_id").annotate(n=Count("id")).filter(n__gt=1).exists()
    assert dict(messages.filter(phone__in=before).values_list("phone", "id")) == before
    assert messages.get(phone="+447400029999").content == "Hi Person 29999, #29999"
    campaign.refresh_from_db()
    assert campaign.recipients_count == contacts
    assert campaign.fanout_completed_at
