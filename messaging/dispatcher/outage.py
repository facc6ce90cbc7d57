"""Riding out a lost database (a restart, a failover) in the middle of a dispatch run."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from django.db import InterfaceError, OperationalError, connection

log = logging.getLogger(__name__)

# How long a dispatcher waits for a lost database before giving up its run.
DB_OUTAGE_SECONDS = 60
T = TypeVar("T")


def riding_out_db_outage(step: Callable[[], T]) -> T:
    """Run a database step, reconnecting and trying again while the database cannot be reached.

    Django drops a broken connection only between requests (and django-q2 between tasks), but one
    dispatch run lasts many batches: without this, a PostgreSQL restart would end the run with messages
    sent and not recorded, left SENDING until their leases expire. Only steps that are safe to repeat
    come here: each writes in one transaction, or in updates that hold only while this worker owns the message.
    """
    give_up = time.monotonic() + DB_OUTAGE_SECONDS
    pause = 0.1
    while True:
        try:
            return step()
        except (OperationalError, InterfaceError) as exc:
            if connection.in_atomic_block or time.monotonic() + pause > give_up:
                raise
            log.warning("dispatcher: lost the database (%s); trying again in %.1f s", str(exc).strip(), pause)
            connection.close()
            time.sleep(pause)
            pause = min(pause * 2, 2)
