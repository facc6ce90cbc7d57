"""Real worker processes for the fault tests: started in a process group of their own, so kill -9 takes them all."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def start_group(args: list[str], *, env: dict[str, str], log: Path) -> subprocess.Popen:
    """Start `python args...` at the project root, leading a new process group, output appended to `log`."""
    with open(log, "ab") as out:
        return subprocess.Popen(
            [sys.executable, *args], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def kill_group(process: subprocess.Popen) -> None:
    """SIGKILL the process and everything it started (forked workers), as the OOM killer or a lost node would."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)


def tail(log: Path, lines: int = 40) -> str:
    """The end of a worker's log, for an assertion message."""
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:]) if log.exists() else "(no log)"
