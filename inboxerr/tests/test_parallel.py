import os

import pytest

from inboxerr.parallel import ordered_map


def square(x: int) -> int:
    return x * x


def whose(_: int) -> int:
    return os.getpid()


def fails_on_three(x: int) -> int:
    if x == 3:
        raise ValueError("three")
    return x


@pytest.mark.parametrize("processes", [0, 1, 2])
def test_results_come_back_in_input_order(processes):
    assert list(ordered_map(square, range(200), processes=processes)) == [x * x for x in range(200)]


def test_the_work_runs_in_other_processes():
    pids = set(ordered_map(whose, range(50), processes=2))

    assert os.getpid() not in pids


def test_no_more_than_the_window_is_taken_ahead():
    taken = []

    def items():
        for i in range(1000):
            taken.append(i)
            yield i

    results = ordered_map(square, items(), processes=2, window=3)
    assert next(results) == 0
    assert len(taken) == 3
    results.close()


def test_a_workers_exception_reaches_the_caller():
    with pytest.raises(ValueError, match="three"):
        list(ordered_map(fails_on_three, range(10), processes=2))
