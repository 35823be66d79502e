"""History matching of the calibrated parameters against the stylized facts.

Instead of one "best" parameter vector, history matching (Craig et al. 1997;
Vernon, Goldstein & Bower 2010; Andrianakis et al. 2015) rules out the parts of
parameter space where the model cannot reproduce the facts, given every source of
uncertainty, and keeps the rest. For fact ``k`` with public figure ``z_k`` the
implausibility of a parameter vector ``x`` is

    I_k(x) = |E[f_k(x)] - z_k| / sqrt(V_emulator + V_observation + V_discrepancy + V_stochastic)

where ``E[f_k(x)]`` and ``V_emulator`` come from a Gaussian-process emulator of the
model's mean output (scikit-learn), ``V_observation`` is read from the fact's
acceptable range, ``V_discrepancy`` is the stated model discrepancy and
``V_stochastic`` is the model's run-to-run variance (the world is one realisation).
A vector is *non-implausible* when the largest ``I_k`` is at most 3 (Pukelsheim's
three-sigma rule holds for any unimodal distribution).

The procedure (:func:`history_match`):

1. wave 1: a seeded Latin hypercube over the priors (``sim/data/calibration/priors.toml``,
   uniform, on log scale for durations), each point run with ``reps`` seeds;
2. one emulator per calibrated fact; the non-implausible part of prior space is found
   by emulating a large seeded Latin-hypercube sample of candidates;
3. wave 2: the simulator is run at a random sample of the non-implausible
   candidates (so that the accepted set samples that space evenly); the emulators
   are refitted on every run, and the non-implausible space shrinks to the candidates
   that pass both waves;
4. the **accepted set**: wave-2 points whose *simulated* facts (mean over their seeds)
   pass the cut, with the Monte Carlo variance of that mean in place of the
   emulator's.

The rules for the variances are constants of this module and are written, with
everything else needed to redo the matching, to ``history_matching.toml``.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import tomllib
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.calibration import CALIBRATED_PARAMETERS, _measure_run, load_facts
from sim.scenario import ScenarioError, load_scenario, parameter_table

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
# Calibration runs: the baseline with its warm-up (2 years) and a 3-year window (the
# duration facts follow each request for a year, so the cohort is the window's first
# two years).
CALIBRATION_YEARS = 3.0
CANDIDATES = 100_000  # emulated candidates per wave
WAVE_POINTS = (35, 25)  # parameter points in waves 1 and 2 (x reps runs each)
REPS = 2
SEED = 20240611
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
    with Path(path).open("rb") as handle:
        data = tomllib.load(handle)
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


# ======================================================================== emulator
class Emulator:
    """A Gaussian-process emulator of one model output over the unit cube.

    A linear trend in the inputs (least squares) plus a zero-mean GP on its residuals,
    with kernel ``C * Matern(nu=2.5, one length scale per input) + White``. The known
    Monte Carlo noise of each training output (a mean of seeds), when given, is added
    to the diagonal (``alpha``); the white term then takes only what is left (lack of
    fit). Length scales are at least 0.2 of the unit cube, so that the GP does not
    chase noise between a few dozen points. Outputs are standardised before fitting.
    :meth:`predict` returns the mean and the variance of the *mean* model output (the
    white noise left out); the trend coefficients' uncertainty is not added (small
    next to the other terms at the sizes used).

    Args:
        seed: Seed of the optimiser's restarts.
        restarts: Restarts of the hyperparameter optimiser.
    """

    def __init__(self, seed: int = 0, restarts: int = 3):
        self.seed = seed
        self.restarts = restarts

    def fit(self, x: np.ndarray, y: np.ndarray, noise: np.ndarray | None = None) -> Emulator:
        """Fit on inputs ``x`` (n x d, in [0, 1]) and outputs ``y`` (n).

        Args:
            x: Inputs on the unit cube.
            y: Outputs (means over seeds).
            noise: Known variance of each output (run variance / seeds), or None.
        """
        from sklearn.gaussian_process import GaussianProcessRegressor
        from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel

        x = np.asarray(x, dtype=float)
        y = np.asarray(y, dtype=float)
        n, d = x.shape
        design = np.column_stack([np.ones(n), x])
        self.beta = np.linalg.lstsq(design, y, rcond=None)[0]
        residual = y - design @ self.beta
        self.scale = float(residual.std()) or 1.0
        kernel = ConstantKernel(1.0, (1e-2, 1e2)) * Matern(
            length_scale=np.full(d, 0.5), length_scale_bounds=(0.2, 50.0), nu=2.5
        ) + WhiteKernel(0.1, (1e-6, 1.5))
        alpha = 1e-10 if noise is None else np.asarray(noise, dtype=float) / self.scale**2
        self.alpha = np.broadcast_to(alpha, (n,)).astype(float)
        self.gp = GaussianProcessRegressor(
            kernel=kernel,
            alpha=self.alpha,
            n_restarts_optimizer=self.restarts,
            random_state=self.seed,
            normalize_y=False,
        )
        import warnings

        from sklearn.exceptions import ConvergenceWarning

        with warnings.catch_warnings():
            # A length scale at its bound (an input the output does not depend on) is
            # an answer, not a failure.
            warnings.simplefilter("ignore", ConvergenceWarning)
            self.gp.fit(x, residual / self.scale)
        self.x_train = x
        self.y_train = y
        return self

    @property
    def noise_var(self) -> float:
        """The noise variance of a training output (white term + mean known noise), in units."""
        return (float(self.gp.kernel_.k2.noise_level) + float(self.alpha.mean())) * self.scale**2

    def predict(self, x: np.ndarray, chunk: int = 20_000) -> tuple[np.ndarray, np.ndarray]:
        """Mean and variance of the mean model output at ``x`` (n x d, in [0, 1])."""
        x = np.atleast_2d(np.asarray(x, dtype=float))
        means, variances = [], []
        noise = float(self.gp.kernel_.k2.noise_level)
        for start in range(0, len(x), chunk):
            part = x[start : start + chunk]
            mean, sd = self.gp.predict(part, return_std=True)
            trend = np.column_stack([np.ones(len(part)), part]) @ self.beta
            means.append(trend + self.scale * mean)
            variances.append(self.scale**2 * np.maximum(sd**2 - noise, 0.0))
        return np.concatenate(means), np.concatenate(variances)

    def loo_errors(self) -> np.ndarray:
        """Leave-one-out standardised errors of the training outputs (hyperparameters fixed).

        Closed form for a GP (Rasmussen & Williams 2006, eq. 5.12): the residual of
        point ``i`` predicted from the others is ``[K^-1 y]_i / [K^-1]_ii`` with variance
        ``1 / [K^-1]_ii``. About 99% should lie within +-3 for a valid emulator.
        """
        k = self.gp.kernel_(self.x_train) + np.diag(self.alpha)
        design = np.column_stack([np.ones(len(self.x_train)), self.x_train])
        r = (self.y_train - design @ self.beta) / self.scale
        inv = np.linalg.inv(k)
        return (inv @ r) / np.sqrt(np.diag(inv))


# ======================================================================== designs
def latin_hypercube(n: int, d: int, seed: int) -> np.ndarray:
    """A seeded Latin hypercube of ``n`` points in [0, 1]^d (scipy.stats.qmc)."""
    from scipy.stats import qmc

    return qmc.LatinHypercube(d=d, rng=np.random.default_rng(seed)).random(n)


def random_subset(n_points: int, n: int, seed: int) -> np.ndarray:
    """Indices of ``n`` of ``n_points`` points drawn at random without replacement (seeded).

    The wave-2 points are a random sample of the non-implausible candidates, which are
    themselves a Latin hypercube over the priors: the accepted set is then a sample of
    the prior restricted to the non-implausible space, so that drawing from it
    (``compare --parameter-uncertainty``) weighs that space evenly. A space-filling
    (maximin) choice would crowd the edges of the space and overweight them.
    """
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(n_points, size=min(n, n_points), replace=False))


def run_seeds(seed: int, wave: int, n: int) -> list[int]:
    """``n`` independent 32-bit run seeds of a wave (a different stream per wave)."""
    state = np.random.SeedSequence([seed, wave]).generate_state(n, dtype=np.uint32)
    return [int(s) for s in state]


# ======================================================================== simulators
@dataclass(frozen=True)
class Job:
    """One simulator run: wave, point, seed and the parameter values."""

    wave: int
    point: int
    seed: int
    params: tuple[tuple[str, float], ...]


Simulator = Callable[[list[Job]], Iterable[tuple[Job, dict[str, float]]]]


class CoopsimSimulator:
    """Runs the baseline at each job's parameters and measures the facts.

    The measurement is :func:`sim.calibration.measure` (as in ``measure_replications``);
    one process pool serves a whole wave, so that 2 workers stay busy with 1-2 seeds
    a point. With a ``cache`` file every finished run is written at once, and a
    rerun of the same matching reuses them (the same jobs on the same scenario).

    Args:
        years: The measurement window (``run.years``); the warm-up stays the baseline's.
        workers: Processes.
        cache: CSV file keeping finished runs (resume), or None.
        scenario: The scenario run.
        overrides: More parameter values for every run (e.g. a small world in tests).
    """

    def __init__(
        self,
        years: float = CALIBRATION_YEARS,
        workers: int = 1,
        cache: Path | None = None,
        scenario: str = "baseline",
        overrides: dict[str, Any] | None = None,
    ):
        self.base = load_scenario(scenario, {**(overrides or {}), "run.years": years})
        self.workers = workers
        self.cache = Path(cache) if cache else None
        digest = json.dumps(self.base.model_dump(mode="json"), sort_keys=True)
        self.scenario_hash = hashlib.sha256(digest.encode()).hexdigest()[:16]
        self.rows: list[dict[str, Any]] = []
        if self.cache and self.cache.is_file():
            old = pd.read_csv(self.cache)
            if "scenario_hash" in old and len(old):
                self.rows = old[old["scenario_hash"] == self.scenario_hash].to_dict("records")

    def _cached(self, job: Job) -> dict[str, float] | None:
        for row in self.rows:
            if (
                row["wave"] == job.wave
                and row["point"] == job.point
                and row["seed"] == job.seed
                and all(math.isclose(row[k], v, rel_tol=1e-12) for k, v in job.params)
            ):
                return row["facts"] if "facts" in row else _facts_of(row)
        return None

    def _store(self, job: Job, facts: dict[str, float]) -> None:
        if self.cache is None:
            return
        from sim.store import atomic_write_text

        self.rows.append(
            {
                "scenario_hash": self.scenario_hash,
                "wave": job.wave,
                "point": job.point,
                "seed": job.seed,
                **dict(job.params),
                **{f"fact:{k}": v for k, v in facts.items()},
            }
        )
        self.cache.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(self.cache, pd.DataFrame(self.rows).to_csv(index=False))

    def __call__(self, jobs: list[Job]) -> Iterator[tuple[Job, dict[str, float]]]:
        """Yield ``(job, measured facts)`` as runs finish (cached ones first)."""
        pending = []
        for job in jobs:
            cached = self._cached(job)
            if cached is None:
                pending.append(job)
            else:
                yield job, cached
        if not pending:
            return
        args = [(self.base.with_overrides(dict(j.params)), j.seed) for j in pending]
        if self.workers <= 1:
            for job, arg in zip(pending, args, strict=True):
                facts = _measure_run(arg)
                self._store(job, facts)
                yield job, facts
            return
        from sim.processes import die_with_parent

        with ProcessPoolExecutor(
            max_workers=self.workers, initializer=die_with_parent, initargs=(os.getpid(),)
        ) as pool:
            futures = {pool.submit(_measure_run, a): j for j, a in zip(pending, args, strict=True)}
            for future in as_completed(futures):
                job = futures[future]
                facts = future.result()
                self._store(job, facts)
                yield job, facts


def _facts_of(row: dict[str, Any]) -> dict[str, float]:
    return {k.removeprefix("fact:"): float(v) for k, v in row.items() if k.startswith("fact:")}


# ======================================================================== the matching
@dataclass
class HistoryMatching:
    """What :func:`history_match` found, with everything needed to write it down."""

    priors: list[Prior]
    observations: list[Observation]
    runs: pd.DataFrame
    points: pd.DataFrame
    accepted: pd.DataFrame
    waves: list[dict[str, Any]]
    settings: dict[str, Any]
    facts: dict[str, dict[str, Any]] = field(default_factory=dict)
    default_implausibility: float | None = None
    # Per wave: the emulators (by quantity) and the stochastic variances they used.
    emulators: list[tuple[dict[str, Emulator], dict[str, float]]] = field(default_factory=list)

    @property
    def names(self) -> list[str]:
        """The parameter names, in prior order."""
        return [p.name for p in self.priors]

    def max_implausibility(self, values: np.ndarray) -> np.ndarray:
        """Largest emulated implausibility over facts and waves at parameter vectors.

        Args:
            values: Parameter vectors (n x parameters, in prior order, in their units).

        Returns:
            One value per vector; above the cutoff it is ruled out by some wave.
        """
        values = np.atleast_2d(np.asarray(values, dtype=float))
        x = np.column_stack([p.to_unit(values[:, j]) for j, p in enumerate(self.priors)])
        worst = np.zeros(len(x))
        for emulators, var in self.emulators:
            found = _max_implausibility(
                emulated_implausibility(emulators, self.observations, var, x)
            )
            worst = np.maximum(worst, found)
        return worst

    def accepted_ranges(self) -> pd.DataFrame:
        """Per parameter: the prior range and the accepted set's min, median and max."""
        rows = []
        for p in self.priors:
            values = self.accepted[p.name] if len(self.accepted) else pd.Series(dtype=float)
            rows.append(
                {
                    "parameter": p.name,
                    "prior_low": p.low,
                    "prior_high": p.high,
                    "scale": p.scale,
                    "accepted_min": float(values.min()) if len(values) else math.nan,
                    "accepted_median": float(values.median()) if len(values) else math.nan,
                    "accepted_max": float(values.max()) if len(values) else math.nan,
                    "share_of_prior_range": (
                        float(np.ptp(p.to_unit(values.to_numpy()))) if len(values) else math.nan
                    ),
                }
            )
        return pd.DataFrame(rows)


