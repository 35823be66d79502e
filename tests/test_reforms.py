"""Reform levers and the scenario library.

Every shipped scenario validates and runs; each lever moves its target outcome
in the designed direction against baseline with common random numbers; a lever
that starts in year 3 leaves years 1-2 identical to baseline.
"""

from __future__ import annotations

import numpy as np
import pytest

import sim
from sim.reforms import EFFECTS, resolve_targets
from sim.scenario import LEVERS, STRESS_TESTS, ScenarioError, shipped_scenarios

SEEDS = (1, 2, 3)
SMALL = {"world.n_states": 15, "run.years": 2.0, "run.warmup_years": 0.0}

# lever -> (outcome key, +1 if the lever should raise it, -1 if lower it)
TARGETS = {
    "nsc_law": ("mean_trust", +1),
    "legal_harmonization": ("clarification_rounds_per_request", -1),
    "treaty_expansion": ("median_response_days.mla_evidence", -1),
    "mutual_recognition": ("median_response_days.extradition", -1),
    "secure_platform": ("intel_delivery_days", -1),
    "rapid_channels": ("km_median_response_days.mla_evidence", -1),
    "joint_task_forces": ("jits_formed", +1),
    "capacity_building": ("capacity_by_capacity_group.low", +1),
    "diplomatic_engagement": ("mean_relations", +1),
    "confidentiality_standards": ("intel_shared", +1),
    "bilateral_agreements": ("agreements_concluded", +1),
    # The baseline has no domestic investigations, so no order at all; the paired
    # effects with them on in both arms are in tests/test_eevidence.py.
    "e_evidence": ("eevidence_requests_by_route.production_order", +1),
    "coordinated_operation": ("arrests_via_notices", +1),
    "counterterrorism_agreement": ("intel_shared", +1),
    "geopolitical_tension": ("refusal_rate_by_ground.sovereignty", +1),
    "demand_surge": ("cases_total", +1),
    "budget_cuts": ("completion_rate", -1),
}

# Stress tests that start after SMALL's horizon are moved earlier for the check.
EARLIER = {
    "geopolitical_tension": {"geopolitical_tension.start_year": 1.0},
    "budget_cuts": {"budget_cuts.start_year": 1.0},
}


def flat_outcomes(scenario, seed, overrides=None):
    values = dict(SMALL)
    values.update(overrides or {})
    result = sim.run(sim.load_scenario(scenario, values), seed=seed)
    return sim.metrics.flatten(result.outcomes)


@pytest.fixture(scope="module")
def baseline_outcomes():
    return {seed: flat_outcomes("baseline", seed) for seed in SEEDS}


def test_every_lever_has_an_effect_a_target_and_a_shipped_scenario():
    assert set(EFFECTS) == set(LEVERS) | set(STRESS_TESTS) == set(TARGETS)
    shipped = shipped_scenarios()
    for name in (
        *LEVERS,
        *STRESS_TESTS,
        "enhanced_protocols",
        "nsc_law_package",
        "future_directions",
        "real_world",
    ):
        assert name in shipped, name
    assert len(shipped) >= 18


@pytest.mark.parametrize("name", sorted(shipped_scenarios()))
def test_every_shipped_scenario_validates_runs_half_a_year_and_says_what_it_is(name):
    path = shipped_scenarios()[name]
    assert path.read_text().startswith("#"), f"{path} needs a header comment"
    scenario = sim.load_scenario(path, {"run.years": 0.5, "run.warmup_years": 0.0})
    assert scenario.description
    outcomes = sim.run(scenario, seed=1).outcomes
    assert outcomes["requests_total"] > 0
    assert 0 <= outcomes["completion_rate"] <= 1


@pytest.mark.parametrize("lever", sorted(TARGETS))
def test_each_lever_moves_its_target_outcome_the_designed_way(lever, baseline_outcomes):
    key, sign = TARGETS[lever]
    differences = []
    for seed in SEEDS:
        reformed = flat_outcomes(lever, seed, EARLIER.get(lever))
        differences.append(reformed[key] - baseline_outcomes[seed][key])
    assert sign * np.mean(differences) > 0, (lever, key, differences)
    # Not just on average: in most replications.
    assert sum(sign * d > 0 for d in differences) >= 2, (lever, key, differences)


