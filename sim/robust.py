"""Robustness of reform packages across worlds: effects, regret, satisficing.

Pure functions on the ``outcomes`` table of an experiment run by ``coopsim robust``
(:mod:`sim.robust_experiment`): one row per run with the columns ``world`` (a stress
scenario, perhaps with a calibrated parameter draw), ``package`` (the reform package
switched on in that world, or the no-reform reference), ``point``, ``replication`` and
the outcomes. Every package in a world shares its seeds with the world's no-reform
runs (common random numbers), so everything here is computed on paired runs.

The measures use the vocabulary of robust decision making and the EMA Workbench
(McPhail et al. 2018, "Robustness metrics", Earth's Future 6:169-191):

* **effect**: the package minus no reform in the same world, paired by seed, with a
  t confidence interval (:func:`sim.analysis.compare_policies`).
* **regret** (Savage 1951): in each world, the shortfall of a package's mean from the
  best option's mean (the no-reform reference is an option too), in the outcome's
  better direction (:func:`sim.outcomes.better`); 0 for the best option.
* **maximum regret** across worlds, and the **minimax-regret** ranking (Savage): the
  package whose worst regret is smallest ranks first.
* **satisficing, domain criterion** (Starr 1963): the share of worlds in which the
  package's mean meets every threshold the user sets (``completion_rate>=0.6``).
"""

from __future__ import annotations

import math
import operator
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim import outcomes as registry
from sim.analysis import AnalysisError, compare_policies, paired_difference
from sim.errors import CoopsimError

