"""Sensitivity indices of an experiment's outcomes: Sobol or Morris (SALib), with warnings.

Replications are averaged per design point, the indices computed by the design the
experiment used, and each index row flagged when it cannot be trusted at the sample
size. The readable table is :func:`sim.analysis_tables.format_sensitivity`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd


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
            if np.ptp(y) == 0:  # no variance to share out: indices are 0/0
                rows += [
                    {**base, "parameter": p, "note": "the outcome is the same at every point"}
                    for p in problem["names"]
                ]
                continue
            rows += _indices(design, problem, x, y, exp, base)
    table = pd.DataFrame(rows)
    if not table.empty:
        table["warning"] = [_index_warning(r) for r in table.to_dict("records")]
    return table


def _finite(*values: Any) -> bool:
    return all(isinstance(v, int | float) and math.isfinite(v) for v in values)


# A Sobol interval narrower than this (on the 0-1 scale of the indices) is precise
# enough to call an index "about 0", even when it is wider than the estimate itself.
SOBOL_PRECISION = 0.1


def _index_warning(row: dict[str, Any]) -> str:
    """Why an index row cannot be trusted at this sample size ("" when it can).

    Sobol: an index below 0 by more than its interval's half-width, a total index
    above 1 by more, or an interval wider than the estimate (and wider than
    :data:`SOBOL_PRECISION`, so that a precise "about 0" is not flagged). Morris: a
    mu* interval wider than mu* (mu* is not told apart from 0).
    """
    problems = []
    for index in ("S1", "ST", "mu_star"):
        est, half = row.get(index), row.get(f"{index}_conf")
        if not _finite(est, half):
            continue
        shown = "mu*" if index == "mu_star" else index
        if est + half < 0:
            problems.append(f"{shown} negative beyond its interval")
        if index == "ST" and est - half > 1:
            problems.append(f"{shown} above 1 beyond its interval")
        floor = 0.0 if index == "mu_star" else SOBOL_PRECISION
        if 2 * half > max(abs(est), floor):
            problems.append(f"{shown} interval wider than the estimate")
    return "; ".join(problems)


def sensitivity_warnings(table: pd.DataFrame, manifest: dict[str, Any] | None = None) -> list[str]:
    """One warning per (outcome, policy) whose indices are unreliable at this sample size.

    Args:
        table: Output of :func:`sensitivity` (with its ``warning`` column).
        manifest: The results' manifest, to name the sample size and design.

    Returns:
        Readable warnings, empty when every index is usable.
    """
    if table.empty or "warning" not in table.columns:
        return []
    exp = (manifest or {}).get("experiment", {})
    size = exp.get("sample_size")
    design = exp.get("design", "")
    out = []
    for (outcome, policy), group in table.groupby(["outcome", "policy"], sort=False):
        flagged = group[group["warning"].fillna("") != ""]
        if flagged.empty:
            continue
        kinds: dict[str, int] = {}
        for text in flagged["warning"]:
            for part in text.split("; "):
                kinds[part] = kinds.get(part, 0) + 1
        detail = "; ".join(
            f"{what} for {n} of {len(group)} parameters" for what, n in kinds.items()
        )
        advice = (
            f"the sample is too small (sample_size = {size}); increase it, e.g. "
            f"--sample-size {4 * size if design != 'sobol' else 2 ** (size.bit_length() + 1)}"
            if isinstance(size, int)
            else "the sample is too small; increase sample_size"
        )
        out.append(f"warning: {design} indices of {outcome} ({policy}): {detail}: {advice}")
    return out


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
