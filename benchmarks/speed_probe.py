"""How fast the machine is right now: three small fixed workloads, to set beside a benchmark.

A shared VM's speed drifts by 10-40% within minutes and by up to two times between
hours (docs/performance.md, "Machine"), so a benchmark's figure says as much about the
machine's phase as about the code. The three workloads stand for what a world_scale run
does: plain Python (the teams' agents, the day's calls), scattered reads (a request's
rows in the ledger, the pair matrices) and fresh memory (a run touches about 300 MB).
``benchmarks/run.py``
records these three workloads at the start and the end of every benchmark (in a fresh
process each time, so that the memory it touches first is fresh), so that two results
files can be told apart by phase:

- ``python_loop_s``: a 3-million-iteration ``for`` loop of plain Python with a little
  arithmetic in each step (about 0.15 s in this VM's fast phases); the best of three;
- ``random_gather_s``: 5 million random reads from a 200 MB array (memory latency and
  the shared cache); the best of three;
- ``first_touch_s``: writing 256 MB of fresh memory once (what the system charges for
  pages a process has not used before: 0.22-0.85 s on this VM in the eleventh session
  after stop 31).

Usage: ``uv run python benchmarks/speed_probe.py`` prints them as JSON.
"""

from __future__ import annotations

import json
import time

import numpy as np

#: The figures :func:`probe` returns, in seconds.
FIGURES = ("python_loop_s", "random_gather_s", "first_touch_s")


def python_loop(iterations: int, repeats: int = 3) -> float:
    """Seconds for a plain-Python loop of ``iterations`` steps, the best of ``repeats``."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        total = 0
        for i in range(iterations):
            total += i * i % 7
        best = min(best, time.perf_counter() - start)
    return best


def random_gather(size: int, reads: int, repeats: int = 3) -> float:
    """Seconds to read ``reads`` random places of ``size`` float64 values, the best of ``repeats``.

    The array and the places are made once, outside the timing.
    """
    rng = np.random.default_rng(0)
    values = rng.random(size)
    where = rng.integers(0, size, reads)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        values[where].sum()
        best = min(best, time.perf_counter() - start)
    return best


def first_touch(megabytes: int) -> float:
    """Seconds to write ``megabytes`` of memory the process has not used before."""
    start = time.perf_counter()
    block = np.ones(megabytes * 2**20 // 8)
    elapsed = time.perf_counter() - start
    del block
    return elapsed


def probe(scale: float = 1.0) -> dict:
    """The three workloads (:data:`FIGURES`), to the millisecond; ``scale`` shrinks them (tests).

    Run it first in its process: ``first_touch`` measures fresh memory only there.
    """
    touch = first_touch(max(1, round(256 * scale)))
    loop = python_loop(max(1, round(3_000_000 * scale)))
    gather = random_gather(max(1, round(25_000_000 * scale)), max(1, round(5_000_000 * scale)))
    return dict(zip(FIGURES, (round(loop, 3), round(gather, 3), round(touch, 3)), strict=True))


if __name__ == "__main__":
    print(json.dumps(probe()))
