"""Regenerate tests/data/regression_baseline.json after an intended model change.

Run from the repository root::

    uv run python tests/regen_regression.py

It runs a fixed small scenario (the shipped baseline with 15 states over one
year) for seeds 1 and 2 and stores the flattened outcomes. Review the diff of
the JSON file before committing it: every changed number is a changed result.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import sim
from sim.metrics import flatten, to_jsonable

BASELINE = Path(__file__).resolve().parent / "data" / "regression_baseline.json"
SCENARIO = "baseline"
OVERRIDES = {"world.n_states": 15, "run.years": 1.0, "run.warmup_years": 0.0}
SEEDS = (1, 2)


def regression_outcomes() -> dict[str, dict]:
    """Flat outcomes of the regression runs, keyed by seed (as a string)."""
    scenario = sim.load_scenario(SCENARIO, OVERRIDES)
    return {
        str(seed): to_jsonable(flatten(sim.run(scenario, seed=seed).outcomes)) for seed in SEEDS
    }


def main() -> int:
    """Write the baseline file."""
    data = {
        "scenario": SCENARIO,
        "overrides": OVERRIDES,
        "seeds": list(SEEDS),
        "outcomes": regression_outcomes(),
    }
    BASELINE.parent.mkdir(parents=True, exist_ok=True)
    BASELINE.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {BASELINE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
