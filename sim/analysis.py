"""Analysis of experiment results: paired comparisons and sensitivity indices.

Works on the tables of :class:`sim.store.Results` (pandas DataFrames), so it
serves the CLI and notebooks alike. Comparisons pair runs of two policies that
share a design point and replication (hence a seed: common random numbers), and
report the mean of each, the mean paired difference with a confidence interval
(t or bootstrap) and an effect size. Sensitivity indices come from SALib. Figures
of these tables are in :mod:`sim.plots`.
"""

from __future__ import annotations

import fnmatch
import math
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from sim.scenario import ScenarioError

# Plan columns that are inputs or identities, never outcomes.
ID_COLUMNS = ("run_id", "policy", "policy_index", "point", "replication", "seed")


class AnalysisError(ScenarioError):
    """Results that cannot be analysed as asked (e.g. an unknown outcome name)."""


# ======================================================================== outcomes
def outcome_columns(outcomes: pd.DataFrame, plan: pd.DataFrame | None = None) -> list[str]:
    """The numeric outcome columns of a results table (inputs and ids excluded).

    Args:
        outcomes: The ``outcomes`` table of the results.
        plan: The plan, whose columns (inputs) are excluded.

    Returns:
        Outcome names in table order.
    """
    inputs = set(ID_COLUMNS) | (set(plan.columns) if plan is not None else set())
    return [
        c
        for c in outcomes.columns
        if c not in inputs
        and pd.api.types.is_numeric_dtype(outcomes[c])
        and not pd.api.types.is_bool_dtype(outcomes[c])
    ]


def select_outcomes(available: list[str], patterns: list[str] | None) -> list[str]:
    """Resolve outcome names and ``*`` patterns against the available outcomes.

    Args:
        available: Outcome columns of the results.
        patterns: Names or fnmatch patterns (``refusal_rate_by_ground.*``); empty = all.

    Returns:
        The selected outcomes, in the order asked.

    Raises:
        AnalysisError: For a name or pattern that matches no outcome.
    """
    if not patterns:
        return list(available)
    chosen: list[str] = []
    for pattern in patterns:
        hits = [c for c in available if fnmatch.fnmatchcase(c, pattern)]
        if not hits:
            raise AnalysisError(
                f"outcomes: {pattern!r} matches no outcome of the results; available: "
                f"{', '.join(available)}"
            )
        chosen += [h for h in hits if h not in chosen]
    return chosen


# ======================================================================== comparisons
def paired_difference(
    reference: np.ndarray,
    policy: np.ndarray,
    confidence: float = 0.95,
    method: str = "t",
    seed: int = 0,
) -> dict[str, float]:
    """Mean paired difference (policy - reference) with a confidence interval.

    Args:
        reference: Outcome of the reference policy, one value per pair.
        policy: Outcome of the compared policy, same order (same seeds).
        confidence: Confidence level of the interval.
        method: ``"t"`` (Student t on the differences) or ``"bootstrap"`` (BCa).
        seed: Seed of the bootstrap resampling.

    Returns:
        ``n``, ``mean_reference``, ``mean_policy``, ``difference``, ``ci_low``,
        ``ci_high``, ``relative_change`` (difference / reference mean) and
        ``effect_size`` (Cohen's d: difference over the average of the two
        variances' root; 0 when the difference is exactly 0).
    """
    a = np.asarray(reference, dtype=float)
    b = np.asarray(policy, dtype=float)
    keep = np.isfinite(a) & np.isfinite(b)
    a, b = a[keep], b[keep]
    d = b - a
    n = int(d.size)
    nan = math.nan
    out = {
        "n": n,
        "mean_reference": nan,
        "mean_policy": nan,
        "difference": nan,
        "ci_low": nan,
        "ci_high": nan,
        "relative_change": nan,
        "effect_size": nan,
    }
    if n == 0:
        return out
    diff = float(d.mean())
    out.update(mean_reference=float(a.mean()), mean_policy=float(b.mean()), difference=diff)
    if n < 2:
        pass  # one pair gives a difference but no interval
    elif np.all(d == d[0]):  # no spread (e.g. a policy against itself): the interval is a point
        out.update(ci_low=float(d[0]), ci_high=float(d[0]))
    elif method == "bootstrap":
        res = stats.bootstrap(
            (d,),
            np.mean,
            confidence_level=confidence,
            n_resamples=2000,
            method="BCa",
            rng=np.random.default_rng(seed),
        )
        out.update(
            ci_low=float(res.confidence_interval.low), ci_high=float(res.confidence_interval.high)
        )
    else:
        half = stats.t.ppf((1 + confidence) / 2, n - 1) * d.std(ddof=1) / math.sqrt(n)
        out.update(ci_low=diff - half, ci_high=diff + half)
    if out["mean_reference"]:
        out["relative_change"] = diff / out["mean_reference"]
    pooled = math.sqrt((a.var(ddof=1) + b.var(ddof=1)) / 2) if n >= 2 else 0.0
    if diff == 0:
        out["effect_size"] = 0.0
    elif pooled > 0:
        out["effect_size"] = diff / pooled
    return out


