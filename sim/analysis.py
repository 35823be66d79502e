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

from sim.errors import CoopsimError
from sim.outcomes import TABLE_FORMATS

# Plan columns that are inputs or identities, never outcomes.
ID_COLUMNS = ("run_id", "policy", "policy_index", "point", "replication", "seed")


class AnalysisError(CoopsimError, ValueError):
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


def _fmt(x: float) -> str:
    if x is None or not math.isfinite(x):
        return "n/a"
    return f"{x:.4g}"


def _verdict(better: str, significant: bool, difference: float) -> str:
    """``better``, ``worse``, ``changed`` (no better direction) or ``no clear change``."""
    if not significant or not math.isfinite(difference) or difference == 0:
        return "no clear change"
    if better == "neither":
        return "higher" if difference > 0 else "lower"
    return "better" if (difference > 0) == (better == "higher") else "worse"


def annotate_comparison(table: pd.DataFrame) -> pd.DataFrame:
    """Add what a reader needs to :func:`compare_policies` output.

    Adds ``label`` (plain name), ``unit`` and ``better`` (which direction is better)
    from the outcome registry (:mod:`sim.outcomes`), ``significant`` (the confidence
    interval excludes 0) and ``verdict`` (better, worse, higher/lower where neither
    direction is better, or no clear change).
    """
    from sim import outcomes as registry

    out = table.copy()
    if out.empty:
        return out
    out["label"] = [registry.label(o) for o in out["outcome"]]
    out["unit"] = [registry.unit(o) for o in out["outcome"]]
    out["better"] = [registry.better(o) for o in out["outcome"]]
    low = out["ci_low"].astype(float)
    high = out["ci_high"].astype(float)
    out["significant"] = ((low > 0) | (high < 0)).to_numpy()
    out["verdict"] = [
        _verdict(b, bool(sig), float(d))
        for b, sig, d in zip(out["better"], out["significant"], out["difference"], strict=True)
    ]
    return out


def comparison_display(table: pd.DataFrame) -> pd.DataFrame:
    """The readable comparison table: plain names, units, direction, significance.

    Values are in the outcome's unit (shares as %, their differences in percentage
    points); ``*`` marks a difference whose confidence interval excludes 0; the
    relative change is the difference over the reference mean. Cohen's d is left
    out: with common random numbers the spread between replications is small and
    d grows with it, not with the size of the effect (it stays in comparison.csv).

    Args:
        table: Output of :func:`compare_policies` (or comparison.csv).

    Returns:
        One row per (outcome, policy), every cell a string.
    """
    from sim import outcomes as registry

    t = annotate_comparison(table)
    level = int(round(100 * float(t["confidence"].iloc[0]))) if not t.empty else 95
    arrows = {"higher": "higher", "lower": "lower", "neither": "-"}
    rows = []
    for r in t.itertuples():
        rel = r.relative_change
        rows.append(
            {
                "outcome": r.label,
                "unit": r.unit or "-",
                "better": arrows[r.better],
                "policy": r.policy,
                "reference": registry.format_value(r.mean_reference, r.outcome),
                "policy mean": registry.format_value(r.mean_policy, r.outcome),
                "difference": registry.format_value(r.difference, r.outcome, difference=True)
                + (" *" if r.significant else ""),
                f"{level}% CI": "["
                + ", ".join(
                    registry.format_value(v, r.outcome, difference=True)
                    for v in (r.ci_low, r.ci_high)
                )
                + "]",
                "rel. change": "n/a" if not math.isfinite(rel) else f"{100 * rel:+.1f}%",
                "verdict": r.verdict,
                "n": str(r.n),
                **(_split_cells(r) if "share_parameters" in t.columns else {}),
            }
        )
    return pd.DataFrame(rows)


def _split_cells(r: Any) -> dict[str, str]:
    """The parameter-uncertainty columns of a comparison row: draws and the split."""

    def pct(x: float) -> str:
        return "n/a" if x is None or not math.isfinite(x) else f"{100 * x:.0f}%"

    return {
        "draws": str(int(r.draws)) if math.isfinite(r.draws) else "n/a",
        "from parameters": pct(r.share_parameters),
        "from chance": pct(r.share_chance),
    }


