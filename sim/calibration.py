"""Calibration against public stylized facts, and the facts report.

The facts live in ``sim/data/stylized_facts.toml`` (id, figure, source, the
model quantity to compare, target and acceptable range). This module

- measures each quantity on model runs (:func:`measure`): small pure functions
  of the request ledger, over requests issued in a measurement window that
  leaves time for them to finish, so that the run's end does not censor them;
- reports, per fact and pattern, the model's mean over replications with a 95%
  t interval and whether it falls in range (:func:`facts_table`); patterns are of
  two kinds: *validation* patterns emerge from the mechanisms (P1, P5, P6) and
  could come out wrong, *input checks* are arithmetic of input parameters (P2-P4)
  and only check that the inputs agree with each other;
- names the parameters that the calibrated facts depend on
  (:data:`CALIBRATED_PARAMETERS`); they are calibrated with uncertainty by history
  matching in :mod:`sim.history_matching` (``coopsim calibrate``).
"""

from __future__ import annotations

import functools
import math
import os
import tomllib
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from sim.metrics import agency_utilisation
from sim.requests import Channel, Instrument, Kind, Outcome, RefusalGround
from sim.scenario import DAYS_PER_YEAR, Scenario, load_scenario
from sim.trust import exchanges_to_recover

FACTS_FILE = Path(__file__).resolve().parent / "data" / "stylized_facts.toml"
PATTERN_SOURCES_FILE = Path(__file__).resolve().parent / "data" / "pattern_sources.toml"


def load_facts(path: Path = FACTS_FILE) -> tuple[list[dict], list[dict]]:
    """Read the facts and patterns from the data file (read once per process)."""
    facts, patterns = _read_facts(path)
    return [dict(f) for f in facts], [dict(p) for p in patterns]


@functools.cache
def _read_facts(path: Path) -> tuple[list[dict], list[dict]]:
    with path.open("rb") as handle:
        data = tomllib.load(handle)
    return data.get("fact", []), data.get("pattern", [])


def load_pattern_sources(path: Path = PATTERN_SOURCES_FILE) -> list[dict]:
    """Read the public sources of the validation patterns (one dict per publication)."""
    with path.open("rb") as handle:
        return tomllib.load(handle).get("source", [])


# ------------------------------------------------------------------ measurements
# How each fact is measured is stated with the fact (stylized_facts.toml: cohort,
# interval, completed_only, follow_up_days); these functions do what it says.
FOLLOW_UP_DAYS = 365  # a cohort member issued at least this long before the end


def cohort(model, start_column: str, follow_up_days: int = FOLLOW_UP_DAYS) -> np.ndarray:
    """Requests whose ``start_column`` day lies in the measurement window and early enough.

    The cohort runs from the window's first day to ``follow_up_days`` before the end
    of the run, so that every member was followed at least that long: averages of
    completed requests are then not cut short by the run's end (the sources average
    requests handled in a year, most of which were issued well before it ended).

    Args:
        model: A finished CooperationModel.
        start_column: Ledger column the cohort is defined on (``t_issued``,
            ``t_received``).
        follow_up_days: Days each member was followed at least.
    """
    start = model.ledger.col(start_column)
    last = max(model.window_start + 1, model.day - follow_up_days)
    return (start >= model.window_start) & (start < last)


def _mean(values: np.ndarray) -> float:
    return float(values.mean()) if values.size else math.nan


def interval_days(model, mask: np.ndarray, start: str, end: str) -> np.ndarray:
    """Days from ``start`` to ``end`` (ledger columns) of the masked requests that reached it."""
    led = model.ledger
    reached = mask & (led.col(end) >= 0) & (led.col(start) >= 0)
    return (led.col(end) - led.col(start))[reached].astype(float)


def response_days(model, mask: np.ndarray) -> np.ndarray:
    """Issue-to-answer days of executed requests selected by ``mask``."""
    led = model.ledger
    return interval_days(
        model, mask & (led.col("outcome") == Outcome.EXECUTED), "t_issued", "t_closed"
    )


