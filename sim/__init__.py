"""coopsim: an agent-based simulation of international cooperation in security cases.

Quick use::

    import sim
    result = sim.run("baseline", seed=1, overrides={"world.n_states": 20})
    result.outcomes["completion_rate"]
    result.flat_outcomes["km_median_response_days__mla_evidence"]
    sim.parameters()  # every parameter: type, unit, default, range, meaning
"""

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING

from sim import scenario as _scenario
from sim.errors import CoopsimError
from sim.scenario import ScenarioError, load_scenario

try:
    __version__ = version("coopsim")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0"

# The model pulls in Mesa (seconds to import); load it on first use, so that
# `coopsim validate` and `coopsim describe` start at once.
_LAZY = {
    "CooperationModel": "sim.model",
    "RunResult": "sim.api",
    "run": "sim.api",
    "parameters": "sim.api",
    "load_results": "sim.store",
    "metrics": "sim.metrics",
    "outcomes": "sim.outcomes",
    "ema": "sim.ema",
}

if TYPE_CHECKING:
    from sim import ema, metrics, outcomes
    from sim.api import RunResult, parameters, run
    from sim.model import CooperationModel
    from sim.scenario import Scenario
    from sim.store import load_results


def __getattr__(name: str):
    """Import the model and store lazily (PEP 562)."""
    if name == "Scenario":  # read at every access: registering a lever rebuilds the class
        return _scenario.Scenario
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'sim' has no attribute {name!r}")
    value = import_module(module)
    return value if module == f"sim.{name}" else getattr(value, name)


__all__ = [
    "CoopsimError",
    "CooperationModel",
    "RunResult",
    "Scenario",
    "ScenarioError",
    "__version__",
    "load_results",
    "ema",
    "load_scenario",
    "metrics",
    "outcomes",
    "parameters",
    "run",
]
