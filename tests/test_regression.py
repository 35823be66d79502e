"""Regression: a fixed small run must reproduce the stored outcomes.

When a model change is intended, regenerate the baseline with
``uv run python tests/regen_regression.py`` and commit the reviewed JSON diff.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from regen_regression import BASELINE, OVERRIDES, SCENARIO, SEEDS, regression_outcomes

REGEN = "uv run python tests/regen_regression.py"
CORE_KEYS = (
    "requests_total",
    "requests_executed",
    "requests_refused",
    "requests_lapsed",
    "requests_withdrawn",
    "requests_open",
    "completion_rate",
    "refusal_rate",
    "lapse_rate",
    "median_response_days.mla_evidence",
    "median_response_days.extradition",
    "refusal_rate_by_ground.dual_criminality",
    "refusal_rate_by_ground.sovereignty",
    "clarification_rounds_per_request",
    "cases_total",
    "case_resolution_rate",
    "mean_trust",
)


@pytest.fixture(scope="module")
def stored():
    assert BASELINE.exists(), f"no regression baseline; create it with `{REGEN}`"
    return json.loads(BASELINE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def current():
    return regression_outcomes()


def test_baseline_file_describes_the_runs_it_holds(stored):
    assert stored["scenario"] == SCENARIO
    assert stored["overrides"] == OVERRIDES
    assert [int(s) for s in stored["outcomes"]] == list(SEEDS)
    for flat in stored["outcomes"].values():
        missing = [k for k in CORE_KEYS if k not in flat]
        assert not missing, f"core keys missing from the baseline: {missing}; run `{REGEN}`"


def _number(value):
    if value is None:  # NaN is stored as null
        return math.nan
    if isinstance(value, bool):
        return float(value)
    return value


@pytest.mark.parametrize("seed", [str(s) for s in SEEDS])
def test_outcomes_match_the_stored_baseline(stored, current, seed):
    old, new = stored["outcomes"][seed], current[seed]
    missing = [k for k in CORE_KEYS if k not in new]
    assert not missing, f"core outcomes no longer computed: {missing}"
    # The outcome set grows: compare what both have.
    shared = sorted(set(old) & set(new))
    numeric = [k for k in shared if isinstance(_number(old[k]), int | float)]
    texts = [k for k in shared if k not in numeric]
    for key in texts:
        assert old[key] == new[key], (
            f"seed {seed}: {key} changed from {old[key]!r} to {new[key]!r}. If the model "
            f"change is intended, regenerate the baseline: `{REGEN}`"
        )
    expected = np.array([_number(old[k]) for k in numeric], dtype=float)
    actual = np.array([_number(new[k]) for k in numeric], dtype=float)
    changed = [
        f"{k}: {float(e)!r} -> {float(a)!r}"
        for k, e, a in zip(numeric, expected, actual, strict=True)
        if not (np.isnan(e) and np.isnan(a)) and not np.isclose(a, e, rtol=1e-9, atol=0)
    ]
    np.testing.assert_allclose(
        actual,
        expected,
        rtol=1e-9,
        equal_nan=True,
        err_msg=(
            f"seed {seed}: outcomes differ from {BASELINE.name} ({len(changed)} keys):\n  "
            + "\n  ".join(changed[:25])
            + f"\nIf this model change is intended, regenerate the baseline with `{REGEN}` "
            "and commit the reviewed diff of tests/data/regression_baseline.json."
        ),
    )
