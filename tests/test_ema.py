"""The EMA Workbench adapter: a ready Model from dotted names, experiments and PRIM.

The whole module is slow: importing the Workbench alone takes about 5 s.
"""

import numpy as np
import pytest

import sim.ema
from sim.scenario import ScenarioError

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def ema_workbench():
    """The Workbench, imported only when a test here runs (not at collection)."""
    return pytest.importorskip("ema_workbench")


def test_model_from_dotted_names_takes_types_and_ranges_from_the_schema(ema_workbench):
    m = sim.ema.model(
        uncertainties={"review.sovereignty_refusal": (0.1, 0.5), "world.n_language_groups": None},
        levers=["nsc_law.enabled", "agencies.queue_discipline"],
        outcomes=["completion_rate", "median_response_days.mla_evidence", "leaks", "states"],
    )
    params = {p.name: p for p in [*m.uncertainties, *m.levers]}
    assert (
        m.input_names
        == list(params)
        == [
            "review__sovereignty_refusal",
            "world__n_language_groups",
            "nsc_law__enabled",
            "agencies__queue_discipline",
        ]
    )
    assert isinstance(params["review__sovereignty_refusal"], ema_workbench.RealParameter)
    assert (
        params["review__sovereignty_refusal"].lower_bound,
        params["review__sovereignty_refusal"].upper_bound,
    ) == (0.1, 0.5)
    groups = params["world__n_language_groups"]
    assert isinstance(groups, ema_workbench.IntegerParameter)
    assert (groups.lower_bound, groups.upper_bound) == (1, 50)  # the schema's range
    assert isinstance(params["nsc_law__enabled"], ema_workbench.BooleanParameter)
    assert isinstance(params["agencies__queue_discipline"], ema_workbench.CategoricalParameter)
    kinds = {o.name: o.kind for o in m.outcomes}
    assert kinds == {
        "completion_rate": ema_workbench.ScalarOutcome.MAXIMIZE,
        "median_response_days__mla_evidence": ema_workbench.ScalarOutcome.MINIMIZE,
        "leaks": ema_workbench.ScalarOutcome.MINIMIZE,
        "states": ema_workbench.ScalarOutcome.INFO,
    }
    assert all(name.isidentifier() for name in [*m.input_names, *kinds])
    assert (
        sim.ema.dotted("median_response_days__mla_evidence") == "median_response_days.mla_evidence"
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"uncertainties": ["agencies.court_capacityy"]}, "unknown parameter"),
        ({"uncertainties": {"world.initial_trust": (0.5, 2.0)}}, "leaves the allowed range"),
        ({"levers": {"nsc_law.enabled": (0, 1)}}, "a switch takes no range"),
        ({"outcomes": ["completion_rat"]}, "has no entry in the outcome registry"),
        ({"constants": {"world.n_states": "12"}}, "override world.n_states"),
        ({"uncertainties": ["world.n_states"], "levers": ["world.n_states"]}, "both"),
    ],
)
def test_bad_names_and_ranges_are_refused(ema_workbench, kwargs, message):
    with pytest.raises(ScenarioError, match=message):
        sim.ema.model(**kwargs)


def test_perform_experiments_and_prim_on_short_runs(ema_workbench):
    from ema_workbench import perform_experiments
    from ema_workbench.analysis import prim

    m = sim.ema.model(
        uncertainties={
            "agencies.central_authority_capacity": (0.05, 2.0),
            "review.sovereignty_refusal": (0.1, 0.6),
        },
        levers=["nsc_law.enabled"],
        outcomes=["completion_rate", "refusal_rate", "median_response_days.mla_evidence", "states"],
        constants={"world.n_states": 8, "run.years": 0.5, "run.warmup_years": 0.0},
    )
    experiments, outcomes = perform_experiments(
        m,
        scenarios=4,
        policies=2,
        uncertainty_sampling_kwargs={"rng": 42},
        lever_sampling_kwargs={"rng": 43},
    )
    assert len(experiments) == 8
    assert set(m.input_names) <= set(experiments.columns)
    # The constants reached the model: every run had 8 states and 0.3 years.
    assert np.all(outcomes["states"] == 8)
    completion, refusal = outcomes["completion_rate"], outcomes["refusal_rate"]
    assert completion.dtype == float and np.all((completion >= 0) & (completion <= 1))
    assert refusal.std() > 0  # the uncertainties reached the model
    # More sovereignty refusals, more refusals (same seed: common random numbers).
    sovereignty = experiments["review__sovereignty_refusal"].to_numpy()
    assert np.corrcoef(sovereignty, refusal)[0, 1] > 0
    assert set(experiments["nsc_law__enabled"]) == {True, False}
    # PRIM straight on the Workbench's tables: no cast needed.
    y = refusal > np.median(refusal)
    box = prim.Prim(experiments[m.input_names], y, mass_min=0.1).find_box()
    assert box.peeling_trajectory["mass"].iloc[0] == 1.0
    # The README reads the box this way (box.inspect() fails with pandas 3 on a switch).
    assert list(box.box_lims[-1].columns) == list(m.input_names)
