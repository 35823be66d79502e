"""Priors, observations and implausibility: what history matching compares, and how.

A prior is a calibrated parameter's plausible range (``sim/data/calibration/priors.toml``);
an observation is a stylized fact's public figure with the variances that say how far
the model may be from it; the implausibility of a model output is its distance from the
figure in units of all those variances (:mod:`sim.history_matching` explains the method).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sim.calibration import CALIBRATED_PARAMETERS, load_facts
from sim.scenario import ScenarioError, parameter_table
from sim.scenario_files import read_toml_file

CALIBRATION_DIR = Path(__file__).resolve().parent / "data" / "calibration"
PRIORS_FILE = CALIBRATION_DIR / "priors.toml"
ACCEPTED_FILE = CALIBRATION_DIR / "accepted.csv"
SUMMARY_FILE = CALIBRATION_DIR / "history_matching.toml"


CUTOFF = 3.0  # Pukelsheim's three-sigma rule, on the largest implausibility over facts
# Observation error: the acceptable range of a fact is read as its public figure
# +- 3 standard deviations, separately below and above the figure when the range is
# not symmetric (sd below = (target - low) / 3, sd above = (high - target) / 3).
RANGE_SDS = 3.0
# Model discrepancy: a stylised synthetic world of 40 states, compared with EU-centred
# averages, is taken to miss each fact by a standard deviation of 5% of its figure
# even at its best parameters.
DISCREPANCY_FRACTION = 0.05
METHOD_REFERENCES = (
    "Craig, Goldstein, Seheult & Smith (1997); Vernon, Goldstein & Bower (2010); "
    "Andrianakis et al. (2015)"
)


# ======================================================================== priors
@dataclass(frozen=True)
class Prior:
    """A uniform prior of one calibrated parameter (on log scale when ``scale == "log"``)."""

    name: str
    low: float
    high: float
    scale: str = "linear"
    why: str = ""
    default: float | None = None

    @property
    def log(self) -> bool:
        """Whether the prior is uniform in the logarithm of the value."""
        return self.scale == "log"

    def to_unit(self, values: np.ndarray) -> np.ndarray:
        """Map values to [0, 1] (0 = low, 1 = high, on the prior's scale)."""
        values = np.asarray(values, dtype=float)
        if self.log:
            return (np.log(values) - math.log(self.low)) / (math.log(self.high / self.low))
        return (values - self.low) / (self.high - self.low)

    def from_unit(self, unit: np.ndarray) -> np.ndarray:
        """Map [0, 1] to values (the inverse of :meth:`to_unit`)."""
        unit = np.asarray(unit, dtype=float)
        if self.log:
            return np.exp(math.log(self.low) + unit * math.log(self.high / self.low))
        return self.low + unit * (self.high - self.low)


def load_priors(path: Path = PRIORS_FILE, check: bool = True) -> list[Prior]:
    """Read the priors (``[[parameter]]`` tables) and check them against the schema.

    Args:
        path: The priors file.
        check: Check that they cover exactly the calibrated parameters (for tests on
            synthetic problems, pass False).

    Raises:
        ScenarioError: Naming the file and the parameter, for a bad prior.
    """
    data = read_toml_file(Path(path), kind="priors")
    priors = [
        Prior(
            name=str(p["name"]),
            low=float(p["low"]),
            high=float(p["high"]),
            scale=str(p.get("scale", "linear")),
            why=str(p.get("why", "")),
            default=float(p["default"]) if "default" in p else None,
        )
        for p in data.get("parameter", [])
    ]
    if check:
        check_priors(priors, str(path))
    return priors


def check_priors(priors: list[Prior], source: str = "priors") -> None:
    """Refuse priors that miss a calibrated parameter or leave the schema's range."""
    schema = {f"{r['section']}.{r['key']}": r for r in parameter_table()}
    names = [p.name for p in priors]
    if sorted(names) != sorted(CALIBRATED_PARAMETERS):
        raise ScenarioError(
            f"{source}: expected one prior for each calibrated parameter "
            f"{sorted(CALIBRATED_PARAMETERS)}, found {names}"
        )
    for p in priors:
        row = schema[p.name]
        lo = -math.inf if row["min"] is None else row["min"]
        hi = math.inf if row["max"] is None else row["max"]
        if p.scale not in ("log", "linear"):
            raise ScenarioError(f"{source}: {p.name}: scale must be 'log' or 'linear'")
        if not lo <= p.low < p.high <= hi:
            raise ScenarioError(
                f"{source}: {p.name}: range [{p.low}, {p.high}] must be increasing and "
                f"inside the allowed range [{row['min']}, {row['max']}] ({row['unit']})"
            )
        if p.log and p.low <= 0:
            raise ScenarioError(f"{source}: {p.name}: a log-scale prior needs low > 0")


# ======================================================================== observations
@dataclass(frozen=True)
class Observation:
    """A calibrated fact as history matching reads it.

    The observation sd is (target - low) / 3 below the target and (high - target) / 3
    above it (:data:`RANGE_SDS`); the discrepancy sd is stated per fact.
    """

    fact_id: str
    quantity: str
    target: float
    low: float
    high: float
    discrepancy_sd: float

    @property
    def sd_below(self) -> float:
        """Observation sd for model values below the target."""
        return (self.target - self.low) / RANGE_SDS

    @property
    def sd_above(self) -> float:
        """Observation sd for model values above the target."""
        return (self.high - self.target) / RANGE_SDS

    def var_observation(self, mean: np.ndarray) -> np.ndarray:
        """The observation variance on the side of the target where ``mean`` lies."""
        mean = np.asarray(mean, dtype=float)
        return np.where(mean < self.target, self.sd_below**2, self.sd_above**2)


def observations(discrepancy_fraction: float = DISCREPANCY_FRACTION) -> list[Observation]:
    """The calibrated, comparable facts of ``stylized_facts.toml`` as observations."""
    facts, _ = load_facts()
    return [
        Observation(
            f["id"],
            f["quantity"],
            float(f["target"]),
            float(f["low"]),
            float(f["high"]),
            discrepancy_fraction * abs(float(f["target"])),
        )
        for f in facts
        if f.get("calibrated") and f.get("comparable", True)
    ]


def implausibility(
    mean: np.ndarray,
    target: float,
    var_observation: np.ndarray | float,
    var_discrepancy: float = 0.0,
    var_emulator: np.ndarray | float = 0.0,
    var_stochastic: float = 0.0,
) -> np.ndarray:
    """I = |mean - target| / sqrt(V_emulator + V_observation + V_discrepancy + V_stochastic).

    Args:
        mean: Expected model output (emulator mean, or the mean of simulated runs).
        target: The public figure.
        var_observation: Observation variance (may depend on the side of the target).
        var_discrepancy: Model discrepancy variance.
        var_emulator: The emulator's variance (or the Monte Carlo variance of a mean
            of runs, when ``mean`` comes from the simulator).
        var_stochastic: The model's run-to-run variance.
    """
    mean = np.asarray(mean, dtype=float)
    total = (
        np.asarray(var_emulator, dtype=float)
        + np.asarray(var_observation, dtype=float)
        + var_discrepancy
        + var_stochastic
    )
    return np.abs(mean - target) / np.sqrt(total)


def fact_implausibility(
    obs: Observation, mean: np.ndarray, var_emulator: np.ndarray | float, var_stochastic: float
) -> np.ndarray:
    """Implausibility of one fact, with its observation and discrepancy variances."""
    return implausibility(
        mean,
        obs.target,
        obs.var_observation(mean),
        obs.discrepancy_sd**2,
        var_emulator,
        var_stochastic,
    )
