"""A thin Mesa-compatible wrapper so `mesa.batch_run` can drive CooperationModel.

`batch_run` needs a `mesa.Model` subclass whose constructor takes the swept
parameters and a seed, whose `step()` advances the model one step, and which
has a `datacollector`. Each step of this wrapper advances the wrapped
CooperationModel one simulated day; when the run ends, the final outcomes
(flattened exactly as the experiment layer stores them) are collected. With
``every_step=True`` the daily series row is collected every day as well, the
way a typical Mesa model collects model reporters each step.

`AgencyBacklogModel` is the per-agency variant: `CooperationModel` itself (a
subclass, so `batch_run` drives the very same model) with a `mesa.DataCollector`
that collects, every step, each queueing agency's backlog with agent-type
reporters (the Mesa way to collect agent-level data), plus the day and the final
outcomes as model reporters.
"""

from __future__ import annotations

import mesa

from sim.agents import CentralAuthority, Court, LawEnforcement, NationalSecurityCourt
from sim.metrics import flatten
from sim.model import CooperationModel
from sim.scenario import load_scenario


class BatchRunCoopModel(mesa.Model):
    def __init__(self, scenario="baseline", years=1.0, every_step=False, seed=None):
        super().__init__(rng=seed)
        config = load_scenario(scenario).with_overrides({"run.years": years})
        # The same construction as sim.model.run(scenario, seed): identical runs.
        self.inner = CooperationModel(config, rng=seed)
        self.every_step = every_step
        self.final: dict = {}
        self.datacollector = mesa.DataCollector(
            model_reporters={"outcomes": lambda m: m.final, "day": lambda m: m.inner.day}
        )

    def step(self):
        self.inner.step()
        self.running = self.inner.running
        if not self.running:
            self.final = flatten(self.inner.outcomes())
            self.datacollector.collect(self)
        elif self.every_step:
            self.final = {k: float(v[self.inner.day - 1]) for k, v in self.inner.series.items()}
            self.datacollector.collect(self)


# The queueing agency classes (NationalSecurityCourt subclasses Court but Mesa keys
# agents by their exact class, so each needs its own entry).
QUEUEING_AGENCIES = (CentralAuthority, LawEnforcement, Court, NationalSecurityCourt)


def _backlog(agency) -> int:
    """Live requests waiting in an agency's queue."""
    return agency.queue.waiting


class AgencyBacklogModel(CooperationModel):
    """CooperationModel collecting every queueing agency's backlog each step.

    Args:
        scenario: A shipped scenario name or file.
        years: Simulated years (``run.years``).
        rng: Seed, as for ``CooperationModel`` (``batch_run`` passes it).
    """

    def __init__(self, scenario="baseline", years=1.0, rng=None):
        # The same construction as sim.model.run(scenario, seed): identical runs.
        super().__init__(load_scenario(scenario).with_overrides({"run.years": years}), rng=rng)
        self.final: dict = {}
        self.datacollector = mesa.DataCollector(
            model_reporters={"day": "day", "outcomes": lambda m: m.final},
            agenttype_reporters={cls: {"backlog": _backlog} for cls in QUEUEING_AGENCIES},
        )

    def step(self):
        super().step()
        if not self.running:
            self.final = flatten(self.outcomes())
        self.datacollector.collect(self)