def compare_policies(
    outcomes: pd.DataFrame,
    reference: str,
    names: list[str],
    confidence: float = 0.95,
    method: str = "t",
    seed: int = 0,
) -> pd.DataFrame:
    """Compare every policy with the reference on each outcome, pairing by seed.

    Runs are paired on (design point, replication), which share a seed; pairs where
    either run failed or the outcome is undefined (NaN) are left out (see ``n``).

    Args:
        outcomes: The results' ``outcomes`` table.
        reference: Name of the reference policy.
        names: Outcomes to compare.
        confidence: Confidence level.
        method: ``"t"`` or ``"bootstrap"``.
        seed: Seed for bootstrap resampling.

    Returns:
        One row per (outcome, policy): the columns of :func:`paired_difference`
        plus ``outcome``, ``policy``, ``reference``, ``confidence``, ``method``.

    Raises:
        AnalysisError: When the reference policy has no runs.
    """
    policies = list(dict.fromkeys(outcomes.sort_values("policy_index")["policy"]))
    if reference not in policies:
        raise AnalysisError(f"reference: {reference!r} has no runs; policies: {policies}")
    keys = ["point", "replication"]
    ref = outcomes[outcomes["policy"] == reference].set_index(keys)
    rows = []
    for name in names:
        for policy in policies:
            if policy == reference:
                continue
            other = outcomes[outcomes["policy"] == policy].set_index(keys)
            joined = ref[[name]].merge(
                other[[name]], left_index=True, right_index=True, suffixes=("_ref", "_pol")
            )
            stats_row = paired_difference(
                joined[f"{name}_ref"].to_numpy(),
                joined[f"{name}_pol"].to_numpy(),
                confidence,
                method,
                seed,
            )
            rows.append(
                {
                    "outcome": name,
                    "policy": policy,
                    "reference": reference,
                    **stats_row,
                    "confidence": confidence,
                    "method": method,
                }
            )
    return pd.DataFrame(rows)


def _fmt(x: float) -> str:
    if x is None or not math.isfinite(x):
        return "n/a"
    return f"{x:.4g}"


