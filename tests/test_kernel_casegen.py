"""Case generation after its draws, compiled (sim.kernel_casegen): room and order.

A day whose shares do not fit the room reserved before the call is recorded by a
second call (:func:`sim.kernel_casegen.record_shares`); the run must be the one a
roomy record gives, row for row.
"""

from __future__ import annotations

import numpy as np
import pytest

import sim.casegen
from sim.model import CooperationModel
from sim.scenario import load_scenario

SCENARIO = {"world.n_states": 12, "run.years": 0.5, "run.warmup_years": 0.0}


class TightShares(CooperationModel):
    """Reserves no room for shares, and grows the share record to exactly what it holds."""

    _share_room = property(lambda self: 0, lambda self, value: None)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        shares = self.intelligence.shares
        shares._grown_capacity = lambda needed: needed  # ColumnTable's, without doubling
        shares._resize(0)


def _run(model_class):
    scenario = load_scenario("bilateral_agreements").with_overrides(SCENARIO)
    return model_class(scenario, rng=4).run()


def test_shares_beyond_the_room_reserved_are_recorded_as_with_room(monkeypatch):
    calls = []
    second_call = sim.casegen.record_shares

    def counted(*args):
        calls.append(args[1])
        return second_call(*args)

    roomy = _run(CooperationModel)
    monkeypatch.setattr(sim.casegen, "record_shares", counted)
    tight = _run(TightShares)
    assert len(calls) >= 20  # most days with shares took the second call
    assert roomy.intelligence.items == tight.intelligence.items > 0
    a, b = roomy.intelligence.shares, tight.intelligence.shares
    for name in a._cols:
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)
    for name in roomy.ledger._cols:
        np.testing.assert_array_equal(roomy.ledger[name], tight.ledger[name], err_msg=name)
    np.testing.assert_array_equal(roomy.trust.snapshot(roomy.day), tight.trust.snapshot(tight.day))
    np.testing.assert_array_equal(roomy.agency_table.effort, tight.agency_table.effort)


def test_a_day_writes_only_in_room_reserved():
    """record_cases refuses to write past the case book's room (no silent overflow)."""
    from sim.kernel_casegen import record_cases
    from sim.kernel_cases import draw_cases

    model = CooperationModel(load_scenario("baseline").with_overrides(SCENARIO), rng=1)
    state, _ = model.kernel_state(1)
    model.cases.n_rows[0] = model.cases.capacity  # the case book is full
    rate = np.full(model.world.n_states, 5.0)
    drawn = draw_cases(
        model.streams,
        rate,
        model._type_cdf,
        model._type_sensitivity,
        model._gravity_cum,
        model.world.mr_bloc,
        model.world.rights_standard,
        model._case_parameters,
        model.day,
    )
    with pytest.raises(IndexError, match="case book has too little room"):
        record_cases(
            state,
            model.day,
            drawn,
            model._team_numbers,
            model.policy.team_threshold_shift,
            model.policy.team_trust_shift,
            model.operations.team_terms(),
        )


@pytest.mark.parametrize(
    "name", ["bilateral_agreements", "case_unodc_operation", "future_directions", "nsc_law_package"]
)
def test_the_day_s_call_takes_a_struct_built_over_the_model_s_arrays(name, monkeypatch):
    """The day's first call reuses case generation's struct: no array was replaced since.

    Every call of the day's kernel is checked: each field of the struct it gets is the
    array the model holds now (teams formed, reforms, e-evidence's formal route and
    growth included).
    """
    import sim.stages
    from sim.kernel_state import FIELDS

    day_call = sim.stages.run_day
    checked = []
    scenario = load_scenario(name).with_overrides(SCENARIO)
    model = CooperationModel(scenario, rng=3)

    def checking(state, *args):
        assert state is model._state
        current = model.current_kernel_arrays(model._outbox)
        stale = [
            f for f, a, b in zip(FIELDS, current, model._state_arrays, strict=True) if a is not b
        ]
        assert not stale, f"day {model.day}: the struct holds replaced arrays {stale}"
        checked.append(model.day)
        return day_call(state, *args)

    monkeypatch.setattr(sim.stages, "run_day", checking)
    model.run()
    assert len(checked) >= model.day  # every day's call, and its resumptions


