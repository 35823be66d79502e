"""The README figure (docs/img/comparison.png) matches its data, and the data the model.

docs/make_figures.py writes the figure, the comparison table it shows and every
run's outcomes. The quick tests check that the three belong together; the slow
test reruns a few of the stored runs with the current model and fails when the
model has moved on (then regenerate: the message says how).
"""

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

REPO = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("make_figures", REPO / "docs" / "make_figures.py")
make_figures = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_figures)

STALE = (
    "docs/img/comparison.png and its data are out of date with the model; regenerate "
    f"them with `{make_figures.COMMAND}` and commit docs/img/"
)


def _runs() -> pd.DataFrame:
    return pd.read_csv(make_figures.RUNS)


def test_the_figure_was_drawn_from_the_committed_table():
    table_csv = make_figures.TABLE.read_text(encoding="utf-8")
    stored = make_figures.png_metadata(make_figures.FIGURE).get(make_figures.DATA_KEY)
    assert stored == make_figures.sha256_text(table_csv), STALE


def test_the_committed_table_is_the_comparison_of_the_committed_runs():
    from sim.experiment import load_experiment

    experiment = load_experiment(make_figures.EXPERIMENT)
    runs = _runs()
    assert list(runs.columns[5:]) == list(experiment.spec.outcomes), STALE
    assert sorted(set(runs["policy"])) == sorted(p.name for p in experiment.policies), STALE
    assert len(runs) == len(experiment.run_specs()), STALE
    spec = experiment.spec.model_dump()
    again = make_figures.comparison_from_runs(runs, {**spec, "reference": experiment.reference})
    stored = pd.read_csv(make_figures.TABLE)
    pd.testing.assert_frame_equal(again, stored, rtol=1e-9, check_dtype=False, obj=STALE)


@pytest.mark.slow
def test_a_fresh_run_of_the_model_gives_the_committed_runs():
    from sim.experiment import load_experiment

    experiment = load_experiment(make_figures.EXPERIMENT)
    runs = _runs().set_index("policy")
    by_policy = {}
    for spec in experiment.run_specs():
        if spec.replication == 0:
            by_policy.setdefault(spec.policy, spec)
    # The last package, first replication: one run of every mechanism the figure compares
    # (a model change that moves any stored run moves this one too).
    for policy in (experiment.policies[-1].name,):
        spec = by_policy[policy]
        fresh, *_ = experiment.target(spec)
        row = runs[(runs.index == policy) & (runs["replication"] == 0)].iloc[0]
        assert int(row["seed"]) == spec.seed, STALE
        names = list(experiment.spec.outcomes)
        got = np.array([fresh[n] for n in names], dtype=float)
        want = row[names].to_numpy(dtype=float)
        np.testing.assert_allclose(got, want, rtol=1e-9, equal_nan=True, err_msg=STALE)