def _unit(priors: list[Prior], frame: pd.DataFrame) -> np.ndarray:
    return np.column_stack([p.to_unit(frame[p.name].to_numpy()) for p in priors])


def point_means(runs: pd.DataFrame, priors: list[Prior], quantities: list[str]) -> pd.DataFrame:
    """One row per (wave, point): the parameters, the number of runs and each fact's mean."""
    names = [p.name for p in priors]
    grouped = runs.groupby(["wave", "point"], sort=True)
    out = grouped[names].first()
    out["runs"] = grouped.size()
    for q in quantities:
        out[q] = grouped[q].mean()  # NaNs (no such requests in a run) are left out
        out[f"n:{q}"] = grouped[q].count()
    return out.reset_index()


def stochastic_variance(runs: pd.DataFrame, quantity: str) -> float:
    """Pooled within-point variance of a fact over the points with 2+ finite runs."""
    num, dof = 0.0, 0
    for _, values in runs.groupby(["wave", "point"])[quantity]:
        v = values.dropna().to_numpy(dtype=float)
        if v.size >= 2:
            num += float(v.var(ddof=1)) * (v.size - 1)
            dof += v.size - 1
    return num / dof if dof else math.nan


def _fit_emulators(
    points: pd.DataFrame,
    priors: list[Prior],
    obs: list[Observation],
    seed: int,
    reps: int,
    runs: pd.DataFrame,
) -> tuple[dict[str, Emulator], dict[str, float], dict[str, dict[str, float]]]:
    """One emulator per fact; the stochastic variance; diagnostics per fact."""
    emulators, var_stoch, info = {}, {}, {}
    x = _unit(priors, points)
    for k, o in enumerate(obs):
        ok = np.isfinite(points[o.quantity].to_numpy(dtype=float))
        if ok.sum() < len(priors) + 2:
            raise ScenarioError(
                f"history matching: only {int(ok.sum())} points measured {o.fact_id} "
                f"({o.quantity}); too few to emulate it"
            )
        pooled = stochastic_variance(runs, o.quantity)
        n = points[f"n:{o.quantity}"].to_numpy(dtype=float)[ok]
        noise = pooled / n if math.isfinite(pooled) else None
        y = points[o.quantity].to_numpy(dtype=float)[ok]
        em = Emulator(seed=seed + k).fit(x[ok], y, noise)
        emulators[o.quantity] = em
        # With one seed a point, the white noise of the point means is the run variance.
        var_stoch[o.quantity] = pooled if math.isfinite(pooled) else em.noise_var * reps
        loo = em.loo_errors()
        info[o.quantity] = {
            "var_stochastic": var_stoch[o.quantity],
            "emulator_noise_var": em.noise_var,
            "loo_within_3": float(np.mean(np.abs(loo) <= 3.0)),
            "loo_rmse_standardised": float(np.sqrt(np.mean(loo**2))),
            "kernel": str(em.gp.kernel_),
        }
    return emulators, var_stoch, info


