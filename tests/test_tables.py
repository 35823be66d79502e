"""Tables a policy researcher can read: names, units, direction, significance, formats;
sensitivity warnings; the run summary counts open requests as the JSON does."""

import io
import math

import numpy as np
import pandas as pd
import pytest

from sim.analysis import (
    AnalysisError,
    annotate_comparison,
    comparison_display,
    format_comparison,
    format_sensitivity,
    sensitivity,
    sensitivity_warnings,
)
from sim.cli import main
from sim.cli_commands import _format_summary
from sim.experiment import design_matrix, parse_spec, salib_problem
from sim.metrics import to_jsonable


def _row(outcome, policy, ref, diff, low, high, n=10):
    return {
        "outcome": outcome,
        "policy": policy,
        "reference": "baseline",
        "n": n,
        "mean_reference": ref,
        "mean_policy": ref + diff,
        "difference": diff,
        "ci_low": low,
        "ci_high": high,
        "relative_change": diff / ref if ref else math.nan,
        "effect_size": 31.0,
        "confidence": 0.95,
        "method": "t",
    }


TABLE = pd.DataFrame(
    [
        _row("completion_rate", "reform", 0.40, 0.02, 0.01, 0.03),
        _row("median_response_days.mla_evidence", "reform", 120.0, -5.0, -8.0, -2.0),
        _row("leaks", "reform", 3.0, 1.0, -1.0, 3.0),
        _row("refusal_rate", "reform", 0.05, 0.01, 0.004, 0.016),
        _row("requests_total", "reform", 4455.0, 300.0, 250.0, 350.0),
    ]
)


def test_comparison_rows_get_units_direction_significance_and_a_verdict():
    t = annotate_comparison(TABLE).set_index("outcome")
    assert t.loc["completion_rate", "unit"] == "share"
    assert t.loc["median_response_days.mla_evidence", "better"] == "lower"
    assert list(t["significant"]) == [True, True, False, True, True]
    assert list(t["verdict"]) == ["better", "better", "no clear change", "worse", "higher"]


def test_a_difference_not_estimated_gets_no_verdict():
    # A median not reached in any pair (n = 0), or a single pair (no interval): n/a,
    # not "no clear change".
    rows = [
        _row(
            "km_median_response_days.mla_evidence",
            "reform",
            200.0,
            float("nan"),
            float("nan"),
            float("nan"),
        ),
        _row("completion_rate", "reform", 0.4, 0.05, float("nan"), float("nan")),
        _row("refusal_rate", "reform", 0.05, 0.0, -0.01, 0.01),
    ]
    t = annotate_comparison(pd.DataFrame(rows))
    assert list(t["verdict"]) == ["n/a", "n/a", "no clear change"]


def test_the_readable_table_has_plain_names_units_marks_and_no_cohens_d():
    shown = comparison_display(TABLE)
    assert list(shown["outcome"][:2]) == ["completion rate", "median response time: MLA evidence"]
    assert list(shown["difference"]) == ["+2.0 pp *", "-5 *", "+1", "+1.0 pp *", "+300.0 *"]
    assert shown["reference"].iloc[0] == "40.0%" and shown["reference"].iloc[4] == "4,455"
    assert shown["95% CI"].iloc[0] == "[+1.0 pp, +3.0 pp]"
    assert shown["rel. change"].iloc[1] == "-4.2%"
    text = format_comparison(TABLE)
    assert "median_response_days" not in text and "Cohen" not in text and "31" not in text
    assert "* = the CI excludes 0" in text


def test_markdown_csv_and_latex_tables():
    md = format_comparison(TABLE, "markdown").splitlines()
    assert md[0].startswith("| outcome | unit | better | policy |") and md[1].startswith("|---|")
    assert md[2].startswith("| completion rate | share | higher | reform | 40.0% |")
    parsed = pd.read_csv(io.StringIO(format_comparison(TABLE, "csv")))
    assert len(parsed) == 5 and parsed["verdict"].iloc[0] == "better"
    tex = format_comparison(TABLE, "latex")
    assert tex.startswith("\\begin{table}") and "\\toprule" in tex and "\\end{tabular}" in tex
    assert "40.0\\%" in tex and "95\\% CI" in tex and "nsc_law" not in tex
    assert tex.count(" \\\\") == 6  # header + 5 rows
    with pytest.raises(AnalysisError, match="allowed"):
        format_comparison(TABLE, "html")


