"""Readable tables of comparisons and sensitivity indices: text, markdown, csv or LaTeX.

The numbers come from :mod:`sim.analysis_paired` and :mod:`sim.analysis_sensitivity`;
this module only shows them: plain names, units and better directions from the
outcome registry (:mod:`sim.outcomes`), shares as percent, significance marked.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from sim.analysis_outcomes import AnalysisError
from sim.outcomes import TABLE_FORMATS


def _fmt(x: float) -> str:
    if x is None or not math.isfinite(x):
        return "n/a"
    return f"{x:.4g}"


def _verdict(better: str, significant: bool, difference: float, interval: bool = True) -> str:
    """The verdict on one difference: better, worse, higher/lower, no clear change, n/a.

    ``higher``/``lower`` where neither direction is better; ``n/a`` where no difference
    or no interval was estimated (nothing to judge).
    """
    if not math.isfinite(difference) or not interval:
        return "n/a"
    if not significant or difference == 0:
        return "no clear change"
    if better == "neither":
        return "higher" if difference > 0 else "lower"
    return "better" if (difference > 0) == (better == "higher") else "worse"


def annotate_comparison(table: pd.DataFrame) -> pd.DataFrame:
    """Add what a reader needs to :func:`compare_policies` output.

    Adds ``label`` (plain name), ``unit`` and ``better`` (which direction is better)
    from the outcome registry (:mod:`sim.outcomes`), ``significant`` (the confidence
    interval excludes 0) and ``verdict`` (better, worse, higher/lower where neither
    direction is better, no clear change, or n/a where no difference or no interval was
    estimated: a median not reached, a single pair).
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
    interval = (low.notna() & high.notna()).to_numpy()
    out["verdict"] = [
        _verdict(b, bool(sig), float(d), bool(ci))
        for b, sig, d, ci in zip(
            out["better"], out["significant"], out["difference"], interval, strict=True
        )
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
