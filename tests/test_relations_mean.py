"""The series' mean of relations, kept through a run of days (sim.kernel_day.relations_mean)."""

from __future__ import annotations

import numpy as np
import pytest

from sim.model import CooperationModel
from sim.scenario import load_scenario


def numpy_mean(relations: np.ndarray) -> float:
    """The mean off the diagonal, added as the kernel adds it."""
    n = relations.shape[0]
    return (relations.sum() - np.trace(relations)) / (n * (n - 1))


def scenario(**overrides):
    base = {"run.years": 0.5, "run.warmup_years": 0.0}
    return load_scenario("baseline", {**base, **overrides})


def relations_at_each_days_start(monkeypatch) -> dict[int, float]:
    """Day -> numpy's mean of relations when the day starts (filled as the model runs)."""
    at_start = {}
    generate = CooperationModel._generate_cases

    def noting(self):
        at_start[self.day] = numpy_mean(self.world.relations)
        return generate(self)

    monkeypatch.setattr(CooperationModel, "_generate_cases", noting)
    return at_start


def test_each_day_records_the_relations_of_that_day_through_meetings_and_reforms(monkeypatch):
    # Meetings every 20 days change relations between runs of stepped days.
    model = CooperationModel(scenario(**{"diplomacy.interval_days": 20.0}), rng=3)
    at_start = relations_at_each_days_start(monkeypatch)
    model.run()
    recorded = model.series["mean_relations"][: model.day]
    expected = np.array([at_start[day] for day in range(model.day)])
    assert np.unique(expected).size >= 5  # the meetings moved them, several times
    np.testing.assert_array_equal(recorded, expected)


def test_a_write_between_steps_shows_the_next_day():
    model = CooperationModel(scenario(), rng=1)
    for _ in range(3):
        model.step()
    r = model.world.relations
    r[:] = 0.5 * (r + 1.0)  # a user's own change, between two calls
    model.step()
    assert model.series["mean_relations"][model.day - 1] == numpy_mean(r)
    assert model.series["mean_relations"][0] != numpy_mean(r)


def test_a_write_inside_stepped_days_is_caught_after_them(monkeypatch):
    # No meeting, no reform: the whole run is Mesa's steps, days stepped in a loop.
    model = CooperationModel(scenario(**{"diplomacy.pairs_per_round": 0}), rng=1)
    generate = CooperationModel._generate_cases

    def writing(self):
        if self.day == 5:  # inside the first run of days, after its first series
            self.world.relations[0, 1] = 1.0 - self.world.relations[0, 1] / 2
        return generate(self)

    monkeypatch.setattr(CooperationModel, "_generate_cases", writing)
    with pytest.raises(RuntimeError, match=r"must call model.relations_changed\(\)"):
        model.run()


def test_a_day_that_writes_relations_and_says_so_records_them():
    # An extension that moves relations every day, inside the days stepped in a loop.
    class Warming(CooperationModel):
        def step(self):
            self.world.relations *= 0.999
            self.relations_changed()
            super().step()

    model = Warming(scenario(**{"diplomacy.pairs_per_round": 0}), rng=1)
    expected = []
    for _ in range(40):
        expected.append(numpy_mean(model.world.relations * 0.999))
        model.step()
    np.testing.assert_array_equal(model.series["mean_relations"][:40], expected)
    model.run()  # the rest in runs of stepped days: no error, the last day as written
    assert model.series["mean_relations"][model.day - 1] == numpy_mean(model.world.relations)


def test_days_mesa_steps_itself_record_their_own_relations(monkeypatch):
    # An event due now makes Mesa step the whole block itself (sim.stepping), with a
    # round of meetings every day among those days: no run of trusted days between them.
    model = CooperationModel(
        scenario(**{"diplomacy.interval_days": 1.0, "diplomacy.pairs_per_round": 20}), rng=2
    )
    for _ in range(3):
        model.step()
    at_start = relations_at_each_days_start(monkeypatch)

    def nothing():
        pass

    model.schedule_event(nothing, at=model.time)  # Mesa holds it weakly: keep it alive
    model.run()
    days = sorted(at_start)
    recorded = model.series["mean_relations"][days]
    expected = np.array([at_start[day] for day in days])
    assert np.unique(expected).size > 20  # the meetings moved them day after day
    np.testing.assert_array_equal(recorded, expected)