class TightSlots(CooperationModel):
    """Starts with no team slot and grows them to exactly what a day's proposals need."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        teams = self.teams
        teams.slot_case = teams.slot_case[:0]
        teams.slot_cost = teams.slot_cost[:0]
        teams.slot_size = teams.slot_size[:0]
        teams.slot_members = teams.slot_members[:0]
        teams.slot_formed = teams.slot_formed[:0]
        teams.slot_ended = teams.slot_ended[:0]

        def exact(n: int) -> None:  # TeamFormation.reserve_slots, without doubling
            teams._add_slots(max(0, n - int((teams.slot_case == -1).sum())))

        teams.reserve_slots = exact


def test_teams_proposed_beyond_the_free_slots_form_as_with_room(monkeypatch):
    """A day with more proposals than free slots stops, gets slots, and forms the same teams."""

    from sim.kernel_casegen import FORM

    stops = []
    real = sim.casegen.generate_cases

    def counted(*args):
        if args[4] == FORM:  # resumed after the slots were short
            stops.append(args[3])
        return real(*args)

    scenario = load_scenario("case_unodc_operation").with_overrides(SCENARIO)
    roomy = CooperationModel(scenario, rng=5).run()
    monkeypatch.setattr(sim.casegen, "generate_cases", counted)
    tight = TightSlots(scenario, rng=5).run()
    assert len(stops) >= 10
    assert roomy.teams.formed == tight.teams.formed > 10
    assert roomy.teams.team_cases == tight.teams.team_cases
    assert [m.tolist() for m in roomy.teams.team_members] == [
        m.tolist() for m in tight.teams.team_members
    ]
    np.testing.assert_array_equal(roomy.agency_table.capacity, tight.agency_table.capacity)
    for name in roomy.ledger._cols:
        np.testing.assert_array_equal(roomy.ledger[name], tight.ledger[name], err_msg=name)


@pytest.mark.parametrize("trust", [0.3, 0.45, 0.6])
@pytest.mark.parametrize("spare", [0.0, 0.01, 0.5])
def test_the_compiled_agreement_is_the_rule(trust, spare):
    from sim.kernel_teams import members_agree as compiled
    from sim.teams import members_agree

    for needed, cost in [(0.45, 0.01), (0.3, 0.5), (0.6, 0.0)]:
        rule = bool(members_agree(trust, spare, agreement_trust=needed, cost_per_day=cost))
        assert compiled(trust, spare, needed, cost) == rule


class TightLinks(CooperationModel):
    """Reserves room for one link a day: every day with more stops after its draws."""

    _link_room = property(lambda self: 1, lambda self, value: None)


def test_a_day_with_more_links_than_the_room_reserved_runs_as_with_room(monkeypatch):
    """The call stops after the draws (outbox, calendars, rows too small) and resumes.

    world_scale's states at 50 once failed on the first day: the calendars had room for
    the day's links, the outbox's buffer did not.
    """
    from sim.kernel_casegen import RECORD

    resumed = []
    real = sim.casegen.generate_cases

    def counted(*args):
        if args[4] == RECORD:
            resumed.append(args[3])
        return real(*args)

    scenario = load_scenario("world_scale").with_overrides(
        {"world.n_states": 50, "run.years": 0.05, "run.warmup_years": 0.0}
    )
    roomy = CooperationModel(scenario, rng=2).run()
    monkeypatch.setattr(sim.casegen, "generate_cases", counted)
    tight = TightLinks(scenario, rng=2).run()
    assert 0 in resumed  # the first day, at least
    for name in roomy.ledger._cols:
        np.testing.assert_array_equal(roomy.ledger[name], tight.ledger[name], err_msg=name)
    for name in roomy.cases._cols:
        np.testing.assert_array_equal(roomy.cases[name], tight.cases[name], err_msg=name)
