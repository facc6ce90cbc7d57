"""Stopping the workers in seconds, whatever a task's length (`manage.py qcluster`, on SIGTERM).

django-q2 stops a cluster by letting every worker finish its task, which may take up to Q_TIMEOUT
(half an hour) for a dispatch or an import: compose, systemd and Kubernetes kill it long before. So
a SIGTERM first asks every process of the cluster to stop at its next safe point (SIGUSR1 sets the
flag `requested()` reads: the dispatcher between batches, the import and the fan-out between theirs),
then, STOP_GRACE_SECONDS later, kills what is still running. Either way nothing is lost: work stopped
early or killed is taken up again as after a crash (leases, heartbeats, the minute schedules).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

log = logging.getLogger(__name__)

# Well under compose's and Kubernetes' default grace of 10 s before they send SIGKILL: after the kill,
# django-q2 still takes its sentinel, pusher and monitor down, which took over 2 s on a loaded 2-core host.
STOP_GRACE_SECONDS = 6
_requested = threading.Event()


def requested() -> bool:
    """Whether this process was asked to stop: long loops end at their next safe point."""
    return _requested.is_set()


def _note_request(signum: int, frame: FrameType | None) -> None:
    _requested.set()


def listen() -> None:
    """Take SIGUSR1 as the request to stop; a process forked after this inherits it."""
    signal.signal(signal.SIGUSR1, _note_request)


def live_processes() -> Iterator[tuple[int, int, int]]:
    """(pid, parent pid, process group) of every live process, zombies left out, read from /proc."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # it ended while we looked
        state, ppid, pgrp = stat.rsplit(")", 1)[1].split()[:3]  # the command name may hold spaces and parentheses
        if state != "Z":
            yield int(entry.name), int(ppid), int(pgrp)


def descendants(pid: int) -> list[int]:
    """Every live process started, at any depth, by `pid`."""
    children: dict[int, list[int]] = {}
    for child, parent, _group in live_processes():
        children.setdefault(parent, []).append(child)
    found, pending = [], [pid]
    while pending:
        for child in children.get(pending.pop(), []):
            found.append(child)
            pending.append(child)
    return found


def signal_all(pids: list[int], signum: int) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):  # it ended meanwhile
            os.kill(pid, signum)


def ask_descendants_to_stop(*, grace: float = STOP_GRACE_SECONDS) -> threading.Timer:
    """SIGUSR1 to every process this one started; SIGKILL, `grace` seconds later, to those still there."""
    me = os.getpid()
    signal_all(descendants(me), signal.SIGUSR1)

    def kill_the_rest() -> None:
        left = descendants(me)
        if left:
            log.warning("stopping: %d process(es) still running after %ss, killed; their work will be retried",
                        len(left), grace)  # fmt: skip
            signal_all(left, signal.SIGKILL)

    timer = threading.Timer(grace, kill_the_rest)
    timer.daemon = True
    timer.start()
    return timer