def _selections(model) -> dict[str, np.ndarray]:
    """Which requests each duration fact is about (its cohort and interval are in the file)."""
    led = model.ledger
    kind = led.col("kind")
    mr = led.col("instrument") == Instrument.MUTUAL_RECOGNITION
    consent = led.col("consent")
    executed = led.col("outcome") == Outcome.EXECUTED
    extradition = kind == Kind.EXTRADITION
    return {
        "mla_mean_response_days": (kind == Kind.MLA_EVIDENCE) & ~mr,
        "extradition_mean_days_no_mutual_recognition": extradition & ~mr,
        "mr_surrender_days_consent": extradition & mr & consent & executed,
        "mr_surrender_days_no_consent": extradition & mr & ~consent & executed,
    }


def duration_fact(model, fact: dict, selection: np.ndarray) -> float:
    """Mean duration of a fact's requests, measured as its entry in the facts file says.

    Args:
        model: A finished CooperationModel.
        fact: The fact's entry (``cohort``, ``interval``, ``completed_only``,
            ``follow_up_days``).
        selection: Which requests the fact is about.
    """
    start, end = fact["interval"].split("-")
    members = cohort(model, fact["cohort"], int(fact.get("follow_up_days", FOLLOW_UP_DAYS)))
    if fact.get("completed_only", True):
        members &= model.ledger.col("outcome") == Outcome.EXECUTED
    return _mean(interval_days(model, members & selection, start, end))


def measure(model) -> dict[str, float]:
    """Every quantity the facts and patterns name, from one finished run.

    Each is measured over the measurement window the way its source measured it
    (see the ``measured_as`` line of each fact in ``sim/data/stylized_facts.toml``).

    Args:
        model: A CooperationModel that has run (its window at least a year long).

    Returns:
        Dict quantity name -> value (NaN where the run has no such requests).
    """
    led = model.ledger
    kind = led.col("kind")
    mr = led.col("instrument") == Instrument.MUTUAL_RECOGNITION
    facts = {f["quantity"]: f for f in load_facts()[0]}
    out = {
        quantity: duration_fact(model, facts[quantity], selection)
        for quantity, selection in _selections(model).items()
    }
    # F5: European Investigation Orders (evidence under mutual recognition) decided
    # within the deadline of their receipt; one still undecided after it has missed it.
    deadline = model.config.mutual_recognition.decision_deadline_days
    f5 = facts["mr_decision_deadline_met_share"]
    eio = cohort(model, f5["cohort"], int(f5["follow_up_days"])) & mr & (kind == Kind.MLA_EVIDENCE)
    decided = led.col("t_decided")
    met = (decided >= 0) & (decided - led.col("t_received") <= deadline)
    out["mr_decision_deadline_met_share"] = float(np.mean(met[eio])) if eio.any() else math.nan
    out["red_notice_rejection_rate"] = model.interpol.outcomes(since=model.window_start)[
        "red_notice_rejection_rate"
    ]
    w = model.world
    n = w.n_states
    covered = w.treaty_matrix | (w.convention[:, None] & w.convention[None, :])
    out["treaty_coverage"] = float((covered.sum() - np.trace(covered)) / (n * (n - 1)))
    out["jit_growth"] = _yearly_growth(model)
    # F6 and F7: production orders and domestic investigations (sim.eevidence).
    f6 = facts["production_order_mean_days"]
    out["production_order_mean_days"] = model.eevidence.production_order_mean_days(
        int(f6["follow_up_days"])
    )
    out["cross_border_share"] = model.eevidence.outcomes(since=model.window_start)[
        "cross_border_share"
    ]
    out.update(_patterns(model, cohort(model, "t_issued")))
    return out