def emulated_implausibility(
    emulators: dict[str, Emulator],
    obs: list[Observation],
    var_stoch: dict[str, float],
    x: np.ndarray,
) -> np.ndarray:
    """Implausibility of each fact at the points ``x`` (n x facts), by the emulators."""
    columns = []
    for o in obs:
        mean, var = emulators[o.quantity].predict(x)
        columns.append(fact_implausibility(o, mean, var, var_stoch[o.quantity]))
    return np.column_stack(columns)


def simulated_implausibility(
    points: pd.DataFrame, obs: list[Observation], var_stoch: dict[str, float]
) -> np.ndarray:
    """Implausibility of each fact at simulated points (n x facts), NaN where unmeasured.

    The point's mean over its runs takes the emulator's place, with its Monte Carlo
    variance ``V_stochastic / runs``.
    """
    columns = []
    for o in obs:
        mean = points[o.quantity].to_numpy(dtype=float)
        n = points[f"n:{o.quantity}"].to_numpy(dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            mc = var_stoch[o.quantity] / n
        columns.append(fact_implausibility(o, mean, mc, var_stoch[o.quantity]))
    return np.column_stack(columns)


def _max_implausibility(values: np.ndarray) -> np.ndarray:
    """The largest implausibility over facts; NaN (a fact not measured) counts as infinite."""
    return np.where(np.isnan(values), np.inf, values).max(axis=1)


def _run_wave(
    simulate: Simulator,
    wave: int,
    unit: np.ndarray,
    priors: list[Prior],
    reps: int,
    seed: int,
    progress: bool,
) -> pd.DataFrame:
    values = np.column_stack([p.from_unit(unit[:, j]) for j, p in enumerate(priors)])
    seeds = run_seeds(seed, wave, len(unit) * reps)
    jobs = [
        Job(
            wave,
            i,
            seeds[i * reps + r],
            tuple((p.name, float(np.round(values[i, j], 10))) for j, p in enumerate(priors)),
        )
        for i in range(len(unit))
        for r in range(reps)
    ]
    rows = []
    results = simulate(jobs)
    if progress:
        from tqdm import tqdm

        results = tqdm(results, total=len(jobs), desc=f"wave {wave}", unit="run")
    for job, facts in results:
        rows.append({"wave": job.wave, "point": job.point, "seed": job.seed, **dict(job.params)})
        rows[-1].update(facts)
    return pd.DataFrame(rows).sort_values(["point", "seed"]).reset_index(drop=True)


def history_match(
    simulate: Simulator,
    priors: list[Prior] | None = None,
    obs: list[Observation] | None = None,
    wave_points: tuple[int, int] = WAVE_POINTS,
    reps: int = REPS,
    seed: int = SEED,
    candidates: int = CANDIDATES,
    cutoff: float = CUTOFF,
    progress: bool = False,
    log: Callable[[str], None] | None = None,
) -> HistoryMatching:
    """Two waves of history matching (see the module docstring).

    Args:
        simulate: Runs jobs and yields ``(job, facts)``; facts hold each observation's
            quantity (:class:`CoopsimSimulator` for the model).
        priors: The priors (default: ``sim/data/calibration/priors.toml``).
        obs: The observations (default: the calibrated facts).
        wave_points: Parameter points in waves 1 and 2 (each run with ``reps`` seeds).
        reps: Seeds per point.
        seed: Seed of the designs, the run seeds and the emulators' optimiser.
        candidates: Emulated candidate points per wave.
        cutoff: Implausibility cutoff on the largest implausibility over facts.
        progress: Show a progress bar per wave.
        log: Called with a line of text at each step.

    Returns:
        The :class:`HistoryMatching` (its ``accepted`` frame may be empty: then no
        parameter vector tried reproduces every fact within the stated uncertainty).
    """
    priors = priors or load_priors()
    obs = obs or observations()
    say = log or (lambda _text: None)
    quantities = [o.quantity for o in obs]
    d = len(priors)
    waves: list[dict[str, Any]] = []
    pool = latin_hypercube(candidates, d, seed + 7)

    # Wave 1: the whole prior space.
    unit1 = latin_hypercube(wave_points[0], d, seed)
    runs1 = _run_wave(simulate, 1, unit1, priors, reps, seed, progress)
    points1 = point_means(runs1, priors, quantities)
    em1, var1, info1 = _fit_emulators(points1, priors, obs, seed, reps, runs1)
    imax1 = _max_implausibility(emulated_implausibility(em1, obs, var1, pool))
    keep1 = imax1 <= cutoff
    sim1 = _max_implausibility(simulated_implausibility(points1, obs, var1)) <= cutoff
    waves.append(
        _wave_record(1, points1, runs1, reps, seed, keep1, sim1, info1, candidates, "prior")
    )
    say(
        f"wave 1: {len(runs1)} runs; non-implausible: {keep1.mean():.2%} of prior space "
        f"(emulated, {candidates:,} candidates)"
    )
    runs, points = runs1, points1
    accepted = points1.iloc[0:0].copy()
    fitted = [(em1, var1)]
    if keep1.any():
        # Wave 2: a random sample of the non-implausible candidates.
        candidates1 = pool[keep1]
        unit2 = candidates1[random_subset(len(candidates1), wave_points[1], seed + 2)]
        runs2 = _run_wave(simulate, 2, unit2, priors, reps, seed, progress)
        points2 = point_means(runs2, priors, quantities)
        runs = pd.concat([runs1, runs2], ignore_index=True)
        points = pd.concat([points1, points2], ignore_index=True)
        # Emulators refitted on every run; the stochastic variance of wave 2 (its points
        # lie where it matters).
        em2, _, info2 = _fit_emulators(points, priors, obs, seed + 100, reps, runs)
        var2 = {}
        for q in quantities:
            local = stochastic_variance(runs2, q)
            var2[q] = local if math.isfinite(local) else info2[q]["var_stochastic"]
        for q in quantities:
            info2[q]["var_stochastic"] = var2[q]
        imax2 = _max_implausibility(emulated_implausibility(em2, obs, var2, pool))
        keep2 = keep1 & (imax2 <= cutoff)
        values2 = simulated_implausibility(points2, obs, var2)
        imax_sim = _max_implausibility(values2)
        passed = imax_sim <= cutoff
        waves.append(
            _wave_record(2, points2, runs2, reps, seed, keep2, passed, info2, candidates, "wave 1")
        )
        say(
            f"wave 2: {len(runs2)} runs; non-implausible: {keep2.mean():.2%} of prior space; "
            f"{int(passed.sum())} of {len(points2)} points pass with the simulator"
        )
        accepted = points2.assign(
            max_implausibility=imax_sim,
            **{f"I:{o.quantity}": values2[:, k] for k, o in enumerate(obs)},
        )[passed].reset_index(drop=True)
        fitted.append((em2, var2))
        facts_info = {q: {"wave1": info1[q], "wave2": info2[q]} for q in quantities}
    else:
        say("wave 1 leaves no non-implausible candidate: wave 2 not run, nothing accepted")
        facts_info = {q: {"wave1": info1[q]} for q in quantities}
    settings = {
        "reps": reps,
        "seed": seed,
        "candidates": candidates,
        "cutoff": cutoff,
        "wave_points": list(wave_points),
    }
    result = HistoryMatching(
        priors, obs, runs, points, accepted, waves, settings, facts_info, None, fitted
    )
    if all(p.default is not None and p.low <= p.default <= p.high for p in priors):
        defaults = np.array([[p.default for p in priors]])
        result.default_implausibility = float(result.max_implausibility(defaults)[0])
    return result


def _wave_record(
    wave, points, runs, reps, seed, keep, passed, info, candidates, space
) -> dict[str, Any]:
    return {
        "wave": wave,
        "design": "Latin hypercube over the priors"
        if wave == 1
        else "random sample of the wave-1 non-implausible candidates",
        "points": int(len(points)),
        "seeds_per_point": reps,
        "runs": int(len(runs)),
        "design_seed": seed if wave == 1 else seed + 2,
        "run_seed_stream": [seed, wave],
        "candidates": candidates,
        "candidates_from": space,
        "non_implausible_fraction": float(np.mean(keep)),
        "points_passing_with_simulator": int(np.sum(passed)),
        "emulators": info,
    }


# ======================================================================== writing, reading
def write_outputs(
    result: HistoryMatching, out: Path, extra: dict[str, Any] | None = None
) -> list[Path]:
    """Write ``priors.toml``, ``accepted.csv``, ``runs.csv`` and ``history_matching.toml``.

    Args:
        result: The matching.
        out: The folder (created).
        extra: More entries for ``history_matching.toml`` (run settings, date, commit).

    Returns:
        The paths written.
    """
    import tomli_w

    from sim.store import atomic_write_text

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    header = PRIORS_FILE.read_text().split("[[parameter]]")[0] if PRIORS_FILE.is_file() else ""
    priors = {
        "parameter": [
            {
                "name": p.name,
                **({"default": p.default} if p.default is not None else {}),
                "low": p.low,
                "high": p.high,
                "scale": p.scale,
                "why": p.why,
            }
            for p in result.priors
        ]
    }
    atomic_write_text(out / "priors.toml", header + tomli_w.dumps(priors))
    written.append(out / "priors.toml")
    quantities = [o.quantity for o in result.observations]
    columns = ["point", *result.names, "runs", *quantities, "max_implausibility"]
    columns += [f"I:{q}" for q in quantities]
    accepted = result.accepted.reindex(columns=columns)
    atomic_write_text(out / "accepted.csv", accepted.to_csv(index=False))
    written.append(out / "accepted.csv")
    runs = result.runs[["wave", "point", "seed", *result.names, *quantities]]
    atomic_write_text(out / "runs.csv", runs.to_csv(index=False))
    written.append(out / "runs.csv")
    summary = summary_dict(result, extra)
    atomic_write_text(out / "history_matching.toml", tomli_w.dumps(_toml_safe(summary)))
    written.append(out / "history_matching.toml")
    return written


def summary_dict(result: HistoryMatching, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """The record of a matching: method, variances, waves, runs, seeds, accepted ranges."""
    facts = []
    for o in result.observations:
        info = result.facts.get(o.quantity, {})
        facts.append(
            {
                "id": o.fact_id,
                "quantity": o.quantity,
                "target": o.target,
                "low": o.low,
                "high": o.high,
                "sd_observation_below": o.sd_below,
                "sd_observation_above": o.sd_above,
                "sd_discrepancy": o.discrepancy_sd,
                **{
                    f"var_stochastic_{w}": v["var_stochastic"]
                    for w, v in info.items()
                    if "var_stochastic" in v
                },
            }
        )
    ranges = result.accepted_ranges()
    return {
        "method": {
            "name": "history matching",
            "references": METHOD_REFERENCES,
            "implausibility": "I_k(x) = |E[f_k(x)] - z_k| / sqrt(V_emulator + V_observation "
            "+ V_discrepancy + V_stochastic); a point is non-implausible when max_k I_k <= cutoff",
            "cutoff": result.settings["cutoff"],
            "cutoff_reason": "Pukelsheim's three-sigma rule (unimodal distributions)",
            "observation_variance": "sd = (target - low) / 3 below the target, "
            "(high - target) / 3 above it (the acceptable range is target +- 3 sd)",
            "discrepancy_variance": f"sd = {DISCREPANCY_FRACTION:.0%} of the target: a "
            "stylised synthetic world compared with EU-centred averages",
            "stochastic_variance": "pooled within-point variance of single runs (seeds at the "
            "same point); wave 2 uses its own runs",
            "emulator": "scikit-learn GaussianProcessRegressor on a linear trend: "
            "C * Matern(nu=2.5, ARD) + WhiteKernel, inputs on the unit cube of the priors",
            "accepted": "wave-2 points whose simulated facts (mean over their seeds, Monte "
            "Carlo variance V_stochastic / runs in place of V_emulator) pass the cutoff",
        },
        **(extra or {}),
        "settings": result.settings,
        "accepted_count": int(len(result.accepted)),
        "wave2_points": int(sum(w["points"] for w in result.waves if w["wave"] == 2)),
        "shipped_defaults_max_implausibility": result.default_implausibility,
        "fact": facts,
        "wave": result.waves,
        "accepted_range": ranges.to_dict("records"),
    }


def _toml_safe(value: Any) -> Any:
    """TOML has no null: drop None values (recursively); numpy scalars become Python's."""
    if isinstance(value, dict):
        return {str(k): _toml_safe(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_toml_safe(v) for v in value if v is not None]
    if isinstance(value, np.generic):
        return value.item()
    return value


def load_accepted(path: str | Path | None = None) -> pd.DataFrame:
    """The accepted parameter vectors of a history matching (one row each).

    Args:
        path: An ``accepted.csv`` (default: the shipped one in sim/data/calibration/).

    Returns:
        One column per calibrated parameter (dotted names), one row per vector.

    Raises:
        ScenarioError: When the file is missing, names no calibrated parameter, or is
            empty (no vector was accepted).
    """
    path = Path(path) if path else ACCEPTED_FILE
    try:
        table = pd.read_csv(path)
    except (OSError, pd.errors.EmptyDataError) as exc:
        raise ScenarioError(f"{path}: cannot read the accepted set: {exc}") from None
    names = [n for n in CALIBRATED_PARAMETERS if n in table.columns]
    if not names:
        raise ScenarioError(
            f"{path}: no calibrated parameter column ({', '.join(CALIBRATED_PARAMETERS)}); "
            "expected the accepted.csv of `coopsim calibrate`"
        )
    table = table[names].dropna()
    if table.empty:
        raise ScenarioError(
            f"{path}: the accepted set is empty (no parameter vector passed history "
            "matching); parameter uncertainty cannot be drawn from it"
        )
    return table.reset_index(drop=True)


def format_summary(result: HistoryMatching) -> str:
    """A readable summary: runs and non-implausible fraction per wave, accepted ranges."""
    lines = [
        f"history matching: {len(result.priors)} parameters, {len(result.observations)} facts "
        f"({', '.join(o.fact_id for o in result.observations)}); cutoff "
        f"{result.settings['cutoff']:g} on the largest implausibility"
    ]
    for w in result.waves:
        lines.append(
            f"  wave {w['wave']}: {w['points']} points x {w['seeds_per_point']} seeds = "
            f"{w['runs']} runs; non-implausible: {100 * w['non_implausible_fraction']:.2f}% of "
            f"prior space; {w['points_passing_with_simulator']} of {w['points']} points pass "
            "with the simulator"
        )
    n2 = sum(w["points"] for w in result.waves if w["wave"] == 2)
    lines.append(
        f"  accepted: {len(result.accepted)} parameter vectors (wave-2 points passing with "
        f"the simulator, of {n2})"
    )
    if result.default_implausibility is not None:
        lines.append(
            "  the shipped defaults: largest emulated implausibility "
            f"{result.default_implausibility:.2f}"
        )
    lines.append("")
    lines.append(f"  {'parameter':<36}{'prior':>22}{'accepted (min-median-max)':>34}")
    for r in result.accepted_ranges().itertuples():
        prior = f"{r.prior_low:.4g}-{r.prior_high:.4g} ({r.scale})"
        if math.isfinite(r.accepted_min):
            acc = f"{r.accepted_min:.4g} - {r.accepted_median:.4g} - {r.accepted_max:.4g}"
        else:
            acc = "none"
        lines.append(f"  {r.parameter:<36}{prior:>22}{acc:>34}")
    if result.accepted.empty:
        lines.append(
            "\n  No parameter vector was accepted: no point tried reproduces every calibrated "
            "fact within the stated observation, discrepancy and stochastic variances."
        )
    return "\n".join(lines)