# Year 3 begins after two simulated years; the run ends a little after it.
LATE_WORLD = {"world.n_states": 10, "run.years": 2.05, "run.warmup_years": 0.0}


@pytest.fixture(scope="module")
def late_baseline():
    """The baseline every late-lever run is compared with (the same for all levers)."""
    return sim.run(sim.load_scenario("baseline", LATE_WORLD), seed=5)


@pytest.mark.parametrize("lever", sorted(TARGETS))
def test_a_lever_starting_in_year_3_leaves_years_1_and_2_as_baseline(lever, late_baseline):
    base = late_baseline
    late = sim.run(
        sim.load_scenario(
            "baseline", {**LATE_WORLD, f"{lever}.enabled": True, f"{lever}.start_year": 2.0}
        ),
        seed=5,
    )
    before = 2 * 365  # years 1 and 2
    # A lever may add series of its own (agreements in force): compare the baseline's.
    assert base.series.iloc[:before].equals(late.series[base.series.columns].iloc[:before])
    assert late.model.reforms[0].applied_day == before


def test_applies_to_groups_and_state_lists():
    scenario = sim.load_scenario("baseline", {"world.n_states": 30})
    model = sim.CooperationModel(scenario, rng=1)
    world = model.world
    assert resolve_targets("all", world, "k", "f").size == 30
    low = resolve_targets("low_capacity", world, "k", "f")
    assert 0 < low.size < 30 and (world.capacity_group[low] == 0).all()
    bloc = resolve_targets("mr_bloc", world, "k", "f")
    assert world.mr_bloc[bloc].all()
    assert resolve_targets(["S003", "S001"], world, "k", "f").tolist() == [1, 3]


def test_unknown_state_code_in_applies_to_names_file_and_key(write_toml):
    path = write_toml(
        "bad.toml",
        'extends = "baseline"\n[nsc_law]\nenabled = true\napplies_to = ["S001", "ATLANTIS"]\n',
    )
    with pytest.raises(ScenarioError) as err:
        sim.CooperationModel(sim.load_scenario(path), rng=1)
    message = str(err.value)
    assert "bad.toml" in message and "nsc_law.applies_to" in message and "ATLANTIS" in message


def test_unknown_group_in_applies_to_is_a_schema_error(write_toml):
    path = write_toml(
        "bad.toml", 'extends = "baseline"\n[secure_platform]\napplies_to = "everyone"\n'
    )
    with pytest.raises(ScenarioError, match=r"secure_platform\.applies_to.*everyone"):
        sim.load_scenario(path)


def test_mutual_recognition_cuts_extradition_time_by_far_more_than_half(baseline_outcomes):
    # P2 in miniature: mutual recognition for everyone, from the start.
    ratios = []
    for seed in SEEDS:
        mr = flat_outcomes("baseline", seed, {"mutual_recognition.enabled": True})
        ratios.append(
            mr["median_response_days.extradition"]
            / baseline_outcomes[seed]["median_response_days.extradition"]
        )
    assert np.mean(ratios) < 0.5


def test_real_world_scenario_reads_real_states():
    model = sim.CooperationModel(
        sim.load_scenario("real_world", {"run.years": 0.1, "run.warmup_years": 0.0}), rng=1
    )
    codes = model.world.codes
    assert len(codes) >= 40
    assert {"DEU", "FRA", "USA", "GBR"} <= set(codes)
    eu = {codes[i] for i in np.flatnonzero(model.world.mr_bloc)}
    assert "DEU" in eu and "USA" not in eu and "GBR" not in eu
    five_eyes = {codes[i] for i in np.flatnonzero(model.world.alliance)}
    assert five_eyes == {"USA", "GBR", "CAN", "AUS", "NZL"}


def test_a_reform_that_applies_to_no_state_says_so():
    # Three states and no alliance among them: the law would be in force nowhere, and a
    # comparison would read "no effect" without a word.
    overrides = {
        "world.n_states": 3,
        "world.alliance_share": 0.0,
        "nsc_law.enabled": True,
        "nsc_law.applies_to": "alliance",
        "run.years": 0.05,
        "run.warmup_years": 0.0,
    }
    with pytest.warns(UserWarning, match="nsc_law.applies_to = 'alliance' names no state"):
        sim.run("baseline", overrides=overrides)
