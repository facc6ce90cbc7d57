"""Real worker nodes for the fault and scaling tests: `manage.py qcluster` process groups on a Redis broker.

    env = node_environment(database_url=..., redis_url=..., gateway_url=sim.url, SMS_LEASE_SECONDS="3")
    with Node("a", env, log_dir=tmp_path) as node:   # started, ready, stopped on exit
        node.kill()                                  # SIGKILL to its whole process group
        node.start(); node.wait_ready()

`use_broker(redis_url)` points this process's task queue at the same Redis, as a
web node configured with REDIS_URL would be, so services called here (a
campaign's start) queue their tasks for the nodes. `flush_redis` empties one
Redis database; `wait_until` polls a condition. A Node needs no Redis: with an
environment without REDIS_URL it uses the database's own task queue.
`start_group`, `kill_group` and `tail` serve any other worker process a test runs.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from unittest import mock

from inboxerr.shutdown import live_processes

ROOT = Path(__file__).resolve().parents[1]
# The Redis database the nodes use as broker and cache; flushed by the tests, so it must be theirs alone.
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/5")
# The nodes' task queue name (Q_CLUSTER_NAME): other clusters on the same Redis never take their tasks.
CLUSTER_NAME = os.environ.get("TEST_Q_CLUSTER_NAME", "inboxerr-cluster-tests")
READY_LINE = "running."  # django-q2's "Q Cluster <name> running." once the sentinel has started its workers


def database_url(settings_dict: dict) -> str:
    """A DATABASE_URL for the database Django is connected to (the test database inside a test)."""
    db = settings_dict
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def node_environment(*, database_url: str, redis_url: str, gateway_url: str, **overrides: str) -> dict[str, str]:
    """The environment of a worker node sending through the android backend to the gateway simulator."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "inboxerr.settings",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "Q_CLUSTER_NAME": CLUSTER_NAME,
        "SMS_BACKEND": "android",
        "SMS_GATEWAY_URL": gateway_url,
        "SMS_GATEWAY_LOGIN": "sim",
        "SMS_GATEWAY_PASSWORD": "sim",
        "PYTHONPATH": str(ROOT),
        **overrides,
    }


class Node:
    """One `manage.py qcluster` (sentinel, pusher, monitor, workers), leading a process group of its own."""

    def __init__(self, name: str, env: dict[str, str], *, log_dir: Path) -> None:
        self.name = name
        self.env = env
        self.log = Path(log_dir) / f"qcluster-{name}.log"
        self.process: subprocess.Popen | None = None
        self._log_offset = 0

    def start(self) -> Node:
        self._log_offset = self.log.stat().st_size if self.log.exists() else 0
        self.process = start_group(["manage.py", "qcluster"], env=self.env, log=self.log)
        return self

    def wait_ready(self, seconds: float = 60) -> None:
        """Block until this start's workers are up; raise with the log's tail if they never come."""
        if not wait_until(lambda: READY_LINE in self._log_since_start() or self.process.poll() is not None, seconds):
            raise TimeoutError(f"qcluster {self.name} not ready after {seconds} s:\n{self.tail()}")
        if self.process.poll() is not None:
            raise RuntimeError(f"qcluster {self.name} exited with {self.process.returncode}:\n{self.tail()}")

    def kill(self) -> None:
        """SIGKILL the whole group at once, as a lost machine or the OOM killer would: nothing gets to clean up."""
        kill_group(self.process)

    def stop(self, grace: float = 5) -> None:
        """SIGTERM, then SIGKILL for whatever is still running after `grace` seconds (a dispatch may run for long)."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        if not wait_until(lambda: not self.pids(), grace):
            self.kill()
        self.process.wait(timeout=30)

    def pids(self) -> set[int]:
        """Every live process of the group (its workers' pids appear in Message.claimed_by)."""
        return process_group(self.process.pid) if self.process else set()

    def tail(self, lines: int = 40) -> str:
        return tail(self.log, lines)

    def _log_since_start(self) -> str:
        with open(self.log, "rb") as log:
            log.seek(self._log_offset)
            return log.read().decode(errors="replace")

    def __enter__(self) -> Node:
        self.start().wait_ready()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def start_group(args: list[str], *, env: dict[str, str], log: Path) -> subprocess.Popen:
    """Start `python args...` at the project root, leading a new process group (so one killpg reaches every
    process it forks), its output appended to `log`."""
    with open(log, "ab") as out:
        return subprocess.Popen(
            [sys.executable, *args], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def kill_group(process: subprocess.Popen) -> None:
    """SIGKILL the process and everything it started, as the OOM killer or a lost node would."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)


def tail(log: Path, lines: int = 40) -> str:
    """The end of a process's log, for an assertion message."""
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:]) if log.exists() else "(no log)"


def process_group(pgid: int) -> set[int]:
    """Pids of the live (not zombie) processes in a process group."""
    return {pid for pid, _parent, group in live_processes() if group == pgid}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def listening(port: int) -> bool:
    """Does something accept connections on 127.0.0.1:`port`?"""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
    except OSError:
        return False
    return True


def worker_pid(claimed_by: str) -> int:
    """The pid in a dispatcher's name (messaging.dispatcher.worker_name: "host:pid")."""
    return int(claimed_by.rsplit(":", 1)[1])


@contextlib.contextmanager
def use_broker(redis_url: str) -> Iterator[None]:
    """Queue this process's tasks on the nodes' Redis broker instead of the broker its settings chose.

    django-q2 reads its configuration once, at import; the test process started without REDIS_URL.
    """
    from django_q.conf import Conf

    with (
        mock.patch.object(Conf, "ORM", None),
        mock.patch.object(Conf, "REDIS", redis_url),
        mock.patch.object(Conf, "CLUSTER_NAME", CLUSTER_NAME),
        mock.patch.object(Conf, "PREFIX", CLUSTER_NAME),  # the salt of the tasks' signatures
    ):
        yield


def flush_redis(redis_url: str) -> None:
    """Empty that one Redis database (the broker's queue, the dispatch debounce, cluster stats)."""
    import redis

    redis.from_url(redis_url).flushdb()


def wait_until(condition: Callable[[], object], seconds: float, interval: float = 0.1) -> bool:
    """Poll `condition` until it is true (True) or `seconds` have passed (False)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return False