def format_comparison(table: pd.DataFrame) -> str:
    """A readable text table of :func:`compare_policies` output."""
    if table.empty:
        return "(nothing to compare: the experiment has a single policy)"
    level = int(round(100 * table["confidence"].iloc[0]))
    head = [
        "outcome",
        "policy",
        "reference",
        "policy mean",
        "difference",
        f"{level}% CI",
        "rel. change",
        "effect d",
        "n",
    ]
    body = []
    for r in table.itertuples():
        rel = "n/a" if not math.isfinite(r.relative_change) else f"{100 * r.relative_change:+.1f}%"
        body.append(
            [
                r.outcome,
                r.policy,
                _fmt(r.mean_reference),
                _fmt(r.mean_policy),
                _fmt(r.difference),
                f"[{_fmt(r.ci_low)}, {_fmt(r.ci_high)}]",
                rel,
                _fmt(r.effect_size),
                str(r.n),
            ]
        )
    widths = [max(len(str(row[i])) for row in [head, *body]) for i in range(len(head))]
    lines = [
        "  ".join(
            str(c).ljust(w) if i < 2 else str(c).rjust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in [head, *body]
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    ref = table["reference"].iloc[0]
    lines.append(
        f"difference = policy - {ref}, paired by seed (common random numbers); "
        f"CI by {table['method'].iloc[0]}; d = Cohen's d"
    )
    return "\n".join(lines)


def __getattr__(name: str) -> Any:
    """``forest_plot`` moved to :mod:`sim.plots` (figures live in one module)."""
    if name == "forest_plot":
        from sim.plots import forest_plot

        return forest_plot
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# ======================================================================== sensitivity
def _point_means(outcomes: pd.DataFrame, policy: str, name: str, n_points: int) -> np.ndarray:
    """Mean over replications of an outcome at each design point, in point order."""
    sub = outcomes[outcomes["policy"] == policy]
    means = sub.groupby("point")[name].mean().reindex(range(n_points))
    return means.to_numpy(dtype=float)


def sensitivity(
    outcomes: pd.DataFrame, plan: pd.DataFrame, manifest: dict[str, Any], names: list[str]
) -> pd.DataFrame:
    """Sobol or Morris indices (by the experiment's design) for each outcome and policy.

    Replications are averaged per design point first. An outcome with missing or
    undefined values at some point gets a row with a ``note`` instead of indices.

    Args:
        outcomes: The results' ``outcomes`` table.
        plan: The results' plan.
        manifest: The results' manifest (experiment and SALib problem).
        names: Outcomes to analyse.

    Returns:
        Sobol: ``S1``, ``S1_conf``, ``ST``, ``ST_conf`` (CI half-widths) per parameter;
        Morris: ``mu``, ``mu_star``, ``mu_star_conf``, ``sigma``. Empty for other designs.
    """
    exp = manifest["experiment"]
    design = exp["design"]
    if design not in ("sobol", "morris"):
        return pd.DataFrame()
    problem = manifest["problem"]
    n_points = int(plan["point"].max()) + 1
    x = (
        plan[plan["policy_index"] == 0]
        .drop_duplicates("point")
        .sort_values("point")[problem["names"]]
        .to_numpy(dtype=float)
    )
    rows = []
    for policy in dict.fromkeys(plan.sort_values("policy_index")["policy"]):
        for name in names:
            y = _point_means(outcomes, policy, name, n_points)
            base = {"outcome": name, "policy": policy}
            if not np.all(np.isfinite(y)):
                bad = int((~np.isfinite(y)).sum())
                rows += [
                    {**base, "parameter": p, "note": f"{bad} design points without a value"}
                    for p in problem["names"]
                ]
                continue
            rows += _indices(design, problem, x, y, exp, base)
    return pd.DataFrame(rows)


def _indices(
    design: str,
    problem: dict[str, Any],
    x: np.ndarray,
    y: np.ndarray,
    exp: dict[str, Any],
    base: dict[str, Any],
) -> list[dict[str, Any]]:
    """SALib analysis of one outcome; returns one row per parameter."""
    conf = exp.get("confidence", 0.95)
    seed = exp.get("base_seed", 0)
    if design == "sobol":
        from SALib.analyze import sobol

        res = sobol.analyze(
            problem,
            y,
            calc_second_order=exp.get("second_order", False),
            num_resamples=200,
            conf_level=conf,
            seed=seed,
        )
        return [
            {
                **base,
                "parameter": p,
                "S1": res["S1"][i],
                "S1_conf": res["S1_conf"][i],
                "ST": res["ST"][i],
                "ST_conf": res["ST_conf"][i],
            }
            for i, p in enumerate(problem["names"])
        ]
    from SALib.analyze import morris

    res = morris.analyze(
        problem,
        x,
        y,
        num_resamples=200,
        conf_level=conf,
        num_levels=exp.get("levels", 4),
        seed=seed,
    )
    return [
        {
            **base,
            "parameter": p,
            "mu": res["mu"][i],
            "mu_star": res["mu_star"][i],
            "mu_star_conf": res["mu_star_conf"][i],
            "sigma": res["sigma"][i],
        }
        for i, p in enumerate(problem["names"])
    ]


def format_sensitivity(table: pd.DataFrame) -> str:
    """A readable text table of :func:`sensitivity` output."""
    if table.empty:
        return ""
    cols = [
        c
        for c in (
            "outcome",
            "policy",
            "parameter",
            "S1",
            "S1_conf",
            "ST",
            "ST_conf",
            "mu",
            "mu_star",
            "mu_star_conf",
            "sigma",
            "note",
        )
        if c in table.columns
    ]
    shown = table[cols].copy()
    for c in cols[3:]:
        if c != "note":
            shown[c] = shown[c].map(_fmt)
    return shown.fillna("").to_string(index=False)


# ======================================================================== whole results
def analyze(results: Any, outcomes: list[str] | None = None) -> dict[str, pd.DataFrame]:
    """Comparison and sensitivity tables of an experiment's results.

    Args:
        results: A :class:`sim.store.Results`.
        outcomes: Outcomes to analyse (names or patterns); default: the experiment's
            ``outcomes``, or every outcome when it names none.

    Returns:
        ``{"comparison": ..., "sensitivity": ...}`` (either may be empty).
    """
    exp = results.manifest["experiment"]
    available = outcome_columns(results.outcomes, results.plan)
    names = select_outcomes(available, outcomes or exp.get("outcomes") or None)
    comparison = pd.DataFrame()
    if results.outcomes["policy"].nunique() > 1:
        comparison = compare_policies(
            results.outcomes,
            results.manifest["reference"],
            names,
            exp.get("confidence", 0.95),
            exp.get("ci_method", "t"),
            exp.get("base_seed", 0),
        )
    return {
        "comparison": comparison,
        "sensitivity": sensitivity(results.outcomes, results.plan, results.manifest, names),
    }