def _yearly_growth(model) -> float:
    """Mean year-on-year growth of the joint teams supported each year (full years only).

    Measured as Eurojust counts "supported" teams: every team active at some time
    in the year (formed before the year ends, not dissolved before it begins),
    over the window's years, from the year after the reform's first full year on.
    """
    cases = np.asarray(model.teams.team_cases, dtype=np.int64)
    formed = model.cases.t_created[cases]
    closed = model.cases.t_closed[cases]
    ends = np.where(closed >= 0, closed, model.day)
    # Whole years of the measurement window (the reform starts with the window).
    years = (model.day - model.window_start) // DAYS_PER_YEAR
    starts = model.window_start + np.arange(years) * DAYS_PER_YEAR
    counts = (
        (formed[None, :] < starts[:, None] + DAYS_PER_YEAR) & (ends[None, :] >= starts[:, None])
    ).sum(axis=1)
    if counts.size < 3 or (counts[1:-1] == 0).any():
        return math.nan
    return float(np.mean(counts[2:] / counts[1:-1] - 1.0))


def _patterns(model, window: np.ndarray) -> dict[str, float]:
    led = model.ledger
    kind = led.col("kind")
    mr = led.col("instrument") == Instrument.MUTUAL_RECOGNITION
    out: dict[str, float] = {}
    # P1: across requested states, utilisation of the central authority vs. the time
    # from receipt to decision (where its queue is), for requests it reviews.
    requested = led.col("requested_state")
    decided = window & (led.col("t_decided") >= 0) & ~mr
    review_days = (led.col("t_decided") - led.col("t_received")).astype(float)
    n = model.world.n_states
    utilisation = agency_utilisation(model.agency_table)[model.ca_of]
    mean_days = np.array([_mean(review_days[decided & (requested == s)]) for s in range(n)])
    ok = np.isfinite(mean_days) & np.isfinite(utilisation)
    out["load_response_correlation"] = (
        float(stats.spearmanr(utilisation[ok], mean_days[ok]).statistic)
        if ok.sum() > 3
        else math.nan
    )
    # P2: extradition without vs. with mutual recognition.
    ext = window & (kind == Kind.EXTRADITION)
    slow = _mean(response_days(model, ext & ~mr))
    fast = _mean(response_days(model, ext & mr))
    out["mr_speedup_ratio"] = slow / fast if fast and not math.isnan(fast) else math.nan
    # P3: one-way transit by channel.
    transit = (led.col("t_received") - led.col("t_issued")).astype(float)
    channel = led.col("channel")
    reached = window & (led.col("t_received") >= 0)
    diplomatic = _mean(transit[reached & (channel == Channel.DIPLOMATIC)])
    fast_channels = reached & np.isin(channel, (Channel.SECURE_PLATFORM, Channel.INTERPOL))
    quick = _mean(transit[fast_channels])
    out["channel_speed_ratio"] = (
        diplomatic / max(quick, 0.5) if not math.isnan(quick) else (math.nan)
    )
    # P5, P6: which refusal grounds lead, by instrument.
    out.update(refusal_ground_patterns(led, window))
    # P4: trust dynamics at the run's parameters.
    cfg = model.config
    out["exchanges_to_undo_one_leak"] = float(
        exchanges_to_recover(
            cfg.trust.gain_on_success, cfg.intelligence.leak_trust_loss, cfg.world.initial_trust
        )
    )
    return out


def ground_shares(grounds: np.ndarray) -> np.ndarray:
    """Share of each refusal ground among refused requests, indexed by ``RefusalGround``.

    Args:
        grounds: The ``refusal_ground`` codes of refused requests.

    Returns:
        Array of length ``len(RefusalGround)`` summing to 1 (all NaN when empty).
    """
    counts = np.bincount(np.asarray(grounds, dtype=np.int64), minlength=len(RefusalGround))
    total = counts.sum()
    if total == 0:
        return np.full(len(RefusalGround), math.nan)
    return counts / total


def lead_over_largest_other(shares: np.ndarray, ground: RefusalGround) -> float:
    """Share of ``ground`` minus the largest share of any other ground (> 0: it leads)."""
    others = np.delete(shares, [RefusalGround.NONE, ground])
    return float(shares[ground] - others.max())


