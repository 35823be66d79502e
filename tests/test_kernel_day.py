"""The day after case generation in one call (sim.kernel_day): stopping and resuming.

``run_day`` stops before a step its outbox is too small for, and the model files what
it left and resumes it with a larger outbox; it also stops for Python's step (a
running INTERPOL operation's own searches). A run
whose outbox is always just as large as the last stop asked for (so calls stop before
every step with work) must equal a run whose outbox is large from the start (no call
ever stops for room), request for request.
"""

from __future__ import annotations

import numpy as np
import pytest

import sim
from sim import replaced_arrays, stages
from sim.kernel_day import (
    ARRESTS,
    DEADLINES,
    INTENSIFIED,
    PASSES,
    PYTHON_TURN,
    QUEUES,
    REBUILD_TRUST,
    RECORD,
    REVIEWS,
    reserved_room,
    run_day,
)
from sim.kernel_state import O_CLOSED
from sim.lifecycle import outbox
from sim.model import CooperationModel
from sim.requests import COLUMNS as LEDGER_COLUMNS

# An INTERPOL operation from early on (notices reviewed, searches, arrests, the
# operation's own finds) and deadlines within the run.
SCENARIO = {
    "world.n_states": 10,
    "run.years": 0.5,
    "run.warmup_years": 0.0,
    "cases.deadline_days_mean": 60.0,
    "coordinated_operation.start_year": 0.1,
}


def _run(tight: bool, monkeypatch) -> tuple[CooperationModel, list[int], list[int], list[int]]:
    """A run, the steps its calls stopped at for room, its Python turns and its rebuilds.

    A rebuild is a stop of the day's record for trust's running sums, stale after a
    write to trust from Python (a meeting's, here).

    With ``tight``, every call gets an outbox of exactly the room it asked for (one
    entry at a day's start), so it stops again before the next step with work;
    without, the outbox is large enough from the start for every call.
    """
    stops: list[int] = []
    turns: list[int] = []
    rebuilds: list[int] = []

    def recording(*args):
        step, room = run_day(*args)
        if room == PYTHON_TURN:
            turns.append(int(step))
        elif room == REBUILD_TRUST:
            rebuilds.append(int(step))
        elif room:
            stops.append(int(step))
        return step, room

    monkeypatch.setattr(stages, "run_day", recording)
    scenario = sim.load_scenario("case_interpol_operation", SCENARIO)
    model = CooperationModel(scenario, rng=5)
    model._outbox = outbox(100_000)
    if tight:
        kernel_state = model.kernel_state

        def exactly(size, **room):
            replaced_arrays.note(*model._outbox)  # the struct holds them: say they go
            model._outbox = outbox(size)
            return kernel_state(size, **room)

        model.kernel_state = exactly
    model.run()
    return model, stops, turns, rebuilds


def test_a_call_stopped_for_room_and_resumed_gives_the_same_run(monkeypatch):
    resumed, stops, turns, rebuilds = _run(True, monkeypatch)
    roomy, no_stops, same_turns, same_rebuilds = _run(False, monkeypatch)
    assert no_stops == []
    assert turns == same_turns and set(turns) == {INTENSIFIED}
    assert rebuilds == same_rebuilds and set(rebuilds) == {RECORD}
    assert {PASSES, DEADLINES} <= set(stops)
    for name in LEDGER_COLUMNS:
        np.testing.assert_array_equal(resumed.ledger.col(name), roomy.ledger.col(name), name)
    for name, values in resumed.series.items():
        np.testing.assert_array_equal(values, roomy.series[name], name)
    for name in ("t_closed", "t_deadline", "status"):
        np.testing.assert_array_equal(resumed.cases.col(name), roomy.cases.col(name), name)
    for name in ("status", "t_reviewed", "t_located"):
        np.testing.assert_array_equal(
            resumed.interpol.record.col(name), roomy.interpol.record.col(name), name
        )
    np.testing.assert_array_equal(resumed.agency_table.capacity, roomy.agency_table.capacity)
    assert resumed.teams.effort == roomy.teams.effort


@pytest.mark.parametrize("step", [QUEUES, REVIEWS, ARRESTS, DEADLINES])
def test_a_step_without_room_stops_before_it_and_asks_for_its_bound(step):
    """Each step checks its own bound against the outbox before it runs."""
    model = CooperationModel(sim.load_scenario("case_interpol_operation", SCENARIO), rng=5)
    waiting = {
        QUEUES: lambda: sum(model.backlog_by_role.values()),
        REVIEWS: lambda: model.interpol.reviews.due_on(model.day),
        ARRESTS: lambda: model.interpol.searches.due_on(model.day),
        DEADLINES: lambda: model._deadlines.due_on(model.day),
    }[step]
    while waiting() == 0:
        model.step()
        assert model.running, "no day with work for this step"
    model._outbox = outbox(1)
    state, out = model.kernel_state(1)
    out.filed[O_CLOSED] = 1  # the outbox is full: no step with work has room
    counters, filed = model.counters.copy(), out.filed.copy()
    assert run_day(state, model.streams, model.agency_table.size, model.day, step) == (
        step,
        waiting(),
    )
    np.testing.assert_array_equal(model.counters, counters)  # nothing ran
    np.testing.assert_array_equal(out.filed, filed)


def test_the_compiled_room_check_is_the_reserves_own():
    """reserved_room says there is room exactly when no reserve would grow an array: a
    call that skips the reserves on its word has the room they would have made."""
    model = CooperationModel(sim.load_scenario("case_interpol_operation", SCENARIO), rng=5)
    for _ in range(40):
        model.step()
    rng = np.random.default_rng(0)
    answers = []
    for _ in range(80):
        state, _ = model.kernel_state(1)  # outside a run: built over the arrays now
        k, links, shares = (
            int(2 ** rng.uniform(0, 14)) if rng.random() < 0.8 else 0 for _ in "kls"
        )
        room = bool(reserved_room(state, np.int64(k), np.int64(links), np.int64(shares)))
        before = replaced_arrays.count()
        model.reserve_room(k, links, shares)
        assert room == (replaced_arrays.count() == before), (k, links, shares)
        answers.append(room)
    assert any(answers) and not all(answers)
