"""Non-timed performance invariants: memory per request and cost shape."""

from __future__ import annotations

from sim.model import CooperationModel
from sim.scenario import load_scenario


def test_ledger_holds_at_most_200_bytes_per_request():
    config = load_scenario("baseline").with_overrides({"run.years": 0.5})
    model = CooperationModel(config, rng=1).run()
    assert len(model.ledger) > 0
    assert model.ledger.nbytes() / len(model.ledger) <= 200


def test_world_scale_scenario_is_in_the_baseline_load_regime():
    world = load_scenario("world_scale")
    base = load_scenario("baseline")
    assert world.world.n_states >= 190
    assert world.run.years >= 10
    scale = world.cases.arrivals_per_state_per_year / base.cases.arrivals_per_state_per_year
    roles = (
        "central_authority_capacity",
        "law_enforcement_capacity",
        "court_capacity",
        "nsc_capacity",
        "capacity_floor",
    )
    for role in roles:
        ratio = getattr(world.agencies, role) / getattr(base.agencies, role)
        assert abs(ratio - scale) < 1e-9