def refusal_ground_patterns(led, window: np.ndarray) -> dict[str, float]:
    """P5 and P6 from the ledger: which refusal grounds lead, by instrument.

    Args:
        led: The request ledger.
        window: Mask of the requests to count (issued in the measurement window).

    Returns:
        ``eaw_nationality_refusal_lead``: among refused mutual-recognition
        extraditions, the nationality share minus the largest other ground's share;
        ``mla_form_dual_refusal_lead``: among refused evidence requests outside
        mutual recognition, the share of form defects and dual criminality minus the
        share of political offence and sovereignty. NaN when nothing was refused.
    """
    refused = window & (led.col("outcome") == Outcome.REFUSED)
    kind = led.col("kind")
    mr = led.col("instrument") == Instrument.MUTUAL_RECOGNITION
    ground = led.col("refusal_ground")
    eaw = ground_shares(ground[refused & mr & (kind == Kind.EXTRADITION)])
    mla = ground_shares(ground[refused & ~mr & (kind == Kind.MLA_EVIDENCE)])
    G = RefusalGround  # noqa: N806
    return {
        "eaw_nationality_refusal_lead": lead_over_largest_other(eaw, G.NATIONALITY_BAR),
        "mla_form_dual_refusal_lead": float(
            mla[G.FORM_DEFECT]
            + mla[G.DUAL_CRIMINALITY]
            - mla[G.POLITICAL_OFFENCE]
            - mla[G.SOVEREIGNTY]
        ),
    }


# Pattern id -> (quantity, low, high, unit). Which patterns validate the model and which
# only check inputs is the `kind` of each pattern in the facts file.
PATTERN_QUANTITIES = {
    "P1": ("load_response_correlation", 0.3, 1.0, "Spearman rho"),
    "P2": ("mr_speedup_ratio", 5.0, 40.0, "ratio"),
    "P3": ("channel_speed_ratio", 5.0, math.inf, "ratio"),
    "P4": ("exchanges_to_undo_one_leak", 10.0, math.inf, "exchanges"),
    "P5": ("eaw_nationality_refusal_lead", 0.01, 1.0, "share difference"),
    "P6": ("mla_form_dual_refusal_lead", 0.01, 1.0, "share difference"),
}
PATTERN_KINDS = ("validation", "input_check")
# Which scenario each quantity is measured in (baseline unless named here).
SCENARIO_OF = {
    "channel_speed_ratio": "secure_platform",
    "jit_growth": "joint_task_forces",
    "production_order_mean_days": "e_evidence",
    "cross_border_share": "e_evidence",
}


# ------------------------------------------------------------------ running
def _measure_run(args: tuple[Scenario, int]) -> dict[str, float]:
    from sim.model import CooperationModel

    scenario, seed = args
    return measure(CooperationModel(scenario, rng=seed).run())


def measure_replications(
    scenario: Scenario, seeds: list[int], workers: int = 1, progress: bool = False
) -> pd.DataFrame:
    """Measure every quantity on one scenario for each seed (rows = seeds)."""
    jobs = [(scenario, seed) for seed in seeds]
    if workers > 1:
        from sim.processes import die_with_parent

        # Workers end with this process however it ends (as a sweep's workers do).
        with ProcessPoolExecutor(
            max_workers=workers, initializer=die_with_parent, initargs=(os.getpid(),)
        ) as pool:
            rows = list(_progress(pool.map(_measure_run, jobs), len(jobs), progress, scenario.name))
    else:
        rows = list(_progress(map(_measure_run, jobs), len(jobs), progress, scenario.name))
    return pd.DataFrame(rows, index=pd.Index(seeds, name="seed"))


def _progress(iterable, total, show, label):
    if not show:
        return iterable
    from tqdm import tqdm

    return tqdm(iterable, total=total, desc=label, unit="run")


