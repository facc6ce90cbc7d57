"""A generator run in a forked process of its own, its items handed back in order while this one works.

The import reads and converts its file's rows (pure Python, a CPU's worth) in one such process while the
worker writes the previous batches to the database (waiting on PostgreSQL): on two CPUs, both are busy at
once. At most `window` items wait in the pipe, so memory stays bounded whatever the input's size.
"""

from __future__ import annotations

import multiprocessing
import pickle
import queue
import signal
import traceback
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")
_ITEM, _END, _ERROR = "item", "end", "error"
# How often a wait for the next item checks that the process is still alive.
POLL_SECONDS = 1.0


class HelperDied(RuntimeError):
    """The helper process ended without finishing (killed, out of memory)."""


def run_ahead(produce: Callable[[], Iterator[T]], *, window: int = 2) -> Iterator[T]:
    """Yield the items of produce() as made in a forked process. An exception it raises is raised here, after
    the items before it; closing this generator early stops the process."""
    # fork: the process inherits the loaded code and the open file; it never touches the database connection.
    context = multiprocessing.get_context("fork")
    items: Any = context.Queue(maxsize=window)
    helper = context.Process(target=_produce_into, args=(produce, items), name="import-reader")
    helper.start()
    try:
        while True:
            try:
                kind, value = items.get(timeout=POLL_SECONDS)
            except queue.Empty:
                if not helper.is_alive():
                    raise HelperDied(f"the import's reader process ended (exit code {helper.exitcode})") from None
                continue
            if kind == _END:
                return
            if kind == _ERROR:
                raise value
            yield value
    finally:
        if helper.is_alive():
            helper.kill()  # SIGKILL: it holds nothing that needs cleaning up, and SIGTERM may be taken for a stop
        helper.join()
        items.close()
        items.join_thread()


def _produce_into(produce: Callable[[], Iterator[Any]], items: Any) -> None:
    # The worker's stop request (SIGUSR1) and Ctrl-C are for the writer, which stops this process itself.
    signal.signal(signal.SIGUSR1, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        for item in produce():
            items.put((_ITEM, item))
    except BaseException as exc:
        items.put((_ERROR, _picklable(exc)))
    else:
        items.put((_END, None))
    items.close()
    items.join_thread()


def _picklable(exc: BaseException) -> BaseException:
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        return RuntimeError("".join(traceback.format_exception(exc)))
    return exc
