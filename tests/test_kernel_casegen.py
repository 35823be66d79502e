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

        def exact(needed: int) -> None:  # ColumnTable._grow, without doubling
            size = shares.size
            for name, old in shares._cols.items():
                new = np.full(needed, shares._fills[name], dtype=old.dtype)
                new[:size] = old[:size]
                shares._cols[name] = new
            shares.__dict__.update(shares._cols)
            shares._capacity = needed

        shares._grow = exact
        exact(0)


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