def mean_ci(values: np.ndarray, confidence: float = 0.95) -> tuple[float, float, float]:
    """Mean and t-based confidence interval of replicated values (NaNs dropped)."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return math.nan, math.nan, math.nan
    mean = float(values.mean())
    if values.size < 2:
        return mean, math.nan, math.nan
    half = float(
        stats.t.ppf(0.5 + confidence / 2, values.size - 1)
        * values.std(ddof=1)
        / math.sqrt(values.size)
    )
    return mean, mean - half, mean + half


def facts_table(
    reps: int = 5, workers: int = 1, base_seed: int = 1, progress: bool = False
) -> pd.DataFrame:
    """Run the scenarios the facts concern and compare the model with every fact and pattern.

    Returns:
        One row per fact or pattern: id, kind (``fact``, ``validation`` for a
        pattern that emerges from the mechanisms, ``input_check`` for one that is
        arithmetic of inputs), description, figure, quantity, unit, target, low,
        high, model mean and 95% CI, in_range, calibrated, comparable, scenario.
    """
    facts, patterns = load_facts()
    seeds = list(range(base_seed, base_seed + reps))
    needed = {"baseline"} | set(SCENARIO_OF.values())
    measured = {
        name: measure_replications(load_scenario(name), seeds, workers, progress)
        for name in sorted(needed)
    }
    rows = []
    for fact in facts:
        rows.append(
            _row(
                fact["id"],
                fact["description"],
                fact["figure"],
                fact["quantity"],
                fact["unit"],
                fact["target"],
                fact["low"],
                fact["high"],
                fact.get("calibrated", False),
                fact.get("comparable", True),
                measured,
                kind="fact",
            )
        )
    for pattern in patterns:
        quantity, low, high, unit = PATTERN_QUANTITIES[pattern["id"]]
        rows.append(
            _row(
                pattern["id"],
                pattern["description"],
                pattern["check"],
                quantity,
                unit,
                math.nan,
                low,
                high,
                False,
                True,
                measured,
                kind=pattern["kind"],
            )
        )
    return pd.DataFrame(rows)


def _row(
    fact_id,
    description,
    figure,
    quantity,
    unit,
    target,
    low,
    high,
    calibrated,
    comparable,
    measured,
    kind: str = "fact",
) -> dict[str, Any]:
    scenario = SCENARIO_OF.get(quantity, "baseline")
    table = measured[scenario]
    mean = lo = hi = math.nan
    if comparable and quantity in table:
        mean, lo, hi = mean_ci(table[quantity].to_numpy())
    in_range = bool(comparable and math.isfinite(mean) and low <= mean <= high)
    return {
        "id": fact_id,
        "kind": kind,
        "description": description,
        "figure": figure,
        "quantity": quantity,
        "unit": unit,
        "target": target,
        "low": low,
        "high": high,
        "model_mean": mean,
        "ci_low": lo,
        "ci_high": hi,
        "in_range": in_range if comparable else None,
        "calibrated": bool(calibrated),
        "comparable": bool(comparable),
        "scenario": scenario,
    }


KIND_HEADINGS = {
    "fact": "Stylized facts (public figures)",
    "validation": "Validation patterns (emerge from the mechanisms)",
    "input_check": "Input checks (arithmetic of input parameters, not validation)",
}


def format_facts(table: pd.DataFrame) -> str:
    """A readable text table of the facts report: facts, validation patterns, input checks."""
    lines = [f"{'id':<5}{'quantity':<46}{'public':>14}{'model (95% CI)':>28}  in range"]
    kinds = table["kind"] if "kind" in table else pd.Series("fact", index=table.index)
    for kind, heading in KIND_HEADINGS.items():
        part = table[kinds == kind]
        if len(part):
            lines.append(f"-- {heading}")
            lines.extend(_fact_lines(part))
    return "\n".join(lines)


def _fact_lines(table: pd.DataFrame) -> list[str]:
    lines = []
    for row in table.itertuples():
        if not row.comparable:
            model = "not comparable"
        elif math.isnan(row.model_mean):
            model = "no data"
        else:
            model = f"{row.model_mean:.3g} ({row.ci_low:.3g}-{row.ci_high:.3g})"
        public = f"{row.low:.3g}-{row.high:.3g}"
        status = "-" if row.in_range is None else ("yes" if row.in_range else "NO")
        tag = "" if row.calibrated else " (not tuned)"
        lines.append(f"{row.id:<5}{row.quantity:<46}{public:>14}{model:>28}  {status}{tag}")
    return lines


def plot_facts(table: pd.DataFrame, path: Path) -> None:
    """Where each model value falls relative to its public range (one row per fact).

    The x axis is the position in the acceptable range: 0 is its low end and 1 its
    high end (an open-ended range is drawn from its low end to twice that). Values
    far outside are drawn at the edge with an arrow; the text gives the real numbers.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = table[table["comparable"] & np.isfinite(table["model_mean"])].reset_index(drop=True)
    fig, ax = plt.subplots(figsize=(10, 0.5 * len(rows) + 1.6))
    edge = (-1.5, 2.5)
    ax.axvspan(0, 1, color="0.88", zorder=0)
    for k, row in rows.iterrows():
        high = row.high if math.isfinite(row.high) else 2 * row.low

        def pos(value, low=row.low, high=high):
            return (value - low) / (high - low)

        x = pos(row.model_mean)
        color = "tab:green" if row.in_range else "tab:red"
        shown = float(np.clip(x, *edge))
        marker = "o" if shown == x else (">" if x > edge[1] else "<")
        if math.isfinite(row.ci_low) and shown == x:
            ax.plot(np.clip([pos(row.ci_low), pos(row.ci_high)], *edge), [k, k], color=color, lw=2)
        ax.plot(shown, k, marker, color=color, ms=8)
        upper = f"{row.high:.3g}" if math.isfinite(row.high) else "inf"
        source = "expected" if str(row.id).startswith("P") else "public"
        ax.text(
            edge[1] + 0.1,
            k,
            f"model {row.model_mean:.3g}  ({source} {row.low:.3g}-{upper} {row.unit})",
            va="center",
            fontsize=8,
        )
    ax.set_yticks(
        range(len(rows)),
        [
            f"{r.id}  {r.quantity}" + (" (input check)" if r.kind == "input_check" else "")
            for r in rows.itertuples()
        ],
        fontsize=8,
    )
    ax.set_xlim(edge[0], edge[1])
    ax.set_xticks([-1, 0, 1, 2], ["below", "low end", "high end", "above"])
    ax.set_xlabel("position of the model value in the acceptable range (grey)")
    ax.set_title(
        "coopsim against public stylized facts: mean over replications, 95% CI", fontsize=10
    )
    ax.invert_yaxis()
    fig.tight_layout()
    fig.subplots_adjust(right=0.62)
    fig.savefig(path, dpi=120)
    plt.close(fig)


