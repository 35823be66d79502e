"""The accepted set of history matching, on disk: writing, reading, summarising.

The accepted parameter vectors go to ``accepted.csv``, every run to ``runs.csv`` and
the method, variances, waves and seeds to ``history_matching.toml``;
:func:`load_accepted` reads the accepted set back (``coopsim compare
--parameter-uncertainty`` draws from it).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sim.calibration import CALIBRATED_PARAMETERS
from sim.implausibility import (
    ACCEPTED_FILE,
    DISCREPANCY_FRACTION,
    METHOD_REFERENCES,
    PRIORS_FILE,
)
from sim.scenario import ScenarioError

if TYPE_CHECKING:
    from sim.history_matching import HistoryMatching


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
