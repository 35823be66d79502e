"""How the process pool splits a plan into chunks (guided self-scheduling)."""

from __future__ import annotations

import pytest

from sim.experiment import ProcessExecutor


@pytest.mark.parametrize("n", [0, 1, 7, 50, 200, 1001])
@pytest.mark.parametrize("workers", [1, 2, 8])
def test_chunks_cover_the_plan_once_in_order_and_shrink(n, workers):
    executor = ProcessExecutor(workers)  # not entered: no processes start
    items = list(range(n))
    chunks = executor.chunks(items)
    assert [i for chunk in chunks for i in chunk] == items  # every run once, in plan order
    sizes = [len(c) for c in chunks]
    assert all(1 <= s <= executor.max_chunk for s in sizes)
    assert sizes == sorted(sizes, reverse=True)  # never a larger chunk after a smaller one
    if n:
        assert sizes[-1] == 1  # the plan ends with single runs: the workers finish together


def test_chunk_sizes_for_200_runs_on_2_workers():
    # Each chunk is ceil(left / (2 workers x 4)), capped at 16: large first, single runs last.
    sizes = [len(c) for c in ProcessExecutor(2).chunks(list(range(200)))]
    # 200 -> 16 (25 capped) x5, then 120 -> 15, 105 -> 14, 91 -> 12, ... 7 -> 1.
    assert sizes == [16] * 5 + [15, 14, 12, 10, 9, 8, 7, 6, 5, 5, 4, 4, 3, 3] + [2] * 4 + [1] * 7
