"""At most SMS_DISPATCHERS dispatchers run at once, and a backlog recruits them (PostgreSQL advisory-lock slots)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django_q.models import OrmQ

from messaging import tasks
from messaging.dispatcher.slots import dispatcher_slot
from messaging.models import Message
from messaging.tests.factories import MessageFactory

pytestmark = pytest.mark.postgres


def queued_dispatch_tasks() -> int:
    return sum(1 for task in OrmQ.objects.all() if task.func() == "messaging.tasks.dispatch")


class SlotHolder(threading.Thread):
    """Takes a slot on its own database connection and keeps it until told to let go."""

    def __init__(self):
        super().__init__(daemon=True)
        self.slot, self.taken, self.release = "unset", threading.Event(), threading.Event()

    def run(self):
        try:
            with dispatcher_slot() as slot:
                self.slot = slot
                self.taken.set()
                self.release.wait(10)
        finally:
            self.taken.set()
            connection.close()


@pytest.mark.django_db(transaction=True)
def test_no_more_slots_than_sms_dispatchers_are_held_at_once(settings):
    settings.SMS_DISPATCHERS = 2
    holders = [SlotHolder() for _ in range(3)]
    try:
        for holder in holders:  # one after another, so the slots go in order
            holder.start()
            holder.taken.wait(10)
        assert [h.slot for h in holders] == [0, 1, None]

        holders[0].release.set()
        holders[0].join(10)
        late = SlotHolder()
        late.start()
        late.taken.wait(10)
        assert late.slot == 0, "a slot given back is taken again"
        late.release.set()
        late.join(10)
    finally:
        for holder in holders:
            holder.release.set()
            holder.join(10)


@pytest.mark.django_db(transaction=True)
def test_a_dispatcher_that_reconnects_takes_its_slot_again(settings):
    settings.SMS_DISPATCHERS = 1
    with dispatcher_slot() as slot:
        connection.close()  # as the dispatcher does after losing the database: the lock goes with the session
        connection.ensure_connection()
        rival = SlotHolder()
        rival.start()
        rival.taken.wait(10)
        rival.release.set()
        rival.join(10)

    assert slot == 0
    assert rival.slot is None, "another dispatcher took the slot of one that had only reconnected"


@pytest.mark.django_db(transaction=True)
def test_a_dispatch_task_with_every_slot_taken_sends_nothing(settings, user, locmem_gateway):
    settings.SMS_DISPATCHERS = 1
    MessageFactory.create_batch(3, owner=user)
    holder = SlotHolder()
    holder.start()
    holder.taken.wait(10)
    try:
        result = tasks.dispatch()
    finally:
        holder.release.set()
        holder.join(10)

    assert result == {"stopped": "all dispatcher slots taken"}
    assert locmem_gateway.outbox == []
    assert set(Message.objects.values_list("status", flat=True)) == {"QUEUED"}


@pytest.mark.django_db
def test_a_full_batch_recruits_exactly_one_more_dispatcher(settings, user, locmem_gateway):
    settings.SMS_DISPATCH_BATCH = 5
    MessageFactory.create_batch(12, owner=user)  # three batches: 5, 5, 2

    result = tasks.dispatch()

    assert (result["slot"], result["sent"], result["stopped"]) == (0, 12, "idle")
    assert queued_dispatch_tasks() == 1


@pytest.mark.django_db
def test_a_trickle_recruits_no_one(settings, user, locmem_gateway):
    settings.SMS_DISPATCH_BATCH = 5
    MessageFactory.create_batch(4, owner=user)

    result = tasks.dispatch()

    assert result["sent"] == 4
    assert queued_dispatch_tasks() == 0
