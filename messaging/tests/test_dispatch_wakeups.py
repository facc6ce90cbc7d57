"""A queued message goes out without waiting for the one-minute schedule, however its wake-up was debounced."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection
from django_q.models import OrmQ

from messaging import tasks
from messaging.models import Message

pytestmark = pytest.mark.postgres


class DispatchTask(threading.Thread):
    """The dispatch task a wake-up queued, run by a worker: on its own database connection."""

    def __init__(self):
        super().__init__(daemon=True)
        self.result: dict = {}

    def run(self):
        try:
            self.result = tasks.dispatch()
        finally:
            connection.close()


def wait_for(condition, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


@pytest.mark.django_db(transaction=True)
def test_a_message_queued_just_after_a_wake_up_goes_out_with_the_run_that_wake_up_started(api, locmem_gateway):
    assert (
        api.post("/api/v1/messages/send", {"phone": "+447400000001", "content": "1"}, format="json").status_code == 202
    )
    assert OrmQ.objects.count() == 1  # the wake-up
    run = DispatchTask()
    run.start()
    wait_for(lambda: Message.objects.filter(phone="+447400000001", status="SENT").exists())

    # Under a second after the wake-up: this send's own is debounced, and the run that one started has
    # found nothing more to send. It looks again before it stops.
    assert (
        api.post("/api/v1/messages/send", {"phone": "+447400000002", "content": "2"}, format="json").status_code == 202
    )
    run.join(10)

    assert OrmQ.objects.count() == 1, "the second send queued a wake-up of its own"
    assert dict(Message.objects.values_list("phone", "status")) == {"+447400000001": "SENT", "+447400000002": "SENT"}
    assert (run.result["sent"], run.result["stopped"]) == (2, "idle")