def _sobol(n, fn):
    spec = parse_spec(
        {
            "name": "s",
            "design": "sobol",
            "sample_size": n,
            "base_seed": 3,
            "uncertainties": {"x1": [-math.pi, math.pi], "x2": [-math.pi, math.pi]},
        }
    )
    x = design_matrix(spec)
    plan = pd.DataFrame({"policy": "default", "policy_index": 0, "point": range(len(x))})
    plan["x1"], plan["x2"] = x[:, 0], x[:, 1]
    outcomes = pd.DataFrame(
        {"policy": "default", "point": range(len(x)), "y": [fn(a, b) for a, b in x]}
    )
    manifest = {"experiment": spec.model_dump(mode="json"), "problem": salib_problem(spec)}
    table = sensitivity(outcomes, plan, manifest, ["y"])
    return table, sensitivity_warnings(table, manifest)


def test_sobol_indices_from_a_small_sample_carry_a_warning():
    def fn(a, b):
        return math.sin(a) + 7 * math.sin(b) ** 2

    table, warnings = _sobol(4, fn)
    assert (table["warning"] != "").any()
    assert len(warnings) == 1
    assert "sample_size = 4" in warnings[0] and "--sample-size 16" in warnings[0]
    assert "!" in format_sensitivity(table)
    # A large sample of the same function: precise indices, no warning.
    table, warnings = _sobol(2048, fn)
    assert (table["warning"] == "").all() and warnings == []
    # Var sin(a) = 1/2, Var 7 sin(b)^2 = 49/8: S1 = 0.0755, 0.9245.
    assert table["S1"].to_numpy() == pytest.approx([0.0755, 0.9245], abs=0.03)


def test_negative_and_too_wide_indices_are_named():
    table = pd.DataFrame(
        [
            {"outcome": "y", "policy": "p", "parameter": "a", "S1": -0.3, "S1_conf": 0.1,
             "ST": 1.4, "ST_conf": 0.2},
            {"outcome": "y", "policy": "p", "parameter": "b", "S1": 0.2, "S1_conf": 0.4,
             "ST": 0.5, "ST_conf": 0.05},
            {"outcome": "y", "policy": "p", "parameter": "c", "S1": 0.01, "S1_conf": 0.02,
             "ST": 0.02, "ST_conf": 0.03},
        ]
    )  # fmt: skip
    from sim.analysis import _index_warning

    notes = [_index_warning(r) for r in table.to_dict("records")]
    assert "S1 negative beyond its interval" in notes[0]
    assert "ST above 1 beyond its interval" in notes[0]
    assert notes[1] == "S1 interval wider than the estimate"
    assert notes[2] == ""  # precisely about 0: fine


def test_the_summary_counts_open_requests_as_the_json_does(tiny_result):
    o = to_jsonable(tiny_result.outcomes)
    text = _format_summary(o)
    lines = {line[:24].strip(): line[24:].strip() for line in text.splitlines()}
    assert int(lines["open at end (sent)"]) == o["requests_open"]
    assert int(lines["drafting at end"]) == o["requests_drafting"]
    parts = ("executed", "refused", "lapsed", "withdrawn", "open", "drafting")
    assert sum(o[f"requests_{p}"] for p in parts) == o["requests_total"]


def _sobol_file(tmp_path):
    exp = tmp_path / "s.toml"
    exp.write_text(
        'name = "s"\ndesign = "sobol"\nsample_size = 64\nreplications = 1\n'
        'outcomes = ["refusal_rate", "completion_rate"]\n'
        '[uncertainties]\n"review.sovereignty_refusal" = [0.1, 0.6]\n'
        '"agencies.central_authority_capacity" = [0.05, 2.0]\n'
        '[overrides]\n"run.years" = 1.0\n"run.warmup_years" = 0.0\n"world.n_states" = 8\n'
    )
    return exp


def test_sweep_sample_size_is_checked_before_anything_runs(tmp_path, capsys):
    out = tmp_path / "res"
    code = main(["sweep", str(_sobol_file(tmp_path)), "--sample-size", "12", "--out", str(out)])
    assert code == 2
    assert "sample_size: a sobol design needs a power of 2" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.slow
def test_sweep_sample_size_option_and_the_stored_warnings(tmp_path, capsys):
    out = tmp_path / "res"
    exp = _sobol_file(tmp_path)
    code = main(["sweep", str(exp), "--sample-size", "2", "--workers", "1", "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 0
    assert len(pd.read_parquet(out / "outcomes.parquet")) == 2 * (2 + 2)
    stored = pd.read_csv(out / "sensitivity.csv")
    assert "warning" in stored.columns
    flagged = stored["warning"].notna()  # an empty cell (no warning) reads as NaN
    assert flagged.any()
    assert captured.err.count("warning: sobol indices of") == len(
        stored[flagged].groupby(["outcome", "policy"])
    )
    assert np.isfinite(stored["S1"]).any()