# The names of the measures as printed and written to the CSV files.
MEASURES = {
    "effect": "effect: package minus no reform in the same world, paired by seed (t CI)",
    "regret": "regret (Savage): shortfall of the package's mean from the best option's "
    "mean in that world, in the outcome's better direction",
    "max_regret": "maximum regret (Savage): the largest regret across worlds; ranked by "
    "minimax regret (smallest maximum regret first)",
    "satisficing": "satisficing: domain criterion (Starr): share of worlds in which the "
    "package's mean meets every threshold",
}
OPERATORS = {">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt}
_THRESHOLD = re.compile(
    r"^\s*(?P<outcome>[A-Za-z_][A-Za-z0-9_.]*)\s*(?P<op>>=|<=|>|<)\s*(?P<value>\S+)\s*$"
)
THRESHOLD_FORM = "OUTCOME>=NUMBER (or <=, >, <), e.g. completion_rate>=0.6"


class ThresholdError(CoopsimError, ValueError):
    """A threshold that is not of the form ``OUTCOME>=NUMBER``."""


@dataclass(frozen=True)
class Threshold:
    """A satisficing criterion: an outcome's mean compared with a number."""

    outcome: str
    op: str
    value: float

    def met(self, mean: float) -> bool:
        """Whether a mean meets the threshold (an undefined mean does not)."""
        return bool(math.isfinite(mean) and OPERATORS[self.op](mean, self.value))

    def __str__(self) -> str:
        return f"{self.outcome}{self.op}{self.value:g}"


def parse_threshold(text: str, where: str = "--threshold") -> Threshold:
    """Read ``"completion_rate>=0.6"`` (parsed, never evaluated).

    Args:
        text: The threshold as the user wrote it.
        where: The option or file key, for messages.

    Returns:
        The threshold.

    Raises:
        ThresholdError: Naming ``where`` and the allowed form.
    """
    match = _THRESHOLD.match(text) if isinstance(text, str) else None
    if match is None:
        raise ThresholdError(f"{where}: {text!r} is not a threshold; expected {THRESHOLD_FORM}")
    try:
        value = float(match["value"])
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise ThresholdError(
            f"{where}: {text!r}: {match['value']!r} is not a finite number; expected "
            f"{THRESHOLD_FORM}"
        )
    return Threshold(match["outcome"], match["op"], value)


def direction(name: str) -> int:
    """+1 when higher is better, -1 when lower is, 0 when neither (no regret then)."""
    return {"higher": 1, "lower": -1}.get(registry.better(name), 0)


# ======================================================================== per world
def _paired_values(outcomes: pd.DataFrame, world: str, name: str) -> pd.DataFrame:
    """One column per package, one row per (point, replication) every package ran."""
    rows = outcomes[outcomes["world"] == world]
    wide = rows.pivot_table(
        index=["point", "replication"], columns="package", values=name, aggfunc="first"
    )
    order = list(dict.fromkeys(rows.sort_values("policy_index")["package"]))
    return wide.reindex(columns=order).dropna()


def effects(
    outcomes: pd.DataFrame, names: list[str], reference: str, confidence: float = 0.95
) -> pd.DataFrame:
    """Each package minus no reform, in each world, paired by seed.

    Args:
        outcomes: The results' outcomes (columns ``world``, ``package``...).
        names: Outcomes to compare.
        reference: The no-reform package.
        confidence: Confidence level of the t intervals.

    Returns:
        One row per (world, package, outcome): ``n``, ``mean_reference``,
        ``mean_policy``, ``difference``, ``ci_low``, ``ci_high`` ... (the columns of
        :func:`sim.analysis.paired_difference`) and ``significant``.
    """
    frames = []
    for world in dict.fromkeys(outcomes["world"]):
        rows = outcomes[outcomes["world"] == world].assign(policy=lambda df: df["package"])
        table = compare_policies(rows, reference, names, confidence)
        frames.append(table.rename(columns={"policy": "package"}).assign(world=world))
    table = pd.concat(frames, ignore_index=True)
    table["significant"] = (table["ci_low"] > 0) | (table["ci_high"] < 0)
    first = ["world", "package", "outcome"]
    return table[first + [c for c in table.columns if c not in first]]


def regret(outcomes: pd.DataFrame, names: list[str], confidence: float = 0.95) -> pd.DataFrame:
    """Regret (Savage) of every option in every world, on paired runs.

    In a world the best option is the one with the best mean in the outcome's better
    direction; an option's regret is its shortfall from that mean (>= 0; 0 for the
    best), with a paired t interval of the shortfall (the best option is chosen from
    the same runs, so the interval is a guide, not a test).

    Args:
        outcomes: The results' outcomes.
        names: Outcomes with a better direction.
        confidence: Confidence level of the interval.

    Returns:
        One row per (world, package, outcome): ``mean``, ``best``, ``best_package``,
        ``regret``, ``regret_ci_low``, ``regret_ci_high``, ``n``.

    Raises:
        AnalysisError: For an outcome with no better direction.
    """
    rows = []
    for name in names:
        sign = direction(name)
        if sign == 0:
            raise AnalysisError(
                f"outcomes: {name!r} has no better direction (better = "
                f"{registry.better(name)!r}); regret needs an outcome where higher or lower "
                "is better"
            )
        for world in dict.fromkeys(outcomes["world"]):
            wide = _paired_values(outcomes, world, name)
            means = wide.mean()
            # No paired run with a value (e.g. a median never reached): regret undefined.
            best_package = (means * sign).idxmax() if len(wide) else None
            best = wide[best_package] if best_package else wide.iloc[:, 0]
            for package in wide.columns:
                shortfall = paired_difference(
                    wide[package].to_numpy() * sign, best.to_numpy() * sign, confidence
                )
                rows.append(
                    {
                        "world": world,
                        "package": package,
                        "outcome": name,
                        "mean": means[package],
                        "best": means[best_package] if best_package else math.nan,
                        "best_package": best_package,
                        "regret": shortfall["difference"],
                        "regret_ci_low": shortfall["ci_low"],
                        "regret_ci_high": shortfall["ci_high"],
                        "n": shortfall["n"],
                    }
                )
    return pd.DataFrame(rows)


def minimax_regret(table: pd.DataFrame) -> pd.DataFrame:
    """Maximum regret across worlds of each package, ranked by minimax regret (Savage).

    Args:
        table: Output of :func:`regret`.

    Returns:
        One row per (outcome, package): ``max_regret``, ``worst_world`` (where it is
        reached), ``mean_regret`` (across worlds, for reference) and ``rank`` (1 = the
        smallest maximum regret; ties share a rank), sorted by outcome and rank.
    """
    rows = []
    for (name, package), group in table.groupby(["outcome", "package"], sort=False):
        defined = group.dropna(subset=["regret"])
        worst = defined.loc[defined["regret"].idxmax()] if len(defined) else None
        rows.append(
            {
                "outcome": name,
                "package": package,
                "max_regret": worst["regret"] if worst is not None else math.nan,
                # A package that is the best option in every world has no worst world.
                "worst_world": worst["world"] if worst is not None and worst["regret"] > 0 else "",
                "mean_regret": defined["regret"].mean() if len(defined) else math.nan,
                "worlds": len(defined),
            }
        )
    summary = pd.DataFrame(rows)
    # Equal up to rounding error (0.8 - 0.7 vs 0.7 - 0.6) is a tie.
    rounded = summary.assign(max_regret=summary["max_regret"].round(12))
    ranks = rounded.groupby("outcome")["max_regret"].rank(method="min")
    summary["rank"] = ranks.astype("Int64")  # no rank where regret is undefined in every world
    order = list(dict.fromkeys(table["outcome"]))
    summary["_o"] = summary["outcome"].map(order.index)
    summary = summary.sort_values(["_o", "rank", "package"], kind="stable").drop(columns="_o")
    summary["measure"] = "maximum regret (Savage); rank by minimax regret"
    return summary.reset_index(drop=True)


def world_means(outcomes: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    """Mean of each outcome for each (world, package) on the paired runs.

    Returns:
        One row per (world, package), one column per outcome.
    """
    frames = []
    for world in dict.fromkeys(outcomes["world"]):
        means = {name: _paired_values(outcomes, world, name).mean() for name in names}
        frame = pd.DataFrame(means)
        frames.append(frame.rename_axis("package").reset_index().assign(world=world))
    table = pd.concat(frames, ignore_index=True)
    return table[["world", "package", *names]]


def satisficing(
    means: pd.DataFrame, thresholds: list[Threshold]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Satisficing by the domain criterion (Starr): the share of worlds meeting every threshold.

    Args:
        means: Output of :func:`world_means` (a column per threshold outcome).
        thresholds: The criteria; all must hold in a world for it to count.

    Returns:
        ``(detail, summary)``: ``detail`` has one row per (world, package), the mean and
        whether it is met for each threshold, and ``all_met``; ``summary`` one row per
        package: ``worlds_met``, ``worlds``, ``satisficing`` (the share), ``not_met_in``
        (the worlds that fail), sorted by share (highest first).
    """
    detail = means[["world", "package"]].copy()
    met = pd.Series(True, index=means.index)
    for t in thresholds:
        ok = means[t.outcome].map(t.met)
        detail[f"{t} (mean)"] = means[t.outcome]
        detail[f"{t} met"] = ok
        met &= ok
    detail["all_met"] = met
    grouped = detail.groupby("package", sort=False)
    summary = pd.DataFrame(
        {
            "worlds_met": grouped["all_met"].sum().astype(int),
            "worlds": grouped.size(),
            "not_met_in": grouped.apply(
                lambda g: ", ".join(g.loc[~g["all_met"], "world"]), include_groups=False
            ),
        }
    )
    summary.insert(2, "satisficing", summary["worlds_met"] / summary["worlds"])
    summary["thresholds"] = "; ".join(map(str, thresholds))
    summary["measure"] = "satisficing: domain criterion (Starr)"
    summary = summary.reset_index().sort_values("satisficing", ascending=False, kind="stable")
    return detail, summary.reset_index(drop=True)


def robustness(
    outcomes: pd.DataFrame,
    names: list[str],
    reference: str,
    thresholds: list[Threshold] = (),
    confidence: float = 0.95,
) -> dict[str, pd.DataFrame]:
    """Every robustness table of a ``coopsim robust`` run.

    Args:
        outcomes: The results' outcomes (``world``, ``package`` columns).
        names: Outcomes for effects and regret (each with a better direction).
        reference: The no-reform package.
        thresholds: Satisficing criteria (none: empty satisficing tables).
        confidence: Confidence level.

    Returns:
        ``effects``, ``regret``, ``max_regret``, ``satisficing_detail``, ``satisficing``.

    Raises:
        AnalysisError: When the outcomes lack the ``world``/``package`` columns or an
            outcome is missing.
    """
    missing = [c for c in ("world", "package", *names) if c not in outcomes.columns]
    missing += [t.outcome for t in thresholds if t.outcome not in outcomes.columns]
    if missing:
        raise AnalysisError(
            f"results: no column {missing[0]!r}; robustness needs the results of coopsim robust "
            "(columns world and package) and the outcomes named"
        )
    regrets = regret(outcomes, names, confidence).assign(measure=MEASURES["regret"])
    tables = {
        "effects": effects(outcomes, names, reference, confidence).assign(
            measure=MEASURES["effect"]
        ),
        "regret": regrets,
        "max_regret": minimax_regret(regrets),
    }
    if thresholds:
        needed = list(dict.fromkeys(t.outcome for t in thresholds))
        detail, summary = satisficing(world_means(outcomes, needed), list(thresholds))
    else:
        detail, summary = pd.DataFrame(), pd.DataFrame()
    tables["satisficing_detail"], tables["satisficing"] = detail, summary
    return tables


# ======================================================================== text
def _num(x: float, name: str) -> str:
    # Regret is >= 0: shown in the unit of a difference (pp for shares), without a sign.
    if not np.isfinite(x):
        return "n/a"
    return registry.format_value(x, name, difference=True).lstrip("+")


def format_robustness(tables: dict[str, pd.DataFrame]) -> str:
    """The printed report: minimax-regret ranking per outcome, then satisficing.

    Args:
        tables: Output of :func:`robustness`.

    Returns:
        Plain text naming the measures used.
    """
    lines = ["Robustness of reform packages across worlds", ""]
    lines += [f"  {MEASURES[k]}" for k in ("regret", "max_regret")]
    ranking = tables["max_regret"]
    for name, rows in ranking.groupby("outcome", sort=False):
        sign = "higher" if direction(name) > 0 else "lower"
        lines += ["", f"{registry.label(name, with_unit=True)} ({sign} is better)"]
        lines.append(
            f"  {'rank':>4}  {'package':<26}{'max regret':>12}  {'worst world':<24}"
            f"{'mean regret':>12}"
        )
        for r in rows.itertuples():
            rank = "-" if pd.isna(r.rank) else str(r.rank)
            lines.append(
                f"  {rank:>4}  {r.package:<26}{_num(r.max_regret, name):>12}  "
                f"{r.worst_world or '-':<24}{_num(r.mean_regret, name):>12}"
            )
    summary = tables["satisficing"]
    lines += ["", f"  {MEASURES['satisficing']}"]
    if summary.empty:
        lines.append("  (no thresholds set: add --threshold 'completion_rate>=0.6')")
    else:
        lines.append(f"  thresholds: {summary['thresholds'].iloc[0]}")
        lines.append(f"  {'package':<26}{'worlds met':>11}{'share':>8}  not met in")
        for r in summary.itertuples():
            lines.append(
                f"  {r.package:<26}{f'{r.worlds_met}/{r.worlds}':>11}{r.satisficing:>8.0%}  "
                f"{r.not_met_in or '-'}"
            )
    return "\n".join(lines)
