"""Non-timed performance invariants: memory per request and cost shape."""

from __future__ import annotations

from sim.model import CooperationModel
from sim.scenario import load_scenario


def test_ledger_holds_at_most_200_bytes_per_request():
    config = load_scenario("baseline").with_overrides({"run.years": 0.5, "run.warmup_years": 0.0})
    model = CooperationModel(config, rng=1).run()
    assert len(model.ledger) > 0
    assert model.ledger.nbytes() / len(model.ledger) <= 200


def test_world_scale_scenario_is_in_the_baseline_load_regime():
    world = load_scenario("world_scale")
    base = load_scenario("baseline")
    assert world.world.n_states >= 190
    assert world.run.years >= 10
    scale = world.cases.arrivals_per_state_per_year / base.cases.arrivals_per_state_per_year
    assert scale == 7
    # Agencies are staffed for the requests they expect: same staffing ratios, and the
    # smallest capacity (an absolute rate) scaled with the arrivals.
    assert abs(world.agencies.capacity_floor - scale * base.agencies.capacity_floor) < 1e-9
    for role in (
        "central_authority_capacity",
        "law_enforcement_capacity",
        "court_capacity",
        "nsc_capacity",
    ):
        assert getattr(world.agencies, role) == getattr(base.agencies, role)
