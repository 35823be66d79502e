"""Paired comparisons of policies: the statistics of common random numbers.

Runs of two policies that share a design point and replication share a seed, so
they are compared pair by pair: the mean of each, the mean paired difference with a
confidence interval (t or bootstrap) and an effect size; under parameter uncertainty
the pairs are nested in parameter draws and the variance of the difference is split
between parameters and chance. How these numbers are shown is in
:mod:`sim.analysis_tables`.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

from sim.analysis_outcomes import AnalysisError


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


def variance_components(values: np.ndarray, groups: np.ndarray) -> dict[str, float]:
    """One-way random-effects ANOVA: between-group and within-group variance components.

    Model ``y_ij = mu + a_i + e_ij`` with ``Var(a) = sigma2_between`` (here: the parameter
    draws) and ``Var(e) = sigma2_within`` (here: chance, the seeds). The estimator is the
    ANOVA (method of moments) one: ``sigma2_within = MSW`` and
    ``sigma2_between = (MSB - MSW) / n0`` with ``n0 = (N - sum n_i^2 / N) / (G - 1)``
    (the group size when groups are equal); a negative ``sigma2_between`` is set to 0
    and ``truncated`` says so.

    Args:
        values: The observations (finite).
        groups: The group of each observation.

    Returns:
        ``groups``, ``n``, ``ms_between``, ``ms_within``, ``var_between``, ``var_within``,
        ``truncated`` (NaN where not estimable: fewer than 2 groups, or no group with 2+
        observations for the within part).
    """
    values = np.asarray(values, dtype=float)
    codes, _ = pd.factorize(pd.Series(list(groups)))
    g = int(codes.max()) + 1 if codes.size else 0
    n_i = np.bincount(codes, minlength=g).astype(float)
    sums = np.bincount(codes, weights=values, minlength=g)
    means = np.divide(sums, n_i, out=np.full(g, np.nan), where=n_i > 0)
    n = float(values.size)
    out = {
        "groups": g,
        "n": int(n),
        "ms_between": math.nan,
        "ms_within": math.nan,
        "var_between": math.nan,
        "var_within": math.nan,
        "truncated": False,
    }
    if n - g > 0:
        ss_within = float(np.sum((values - means[codes]) ** 2))
        out["ms_within"] = out["var_within"] = ss_within / (n - g)
    if g >= 2:
        grand = values.mean()
        out["ms_between"] = float(np.sum(n_i * (means - grand) ** 2) / (g - 1))
        if math.isfinite(out["ms_within"]):
            n0 = (n - np.sum(n_i**2) / n) / (g - 1)
            between = (out["ms_between"] - out["ms_within"]) / n0
            out["truncated"] = bool(between < 0)
            out["var_between"] = max(float(between), 0.0)
    return out


def nested_paired_difference(
    reference: np.ndarray,
    policy: np.ndarray,
    groups: np.ndarray,
    confidence: float = 0.95,
) -> dict[str, float]:
    """Paired difference under parameter uncertainty: draws x seeds, nested.

    Each group is one parameter draw (run with several seeds). The draws are the
    independent units, so the difference is the mean of the draw means and its
    interval is a t interval on the draw means (``G - 1`` degrees of freedom): it holds
    both the parameter uncertainty and chance. The variance of that mean is split with
    :func:`variance_components` into ``sigma2_between / G`` (from parameters) and
    ``sigma2_within * mean(1 / n_i) / G`` (from chance), reported as shares.

    Returns:
        The keys of :func:`paired_difference` (``difference`` and the interval as
        above) plus ``draws``, ``var_parameters``, ``var_chance`` (variance components
        of one paired difference), ``share_parameters``, ``share_chance`` (shares of the
        variance of the mean difference) and ``split_note``.
    """
    a = np.asarray(reference, dtype=float)
    b = np.asarray(policy, dtype=float)
    groups = np.asarray(groups)
    keep = np.isfinite(a) & np.isfinite(b)
    out = paired_difference(a[keep], b[keep], confidence, "t")
    d, groups = b[keep] - a[keep], groups[keep]
    comp = variance_components(d, groups)
    out.update(
        draws=comp["groups"],
        var_parameters=comp["var_between"],
        var_chance=comp["var_within"],
        share_parameters=math.nan,
        share_chance=math.nan,
        split_note="",
    )
    if d.size == 0:
        return out
    frame = pd.DataFrame({"d": d, "g": list(groups)})
    by = frame.groupby("g", sort=False)["d"]
    draw_means = by.mean().to_numpy()
    sizes = by.size().to_numpy(dtype=float)
    g = draw_means.size
    out["difference"] = float(draw_means.mean())
    if out["mean_reference"]:
        out["relative_change"] = out["difference"] / out["mean_reference"]
    if g < 2:
        out.update(ci_low=math.nan, ci_high=math.nan, split_note="one parameter draw: no interval")
        return out
    spread = float(draw_means.std(ddof=1))
    half = stats.t.ppf((1 + confidence) / 2, g - 1) * spread / math.sqrt(g)
    out.update(ci_low=out["difference"] - half, ci_high=out["difference"] + half)
    if not math.isfinite(comp["var_within"]):
        out["split_note"] = "one seed per draw: chance and parameters cannot be told apart"
        return out
    from_parameters = comp["var_between"] / g
    from_chance = comp["var_within"] * float(np.mean(1.0 / sizes)) / g
    total = from_parameters + from_chance
    if total > 0:
        out.update(share_parameters=from_parameters / total, share_chance=from_chance / total)
    if comp["truncated"]:
        out["split_note"] = (
            "between-draw component estimated below 0 (draw means vary less than chance "
            "predicts), set to 0"
        )
    return out


def compare_policies(
    outcomes: pd.DataFrame,
    reference: str,
    names: list[str],
    confidence: float = 0.95,
    method: str = "t",
    seed: int = 0,
    by_draw: bool = False,
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
        by_draw: Parameter uncertainty (a ``draw`` column): pairs are grouped by
            (design point, parameter draw) and compared with
            :func:`nested_paired_difference` (t interval on the draw means, the
            variance split between parameters and chance).

    Returns:
        One row per (outcome, policy): the columns of :func:`paired_difference`
        (or :func:`nested_paired_difference`) plus ``outcome``, ``policy``,
        ``reference``, ``confidence``, ``method``.

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
            if by_draw:
                draw = ref["draw"].reindex(joined.index).to_numpy()
                point = joined.index.get_level_values("point").to_numpy()
                stats_row = nested_paired_difference(
                    joined[f"{name}_ref"].to_numpy(),
                    joined[f"{name}_pol"].to_numpy(),
                    [f"{p}/{g}" for p, g in zip(point, draw, strict=True)],
                    confidence,
                )
            else:
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
                    "method": "t on draw means" if by_draw else method,
                }
            )
    return pd.DataFrame(rows)
