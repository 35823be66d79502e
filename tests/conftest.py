"""Shared fixtures: tiny scenarios and runs that keep each test well under a second or two."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

import sim
from sim.requests import Outcome, RefusalGround, Stage

TINY = {"world.n_states": 12, "run.years": 1.0}
BASELINE_FILE = Path(__file__).resolve().parent.parent / "scenarios" / "baseline.toml"


def tiny_scenario(**overrides):
    """The shipped baseline shrunk to 12 states and one year, plus dotted-key overrides.

    Keyword names use ``__`` for the dot: ``tiny_scenario(world__nsc_share=1.0)``.
    """
    values = dict(TINY)
    values.update({key.replace("__", "."): value for key, value in overrides.items()})
    return sim.load_scenario("baseline", values)


def tiny_run(seed: int = 1, **overrides):
    """Run :func:`tiny_scenario` with one seed."""
    return sim.run(tiny_scenario(**overrides), seed=seed)


@pytest.fixture(scope="session")
def tiny_result():
    """One full tiny run (baseline, 12 states, 1 year, seed 3), shared by invariant tests."""
    return tiny_run(seed=3)


@pytest.fixture
def write_toml(tmp_path):
    """Write a TOML file under tmp_path and return its path: ``write_toml("a.toml", text)``."""

    def write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    return write


def ledger_columns(model) -> dict:
    """Every filled ledger column of a run, by name."""
    return {name: model.ledger.col(name) for name in model.ledger._cols}


def assert_one_outcome_per_request(c: dict) -> None:
    """Each request has exactly one outcome, and a closed one is closed everywhere."""
    assert set(np.unique(c["outcome"])) <= {int(o) for o in Outcome}
    closed = c["outcome"] != Outcome.OPEN
    np.testing.assert_array_equal(closed, c["t_closed"] >= 0)
    np.testing.assert_array_equal(closed, c["stage"] == Stage.CLOSED)
    # A refusal ground exactly on refused requests.
    np.testing.assert_array_equal(
        c["refusal_ground"] != RefusalGround.NONE, c["outcome"] == Outcome.REFUSED
    )
    # Closed requests have left every queue.
    assert np.all(c["queue_agency"][closed] == -1)


_OK_IN_SHARD: dict[tuple, int] = {}


def ok_runs_stored(out: Path) -> int:
    """Successful run records in the readable shards of a results folder.

    Tests poll this while a sweep runs in another process, so each shard version
    (path, size, mtime) is read once: rereading every shard at each poll would take
    a core away from the sweep being watched. A shard being renamed may vanish.
    """
    n = 0
    for shard in (out / "runs").glob("shard-*.parquet") if (out / "runs").is_dir() else []:
        try:
            stat = shard.stat()
            key = (str(shard), stat.st_size, stat.st_mtime_ns)
            if key not in _OK_IN_SHARD:
                table = pq.read_table(shard, columns=["status"]).to_pandas()
                _OK_IN_SHARD[key] = int((table["status"] == "ok").sum())
        except (OSError, ValueError):
            continue
        n += _OK_IN_SHARD[key]
    return n
