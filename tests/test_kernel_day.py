"""The requests' part of the day in two calls (sim.kernel_day): stopping and resuming.

``move_requests`` stops before a step its outbox is too small for, and the model files
what it left and resumes it with a larger outbox. A run whose outbox starts at one
entry (so calls stop and resume, mid-day too) must equal a run whose outbox is large
from the start (no call ever stops), request for request.
"""

from __future__ import annotations

import numpy as np

import sim
from sim import stages
from sim.kernel_day import DEADLINES, PASSES, QUEUES, move_requests
from sim.kernel_state import outbox
from sim.model import CooperationModel
from sim.requests import COLUMNS as LEDGER_COLUMNS

# Central authorities far below demand: their backlog grows past what a day's passes
# need, so calls also stop before queue service. Deadlines within the run, so that
# evening calls stop before the cases' deadlines too.
SCENARIO = {
    "world.n_states": 10,
    "run.years": 0.5,
    "run.warmup_years": 0.0,
    "agencies.central_authority_capacity": 0.1,
    "cases.deadline_days_mean": 60.0,
}


def _run(shrink_every: int | None, monkeypatch) -> tuple[CooperationModel, list[int]]:
    """A run, and the steps its calls stopped at (and resumed from).

    With ``shrink_every``, the outbox goes back to one entry every so many days, so
    calls stop again; without, it is large enough from the start for every call.
    """
    stops: list[int] = []

    def recording(*args):
        step, room = move_requests(*args)
        if room:
            stops.append(int(step))
        return step, room

    monkeypatch.setattr(stages, "move_requests", recording)
    model = CooperationModel(sim.load_scenario("joint_task_forces", SCENARIO), rng=5)
    model._outbox = outbox(1 if shrink_every else 100_000)
    if shrink_every:
        # And before every evening call (the passes and the cases' deadlines).
        daily = model.interpol.daily

        def shrink_after(*args):
            daily(*args)
            model._outbox = outbox(1)

        model.interpol.daily = shrink_after
    while model.running:
        if shrink_every and model.day % shrink_every == 0:
            model._outbox = outbox(1)
        model.step()
    return model, stops


def test_a_call_stopped_for_room_and_resumed_gives_the_same_run(monkeypatch):
    resumed, stops = _run(7, monkeypatch)
    roomy, no_stops = _run(None, monkeypatch)
    assert no_stops == []
    # Calls stopped before the first passes and, mid-call, before queue service or the
    # cases' deadlines.
    assert {PASSES, QUEUES, DEADLINES} <= set(stops) and len(stops) >= 3
    for name in LEDGER_COLUMNS:
        np.testing.assert_array_equal(resumed.ledger.col(name), roomy.ledger.col(name), name)
    for name, values in resumed.series.items():
        np.testing.assert_array_equal(values, roomy.series[name], name)
    np.testing.assert_array_equal(resumed.cases.col("t_closed"), roomy.cases.col("t_closed"))
    np.testing.assert_array_equal(resumed.agency_table.capacity, roomy.agency_table.capacity)
    assert resumed.teams.effort == roomy.teams.effort
