"""Shared fixtures: tiny scenarios and runs that keep each test well under a second or two."""

from __future__ import annotations

from pathlib import Path

import pytest

import sim

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