# ------------------------------------------------------------------ calibration
@dataclass(frozen=True)
class Target:
    """A calibrated fact: the quantity, its target and its acceptable range."""

    quantity: str
    target: float
    low: float
    high: float


# The parameters calibrated (history matching, sim/history_matching.py), each with the
# facts it mainly moves.
CALIBRATED_PARAMETERS = {
    "review.service_days": "F1, F2 (review time of every request)",
    "execution.evidence_days": "F1 (evidence gathering)",
    "judicial.extradition_days": "F2 (extradition hearing)",
    "mutual_recognition.review_days": "F3a, F3b, F5 (recognition)",
    "mutual_recognition.surrender_days": "F3a, F3b (surrender after the decision)",
    "interpol.rejection_base": "F8 (notice review)",
}


def calibration_targets() -> list[Target]:
    """The calibrated facts with their targets and acceptable ranges."""
    facts, _ = load_facts()
    return [
        Target(f["quantity"], float(f["target"]), float(f["low"]), float(f["high"]))
        for f in facts
        if f.get("calibrated") and f.get("comparable", True)
    ]


def loss(measured: dict[str, float], targets: list[Target]) -> float:
    """Sum over facts of the squared error in units of half the acceptable range.

    Every fact weighs the same relative to its own tolerance: missing the middle
    of a range by its half-width costs 1, whatever the unit.
    """
    total = 0.0
    for t in targets:
        value = measured.get(t.quantity, math.nan)
        if not math.isfinite(value):
            total += 25.0
            continue
        half_width = max((t.high - t.low) / 2.0, 1e-9)
        total += ((value - t.target) / half_width) ** 2
    return total
