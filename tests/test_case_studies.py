"""The seed's case studies as scenarios, each against the same world without the intervention.

- INTERPOL-coordinated operation: more persons sought arrested in the participating
  states during the operation.
- US-UK counter-terrorism agreement (real world): more intelligence shared between USA
  and GBR, and more joint teams between them.
- UNODC-coordinated operation against drug trafficking: more of the participants'
  drug-trafficking cases resolved and more of their drug intelligence shared, and not
  the intelligence of other case types (specificity).

Each claim compares a case-study scenario with the same scenario with its lever
switched off, over common seeds (the same world and cases), measuring the
intervention's outcomes in both runs on the same plan (participants, case types,
window) with :func:`sim.operations.plans_of` and :mod:`sim.case_outcomes`. The rules
are tested directly too.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import tiny_run, tiny_scenario

import sim
from sim import case_outcomes
from sim import operations as ops
from sim.kernel_teams import team_terms
from sim.requests import CaseStatus
from sim.scenario import CASE_TYPES, ScenarioError

# ---------------------------------------------------------------------- rules


def test_an_operation_runs_from_its_first_day_up_to_its_end():
    assert ops.in_window(10, 10, 20) and ops.in_window(19, 10, 20)
    assert not ops.in_window(9, 10, 20) and not ops.in_window(20, 10, 20)


def test_type_mask_follows_the_schema_s_case_types():
    mask = ops.type_mask(["drug_trafficking", "terrorism"])
    assert [t for t, m in zip(CASE_TYPES, mask, strict=True) if m] == [
        "terrorism",
        "drug_trafficking",
    ]


def test_a_sharing_commitment_closes_a_share_of_the_gap_to_certain_sharing():
    p = np.array([0.0, 0.4, 1.0])
    np.testing.assert_allclose(ops.raised_share_probability(p, 0.5), [0.5, 0.7, 1.0])
    np.testing.assert_allclose(ops.raised_share_probability(p, 0.0), p)
    assert (ops.raised_share_probability(p, 1.0) == 1.0).all()


def test_notice_reviews_are_shortened_by_the_speedup():
    np.testing.assert_allclose(ops.shortened_review([10.0, 20.0], 0.25), [7.5, 15.0])
    np.testing.assert_allclose(ops.shortened_review([10.0], 1.0), [0.0])


def test_searches_only_where_a_participant_targets_an_open_case():
    p = ops.search_hazard(
        [True, True, False, True], [True, False, True, True], [True, True, True, False], hazard=0.1
    )
    np.testing.assert_allclose(p, [0.1, 0.0, 0.0, 0.0])


def test_an_agreement_binds_every_pair_of_its_parties_and_nobody_to_itself():
    pairs = ops.pair_matrix(np.array([1, 3]), 4)
    assert pairs[1, 3] and pairs[3, 1]
    assert pairs.sum() == 2 and not pairs.diagonal().any()


def test_an_operation_plan_has_its_window_and_its_cases():
    params = tiny_scenario(
        coordinated_operation__duration_days=30.0,
        coordinated_operation__case_types=["drug_trafficking"],
    ).coordinated_operation
    plan = ops.OperationPlan.from_lever(params, np.array([0, 2]), 4, start_day=100)
    assert (plan.start_day, plan.end_day) == (100, 130)
    drugs = CASE_TYPES.index("drug_trafficking")
    terror = CASE_TYPES.index("terrorism")
    mine = plan.cases(np.array([0, 1, 2, 2]), np.array([drugs, drugs, terror, drugs]))
    assert mine.tolist() == [True, False, False, True]


# ---------------------------------------------------------------------- the levers in a run

OPERATION = {
    "coordinated_operation__enabled": True,
    "coordinated_operation__duration_days": 60.0,
}


def test_an_operation_runs_for_its_duration_and_then_stops():
    model = sim.CooperationModel(tiny_scenario(**OPERATION), rng=1)
    for _ in range(30):
        model.step()
    assert model.operations.running() is not None
    assert model.operations.running("unodc") is None  # INTERPOL coordinates this one
    while model.day < 60:
        model.step()
    assert model.operations.running() is None
    assert model.operations.intensified_searches().size == 0
    ids = np.arange(min(50, model.ledger.size))
    assert model.operations.first_in_queue(ids) is None


def test_operation_arrests_are_arrests_of_persons_sought_in_participants_in_its_window():
    result = tiny_run(
        seed=2, **OPERATION, coordinated_operation__applies_to="high_capacity", run__years=0.4
    )
    model = result.model
    op = model.operations.operation
    record = model.interpol.record
    located = record["t_located"]
    in_op = (located >= op.start_day) & (located < op.end_day)
    there = op.participant[record["located_in"].astype(np.int64)]
    counted = result.outcomes["operation_arrests"]
    assert 0 < counted <= int((in_op & there).sum())
    assert result.outcomes["operation_intel_shared"] > 0


def test_without_the_levers_their_outcomes_are_nan_and_with_them_counts():
    plain = tiny_run(seed=1, run__years=0.2).outcomes
    names = [k for k in plain if k.startswith(("operation_", "agreement_"))]
    assert len(names) == 8 and all(math.isnan(plain[k]) for k in names)
    signed = tiny_run(seed=1, run__years=0.2, counterterrorism_agreement__enabled=True).outcomes
    assert signed["agreement_requests"] > 0 and signed["agreement_intel_shared"] > 0


def test_the_agreement_is_a_treaty_between_its_parties_only():
    scenario = tiny_scenario(
        counterterrorism_agreement__enabled=True,
        counterterrorism_agreement__applies_to=["S001", "S004"],
        world__bilateral_treaty_density=0.0,
    )
    model = sim.CooperationModel(scenario, rng=1)
    treaties = model.world.treaty_matrix
    assert treaties[1, 4] and treaties[4, 1] and treaties.sum() == 2
    no_treaty = scenario.with_overrides({"counterterrorism_agreement.bilateral_treaty": False})
    assert not sim.CooperationModel(no_treaty, rng=1).world.treaty_matrix.any()


def test_covered_cases_between_the_parties_get_teams_on_easier_terms():
    scenario = tiny_scenario(
        counterterrorism_agreement__enabled=True,
        counterterrorism_agreement__applies_to=["S000", "S001"],
    )
    model = sim.CooperationModel(scenario, rng=1)
    terror = CASE_TYPES.index("terrorism")
    drugs = CASE_TYPES.index("drug_trafficking")
    cases = model.cases.append(
        origin=np.array([0, 0, 0, 2]),
        case_type=np.array([terror, terror, drugs, terror]),
        severity=np.full(4, 0.5),
        political_sensitivity=np.full(4, 0.5),
        t_created=0,
        t_deadline=100,
        needed=np.ones(4, dtype=np.int64),
    )
    # Partners: the other party; a third state; the other party (but drugs); a party.
    requested = np.array([1, 2, 1, 1])
    sizes, threshold, relief = team_terms(
        cases,
        np.ones(4, dtype=np.int64),
        requested,
        model.cases.origin,
        model.cases.case_type,
        3,
        np.full(4, 0.6),
        model.operations.team_terms(),
    )
    assert sizes.tolist() == [2, 3, 3, 3]
    np.testing.assert_allclose(threshold, [0.3, 0.6, 0.6, 0.6])
    np.testing.assert_allclose(relief, [0.1, 0.0, 0.0, 0.0])


def test_unknown_party_and_empty_case_types_are_errors_naming_the_key(write_toml):
    path = write_toml(
        "bad.toml",
        'extends = "baseline"\n[counterterrorism_agreement]\nenabled = true\n'
        'applies_to = ["S001", "ATLANTIS"]\n',
    )
    with pytest.raises(ScenarioError, match="counterterrorism_agreement.applies_to.*ATLANTIS"):
        sim.CooperationModel(sim.load_scenario(path), rng=1)
    with pytest.raises(ScenarioError, match="coordinated_operation.case_types"):
        tiny_scenario(coordinated_operation__case_types=[])


def test_a_case_study_run_is_reproducible_for_a_seed():
    scenario = sim.load_scenario(
        "case_interpol_operation",
        {"world.n_states": 10, "run.years": 0.4, "run.warmup_years": 0.0},
    )
    scenario = scenario.with_overrides({"coordinated_operation.start_year": 0.1})
    a, b = sim.run(scenario, seed=4), sim.run(scenario, seed=4)
    assert a.outcomes["operation_arrests"] > 0
    assert sim.metrics.flatten(a.outcomes) == pytest.approx(
        sim.metrics.flatten(b.outcomes), nan_ok=True
    )


# ---------------------------------------------------------------------- the claims


def paired(name: str, overrides: dict, off: str, seeds, measure) -> list[tuple[dict, dict]]:
    """``measure(model, plans)`` with the case-study lever on and off, per seed."""
    scenario = sim.load_scenario(name, overrides)
    without = scenario.with_overrides({off: False})
    pairs = []
    for seed in seeds:
        on = sim.run(scenario, seed=seed).model
        base = sim.run(without, seed=seed).model
        pairs.append(
            (measure(on, ops.plans_of(on, scenario)), measure(base, ops.plans_of(base, scenario)))
        )
    return pairs


@pytest.mark.slow
def test_interpol_operation_raises_arrests_of_persons_sought_in_participants():
    pairs = paired(
        "case_interpol_operation",
        {
            "world.n_states": 20,
            "run.years": 0.75,
            "run.warmup_years": 0.0,
            "coordinated_operation.start_year": 0.25,
        },
        "coordinated_operation.enabled",
        (1, 2, 3),
        lambda model, plans: case_outcomes.operation_outcomes(model, plans[0]),
    )
    diff = np.array([a["operation_arrests"] - b["operation_arrests"] for a, b in pairs])
    assert (diff > 0).all(), diff
    # Not a rounding error: at least a third more arrests than without the operation.
    base = np.array([b["operation_arrests"] for _, b in pairs])
    assert diff.sum() > base.sum() / 3, (diff, base)


@pytest.mark.slow
def test_us_uk_agreement_raises_intelligence_shared_and_joint_teams_between_them():
    pairs = paired(
        "case_us_uk_agreement",
        {"run.years": 0.5, "run.warmup_years": 0.0},
        "counterterrorism_agreement.enabled",
        (1, 2, 3),
        lambda model, plans: case_outcomes.agreement_outcomes(model, plans[1]),
    )
    intel = np.array([a["agreement_intel_shared"] - b["agreement_intel_shared"] for a, b in pairs])
    teams = np.array([a["agreement_joint_teams"] - b["agreement_joint_teams"] for a, b in pairs])
    assert (intel > 0).all(), intel
    assert (teams >= 0).all() and teams.sum() > 0, teams


def _drug_operation_measures(model, plans) -> dict:
    """The operation's outcomes plus, for specificity, the same of the other case types."""
    op = plans[0]
    out = case_outcomes.operation_outcomes(model, op)
    cases, shares = model.cases, model.intelligence.shares
    origin = cases.col("origin").astype(np.int64)
    created = cases.col("t_created")
    other = op.participant[origin] & ~op.targeted[cases.col("case_type")]
    during = (created >= op.start_day) & (created < op.end_day)
    out["other_resolved"] = int(
        (other & during & (cases.col("status") == CaseStatus.RESOLVED)).sum()
    )
    shared = (shares["t_shared"] >= op.start_day) & (shares["t_shared"] < op.end_day)
    shared &= op.participant[shares["recipient"].astype(np.int64)]
    out["other_intel_shared"] = int((shared & other[shares["case"]]).sum())
    return out


@pytest.mark.slow
def test_unodc_operation_raises_drug_cases_resolved_and_intel_among_participants_only():
    pairs = paired(
        "case_unodc_operation",
        {
            "world.n_states": 20,
            "run.years": 1.25,
            "run.warmup_years": 0.0,
            "coordinated_operation.start_year": 0.25,
        },
        "coordinated_operation.enabled",
        (1, 2, 3, 4, 5),
        _drug_operation_measures,
    )

    def diff(key):
        return np.array([a[key] - b[key] for a, b in pairs])

    resolved, intel = diff("operation_cases_resolved"), diff("operation_intel_shared")
    assert resolved.mean() > 0 and (resolved > 0).sum() >= 4, resolved
    assert (intel > 0).all(), intel
    assert (diff("operation_joint_teams") > 0).all()
    # Specificity: the other case types gain far less than drug trafficking does.
    other_resolved, other_intel = diff("other_resolved"), diff("other_intel_shared")
    assert abs(other_resolved.mean()) < resolved.mean(), (other_resolved, resolved)
    assert abs(other_intel.mean()) < intel.mean() / 4, (other_intel, intel)
