"""A lever defined outside coopsim, registered when its module is imported.

tests/test_lever_registry.py sends a scenario that enables it to a spawned worker
process: unpickling the scenario imports this module there, which registers the
lever before the scenario is validated again.
"""

from sim.levers import register_lever
from sim.schema_base import LeverSection, P


class LiaisonSection(LeverSection):
    """Lever (tests only): liaison magistrates clear up procedures."""

    clarity: float = P(0.4, 0.0, 1.0, "share", "Share of clarification rounds avoided.")


def apply_liaison(model, targets, p):
    clarity = model.policy.procedure_clarity
    clarity[targets] = clarity[targets].clip(min=p.clarity)


LEVER = register_lever("liaison_lever", LiaisonSection, apply_liaison)
