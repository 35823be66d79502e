"""coopsim: an agent-based simulation of international cooperation in security cases.

Quick use::

    import sim
    result = sim.run("baseline", seed=1)
    result.outcomes["completion_rate"]
"""

from importlib.metadata import PackageNotFoundError, version

from sim.model import CooperationModel, RunResult, run
from sim.scenario import Scenario, ScenarioError, load_scenario
from sim.store import load_results

try:
    __version__ = version("coopsim")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0"

__all__ = [
    "CooperationModel",
    "RunResult",
    "Scenario",
    "ScenarioError",
    "__version__",
    "load_results",
    "load_scenario",
    "run",
]