def _text_table(display: pd.DataFrame, left: int) -> list[str]:
    head = list(display.columns)
    body = display.astype(str).to_numpy().tolist()
    widths = [max(len(str(row[i])) for row in [head, *body]) for i in range(len(head))]
    lines = [
        "  ".join(
            str(c).ljust(w) if i < left else str(c).rjust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in [head, *body]
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return lines


def _markdown_table(display: pd.DataFrame) -> list[str]:
    def cell(x: Any) -> str:
        return str(x).replace("|", "\\|")

    lines = ["| " + " | ".join(cell(c) for c in display.columns) + " |"]
    lines.append("|" + "|".join("---" for _ in display.columns) + "|")
    lines += ["| " + " | ".join(cell(x) for x in row) + " |" for row in display.to_numpy()]
    return lines


_LATEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}


def latex_escape(text: str) -> str:
    """Escape LaTeX's special characters in plain text."""
    return "".join(_LATEX_SPECIAL.get(ch, ch) for ch in str(text))


def _latex_table(display: pd.DataFrame, left: int, caption: str) -> list[str]:
    spec = "l" * left + "r" * (len(display.columns) - left)
    lines = [r"\begin{table}[ht]", r"\centering", r"\small", rf"\begin{{tabular}}{{{spec}}}"]
    lines.append(r"\toprule")
    lines.append(" & ".join(latex_escape(c) for c in display.columns) + r" \\")
    lines.append(r"\midrule")
    for row in display.to_numpy():
        lines.append(" & ".join(latex_escape(x) for x in row) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}", rf"\caption{{{latex_escape(caption)}}}"]
    lines.append(r"\end{table}")
    return lines


def render_table(display: pd.DataFrame, fmt: str, left: int, note: str) -> str:
    """Render a table of strings as text, markdown, csv or LaTeX (booktabs), with a note.

    Args:
        display: The table (every cell a string).
        fmt: One of :data:`TABLE_FORMATS`.
        left: Number of leading columns aligned left (text) / typeset ``l`` (LaTeX).
        note: How to read the table: a last line (text, markdown), the caption (LaTeX);
            csv has no note.

    Raises:
        AnalysisError: For an unknown format.
    """
    if fmt == "csv":
        return display.to_csv(index=False).rstrip("\n")
    if fmt == "markdown":
        return "\n".join([*_markdown_table(display), "", note])
    if fmt == "latex":
        return "\n".join(_latex_table(display, left, note))
    if fmt == "text":
        return "\n".join([*_text_table(display, left), note])
    raise AnalysisError(f"format: {fmt!r} is not a table format; allowed: {list(TABLE_FORMATS)}")


def format_comparison(table: pd.DataFrame, fmt: str = "text") -> str:
    """A readable table of :func:`compare_policies` output (see :func:`comparison_display`).

    Args:
        table: Output of :func:`compare_policies` (or comparison.csv).
        fmt: ``text`` (aligned columns), ``markdown``, ``csv`` or ``latex``.
    """
    if table.empty:
        return "(nothing to compare: the experiment has a single policy)"
    level = int(round(100 * table["confidence"].iloc[0]))
    ref = table["reference"].iloc[0]
    note = (
        f"difference = policy - {ref}, paired by seed (common random numbers); "
        f"{level}% CI by {table['method'].iloc[0]}; * = the CI excludes 0; shares in %, "
        "their differences in percentage points (pp); rel. change = difference / "
        f"{ref} mean; better = the direction that is better for cooperation"
    )
    if "share_parameters" in table.columns:
        note += (
            "\nparameter uncertainty: each replication's calibrated parameters drawn from the "
            "history-matching accepted set (the same draw for every policy); the CI is a t "
            "interval on the draw means; from parameters / from chance = shares of the "
            "variance of the mean difference from the between-draw and within-draw "
            "components (one-way random-effects ANOVA, moment estimator; a negative "
            "between-draw component is set to 0, see split_note in comparison.csv)"
        )
    return render_table(comparison_display(table), fmt, left=4, note=note)


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


def format_sensitivity(table: pd.DataFrame, fmt: str = "text") -> str:
    """A readable table of :func:`sensitivity` output (text, markdown, csv or latex).

    Outcomes appear by their plain names with units (:mod:`sim.outcomes`); a row
    whose index cannot be trusted at this sample size carries a ``!``.
    """
    from sim import outcomes as registry

    if table.empty:
        return ""
    table = table.copy()
    table["outcome"] = [registry.label(o, with_unit=True) for o in table["outcome"]]
    if "warning" in table.columns:
        table["!"] = ["!" if w else "" for w in table["warning"].fillna("")]
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
            "!",
            "note",
        )
        if c in table.columns
    ]
    shown = table[cols].copy()
    for c in cols[3:]:
        if c not in ("note", "!"):
            shown[c] = shown[c].map(_fmt)
    shown = shown.fillna("").astype(str)
    note = (
        "S1/ST: first-order/total Sobol indices with the half-widths of their intervals "
        "(_conf); mu*: mean absolute elementary effect (Morris), in the outcome's unit; "
        "! = not to be trusted at this sample size (see the warnings)"
    )
    return render_table(shown, fmt, left=3, note=note)


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
            by_draw=bool(exp.get("parameter_uncertainty")) and "draw" in results.outcomes,
        )
    return {
        "comparison": comparison,
        "sensitivity": sensitivity(results.outcomes, results.plan, results.manifest, names),
    }
