"""An ordered, bounded parallel map over worker processes.

Used where pure-Python work per item dominates (phone-number parsing in
imports): the items are handed to `processes` forked workers, at most `window`
at a time, and the results come back in input order. Memory stays bounded by
the window, whatever the number of items.
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")


def ordered_map(
    fn: Callable[[T], R],
    items: Iterable[T],
    *,
    processes: int,
    window: int = 0,
    initializer: Callable[..., Any] | None = None,
    initargs: tuple = (),
) -> Iterator[R]:
    """Yield fn(item) for each item, in order. With processes <= 1 it runs in this process."""
    if processes <= 1:
        if initializer:
            initializer(*initargs)
        yield from map(fn, items)
        return

    window = window or 2 * processes
    # fork: the workers inherit the loaded code; they never touch the parent's database connection.
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(processes, mp_context=context, initializer=initializer, initargs=initargs) as pool:
        pending: deque[Future] = deque()
        try:
            for item in items:
                pending.append(pool.submit(fn, item))
                if len(pending) >= window:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for future in pending:
                future.cancel()
