"""coopsim robust: regret (Savage), minimax ranking, satisficing (Starr), the plan and the CLI."""

from __future__ import annotations

import math
import re

import pandas as pd
import pytest

from sim.analysis import AnalysisError
from sim.cli import main
from sim.robust import (
    Threshold,
    ThresholdError,
    minimax_regret,
    parse_threshold,
    regret,
    robustness,
    satisficing,
    world_means,
)
from sim.robust_experiment import load_robust, robust_from_dict
from sim.scenario import ScenarioError

CR = "completion_rate"  # higher is better
MLA = "km_median_response_days.mla_evidence"  # lower is better

# Hand example: 2 worlds x 3 options x 2 replications; each option's value is the same in
# both replications, so every mean is exact and every paired difference has no spread.
HAND = {
    # world: {package: (completion rate, MLA median days)}
    "A": {"no_reform": (0.5, 100.0), "p1": (0.6, 80.0), "p2": (0.7, 90.0)},
    "B": {"no_reform": (0.5, 100.0), "p1": (0.8, 120.0), "p2": (0.6, 90.0)},
}


def hand_outcomes() -> pd.DataFrame:
    rows = []
    for w, (world, options) in enumerate(HAND.items()):
        for p, (package, (cr, mla)) in enumerate(options.items()):
            for rep in range(2):
                rows.append(
                    {
                        "policy_index": 3 * w + p,
                        "policy": f"{world}/{package}",
                        "world": world,
                        "package": package,
                        "point": 0,
                        "replication": rep,
                        CR: cr,
                        MLA: mla,
                    }
                )
    return pd.DataFrame(rows)


def _lookup(table: pd.DataFrame, **where) -> pd.Series:
    mask = pd.Series(True, index=table.index)
    for key, value in where.items():
        mask &= table[key] == value
    assert mask.sum() == 1, where
    return table[mask].iloc[0]


# ------------------------------------------------------------------ regret, by hand
@pytest.mark.parametrize(
    ("world", "package", "name", "expected"),
    [
        ("A", "no_reform", CR, 0.2),  # best in A is p2 (0.7)
        ("A", "p1", CR, 0.1),
        ("A", "p2", CR, 0.0),
        ("B", "no_reform", CR, 0.3),  # best in B is p1 (0.8)
        ("B", "p2", CR, 0.2),
        ("A", "no_reform", MLA, 20.0),  # lower is better: best in A is p1 (80 days)
        ("A", "p2", MLA, 10.0),
        ("B", "p1", MLA, 30.0),  # best in B is p2 (90 days)
        ("B", "no_reform", MLA, 10.0),
    ],
)
def test_regret_is_the_shortfall_from_the_best_option_in_the_better_direction(
    world, package, name, expected
):
    row = _lookup(regret(hand_outcomes(), [CR, MLA]), world=world, package=package, outcome=name)
    assert row["regret"] == pytest.approx(expected)
    assert row["regret_ci_low"] == pytest.approx(expected)  # no spread: a point interval
    assert row["n"] == 2


def test_minimax_regret_ranks_by_the_largest_regret_across_worlds():
    ranking = minimax_regret(regret(hand_outcomes(), [CR, MLA]))
    cr = ranking[ranking["outcome"] == CR].set_index("package")
    # max regret: no_reform 0.3 (B), p1 0.1 (A), p2 0.2 (B)
    assert cr["max_regret"].to_dict() == pytest.approx({"p1": 0.1, "p2": 0.2, "no_reform": 0.3})
    assert cr["worst_world"].to_dict() == {"p1": "A", "p2": "B", "no_reform": "B"}
    assert cr["rank"].to_dict() == {"p1": 1, "p2": 2, "no_reform": 3}
    assert list(cr.index) == ["p1", "p2", "no_reform"]  # sorted by rank
    assert cr.loc["no_reform", "mean_regret"] == pytest.approx(0.25)
    mla = ranking[ranking["outcome"] == MLA].set_index("package")
    # max regret: no_reform 20 (A), p1 30 (B), p2 10 (A): the order flips
    assert mla["rank"].to_dict() == {"p2": 1, "no_reform": 2, "p1": 3}
    assert ranking["measure"].str.contains("minimax regret").all()


def test_ties_share_a_rank_and_an_undefined_outcome_gets_none():
    outcomes = hand_outcomes()
    outcomes.loc[(outcomes["world"] == "B") & (outcomes["package"] == "p2"), CR] = 0.7
    outcomes[MLA] = math.nan  # e.g. a median not reached in a short window
    ranking = minimax_regret(regret(outcomes, [CR, MLA]))
    cr = ranking[ranking["outcome"] == CR].set_index("package")
    # p1: max(0.1, 0) = 0.1; p2: max(0, 0.1) = 0.1: tied at rank 1
    assert cr["rank"].to_dict() == {"p1": 1, "p2": 1, "no_reform": 3}
    mla = ranking[ranking["outcome"] == MLA]
    assert mla["rank"].isna().all() and mla["max_regret"].isna().all()


def test_regret_pairs_runs_by_replication_and_drops_a_failed_run():
    outcomes = hand_outcomes()
    # Replication 1 of p2 in A failed (no row): that replication leaves every option of A.
    outcomes = outcomes[~((outcomes["policy"] == "A/p2") & (outcomes["replication"] == 1))]
    outcomes.loc[(outcomes["policy"] == "A/p1") & (outcomes["replication"] == 1), CR] = 0.99
    row = _lookup(regret(outcomes, [CR]), world="A", package="p1", outcome=CR)
    assert row["n"] == 1 and row["regret"] == pytest.approx(0.1)


def test_an_outcome_without_a_better_direction_has_no_regret():
    outcomes = hand_outcomes().assign(requests_total=1.0)
    with pytest.raises(AnalysisError, match="requests_total.*no better direction"):
        regret(outcomes, ["requests_total"])


# ------------------------------------------------------------------ satisficing, by hand
def test_satisficing_is_the_share_of_worlds_meeting_every_threshold():
    thresholds = [parse_threshold(f"{CR}>=0.6"), parse_threshold(f"{MLA}<=95")]
    detail, summary = satisficing(world_means(hand_outcomes(), [CR, MLA]), thresholds)
    # A: no_reform fails (0.5); p1 (0.6, 80) meets both (>= holds at equality); p2 (0.7, 90).
    # B: no_reform fails; p1 (0.8, 120) fails the MLA threshold; p2 (0.6, 90) meets both.
    by = summary.set_index("package")
    assert by["satisficing"].to_dict() == {"p2": 1.0, "p1": 0.5, "no_reform": 0.0}
    assert by["worlds_met"].to_dict() == {"p2": 2, "p1": 1, "no_reform": 0}
    assert by.loc["p1", "not_met_in"] == "B" and by.loc["no_reform", "not_met_in"] == "A, B"
    assert list(summary["package"]) == ["p2", "p1", "no_reform"]
    assert by["measure"].eq("satisficing: domain criterion (Starr)").all()
    cell = _lookup(detail, world="B", package="p1")
    assert bool(cell[f"{CR}>=0.6 met"]) and not bool(cell[f"{MLA}<=95 met"])
    assert not bool(cell["all_met"])


def test_robustness_puts_the_tables_together_with_effects_against_no_reform():
    tables = robustness(hand_outcomes(), [CR], "no_reform", [parse_threshold(f"{CR}>0.55")])
    effect = _lookup(tables["effects"], world="B", package="p1", outcome=CR)
    assert effect["difference"] == pytest.approx(0.3) and effect["ci_low"] == pytest.approx(0.3)
    assert bool(effect["significant"])
    assert set(tables["effects"]["package"]) == {"p1", "p2"}  # the reference is not an effect
    assert tables["satisficing"].set_index("package")["satisficing"]["p2"] == 1.0
    with pytest.raises(AnalysisError, match="world"):
        robustness(hand_outcomes().drop(columns="world"), [CR], "no_reform")


# ------------------------------------------------------------------ thresholds
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("completion_rate>=0.6", Threshold(CR, ">=", 0.6)),
        ("  mean_trust < 0.5 ", Threshold("mean_trust", "<", 0.5)),
        (f"{MLA}<=300", Threshold(MLA, "<=", 300.0)),
        ("leaks>1e-3", Threshold("leaks", ">", 0.001)),
    ],
)
def test_thresholds_parse(text, expected):
    assert parse_threshold(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "completion_rate=0.6",
        "completion_rate>=",
        "completion_rate>=high",
        "completion_rate>=nan",
        "completion_rate>=inf",
        "__import__('os').system('x')>=1",
        "0.6<=completion_rate",
        "completion_rate>=0.6; rm -rf /",
        "",
    ],
)
def test_bad_thresholds_are_refused_naming_the_flag_and_the_form(text):
    with pytest.raises(ThresholdError, match=r"--threshold: .*expected OUTCOME>=NUMBER"):
        parse_threshold(text)


def test_threshold_meets():
    assert Threshold(CR, ">=", 0.6).met(0.6) and not Threshold(CR, ">", 0.6).met(0.6)
    assert Threshold(MLA, "<", 10).met(9.0) and not Threshold(MLA, "<=", 10).met(math.nan)


# ------------------------------------------------------------------ the plan
def tiny_robust(**changes) -> dict:
    data = {
        "name": "tiny_robust",
        "replications": 2,
        "base_seed": 7,
        "outcomes": [CR, "case_resolution_rate"],
        "thresholds": [f"{CR}>=0.1"],
        "worlds": {"baseline": "baseline", "demand_surge": "demand_surge"},
        "packages": {"nsc": "nsc_law_package", "cb": {"capacity_building.enabled": True}},
        "overrides": {"world.n_states": 8, "run.years": 0.5, "run.warmup_years": 0.0},
    }
    return data | changes


def test_every_package_in_every_world_shares_the_seeds_of_its_replication():
    exp = robust_from_dict(tiny_robust())
    plan = exp.plan_frame()
    assert len(plan) == 2 * 3 * 2
    assert exp.packages == ["no_reform", "nsc", "cb"] and exp.worlds == ["baseline", "demand_surge"]
    assert plan.groupby("replication")["seed"].nunique().eq(1).all()  # common random numbers
    assert exp.package_changes["nsc"] == {
        "nsc_law.enabled": True,
        "legal_harmonization.enabled": True,
    }
    scenarios = exp.target.scenarios
    surge_nsc = scenarios["demand_surge/nsc"]
    assert surge_nsc.demand_surge.enabled and surge_nsc.nsc_law.enabled
    assert surge_nsc.world.n_states == 8 and surge_nsc.run.years == 0.5
    assert not scenarios["demand_surge/no_reform"].nsc_law.enabled
    assert scenarios["baseline/cb"].capacity_building.enabled
    assert exp.manifest()["robust"]["thresholds"] == [f"{CR}>=0.1"]


def test_calibrated_draws_cross_each_world_with_accepted_parameter_vectors():
    from sim.accepted_set import load_accepted

    exp = robust_from_dict(tiny_robust(calibrated_draws=2))
    assert exp.worlds == [
        "baseline@draw0",
        "baseline@draw1",
        "demand_surge@draw0",
        "demand_surge@draw1",
    ]
    accepted = load_accepted()
    draws = exp.accepted_source["draws"]
    row = accepted.iloc[draws[1]["accepted_row"]]
    scenario = exp.target.scenarios["demand_surge@draw1/nsc"]
    assert scenario.review.service_days == pytest.approx(row["review.service_days"])
    assert scenario.demand_surge.enabled and scenario.nsc_law.enabled
    with pytest.raises(ScenarioError, match=r"overrides.*review.service_days|worlds\.baseline"):
        robust_from_dict(
            tiny_robust(
                calibrated_draws=1,
                overrides={"review.service_days": 10.0, "world.n_states": 8},
            )
        )


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"wrolds": {}}, "wrolds: unknown key; did you mean 'worlds'"),
        ({"worlds": {"a": "baselin"}}, "worlds.a: cannot use scenario 'baselin'.*did you mean"),
        ({"packages": {"x": {"demand_surge.enabled": True}}}, "packages.x: changes demand_surge"),
        ({"packages": {"x": {"nsc_law.enabled": 3}}}, "packages.x"),
        ({"packages": {"no_reform": "nsc_law"}}, "packages.no_reform: the name of the no-reform"),
        ({"outcomes": ["requests_total"]}, r"outcomes\[0\]: 'requests_total'.*no better direction"),
        ({"outcomes": ["completion_rat"]}, "did you mean 'completion_rate'"),
        ({"thresholds": ["completion_rate = 1"]}, r"thresholds\[0\].*expected OUTCOME>=NUMBER"),
        ({"thresholds": ["completion_rat>=1"]}, r"thresholds\[0\].*did you mean"),
        ({"replications": 1}, "replications"),
        ({"worlds": {}}, "worlds"),
        ({"worlds": {"a/b": "baseline"}}, "without '/'"),
    ],
)
def test_bad_robustness_files_name_the_file_and_key(changes, expected):
    with pytest.raises(ScenarioError, match=expected):
        robust_from_dict(tiny_robust(**changes), source="r.toml")


def test_the_shipped_file_loads_and_a_sweep_of_it_says_to_use_robust():
    from sim.experiment import load_experiment

    exp = load_robust("robust_packages", worlds=["budget_cuts"], packages=["nsc_law_package"])
    assert exp.worlds == ["budget_cuts"] and exp.packages == ["no_reform", "nsc_law_package"]
    with pytest.raises(ScenarioError, match="--worlds: 'budget_cut' .*did you mean"):
        load_robust("robust_packages", worlds=["budget_cut"])
    with pytest.raises(ScenarioError, match="coopsim robust"):
        load_experiment("robust_packages")


# ------------------------------------------------------------------ the command
def _run(capsys, argv):
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def robust_file(write_toml):
    return write_toml(
        "tiny.toml",
        """
name = "tiny"
replications = 2
base_seed = 5
outcomes = ["completion_rate", "case_resolution_rate"]
thresholds = ["completion_rate>=0.05"]
[worlds]
baseline = "baseline"
demand_surge = "demand_surge"
[packages]
nsc = "nsc_law_package"
[packages.cb]
"capacity_building.enabled" = true
[overrides]
"world.n_states" = 8
"run.warmup_years" = 0.0
""",
    )


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--threshold", "completion_rate=0.6"], "--threshold"),
        (["--threshold", "completion_rat>=0.6"], r"--threshold\[0\].*did you mean"),
        (["--outcomes", "requests_total"], r"--outcomes\[0\].*no better direction"),
        (["--packages", "nss"], "--packages: 'nss'.*did you mean 'nsc'"),
        (["--reps", "1"], "--reps"),
    ],
)
def test_bad_arguments_exit_2_and_write_nothing(robust_file, tmp_path, capsys, argv, expected):
    out = tmp_path / "out"
    try:
        code = main(["robust", str(robust_file), "--out", str(out), *argv])
    except SystemExit as exc:  # argparse refuses the value itself
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2
    assert re.search(expected, err), err
    assert not out.exists()


def test_robust_refuses_an_out_it_did_not_write_without_force(robust_file, tmp_path, capsys):
    mine = tmp_path / "mine.txt"
    mine.write_text("my notes")
    code, _, err = _run(capsys, ["robust", str(robust_file), "--out", str(mine), "--years", "0.1"])
    assert code == 2 and "--out" in err and "--force" in err
    assert mine.read_text() == "my notes"
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "paper.tex").write_text("draft")
    code, _, err = _run(capsys, ["robust", str(robust_file), "--out", str(folder)])
    assert code == 2 and "did not write" in err
    assert [p.name for p in folder.iterdir()] == ["paper.tex"]


@pytest.mark.slow
def test_robust_writes_tables_and_heat_map_and_resumes(robust_file, tmp_path, capsys):
    out = tmp_path / "r"
    argv = ["robust", str(robust_file), "--years", "0.5", "--workers", "1", "--out", str(out)]
    code, stdout, err = _run(capsys, argv)
    assert code == 0, err
    for name in (
        "robust_effects.csv",
        "robust_regret.csv",
        "robust_max_regret.csv",
        "robust_satisficing.csv",
        "robust_satisficing_worlds.csv",
        "robust_heatmap.png",
        "outcomes.parquet",
        "manifest.json",
    ):
        assert (out / name).is_file(), name
    assert (out / "robust_heatmap.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "maximum regret (Savage)" in stdout and "domain criterion (Starr)" in stdout
    assert "12 of 12 runs done (2 worlds x 3 options x 2 replications)" in stdout
    effects = pd.read_csv(out / "robust_effects.csv")
    assert len(effects) == 2 * 2 * 2  # worlds x packages x outcomes
    assert effects["measure"].str.startswith("effect").all()
    regrets = pd.read_csv(out / "robust_regret.csv")
    assert (regrets["regret"] >= 0).all()
    assert (regrets.groupby(["world", "outcome"])["regret"].min() == 0).all()
    runs_before = len(pd.read_parquet(out / "runs.parquet"))
    # The same command again: the plan is unchanged, so nothing runs again.
    code, stdout, err = _run(capsys, [*argv, "--heatmap", "effect"])
    assert code == 0, err
    assert len(pd.read_parquet(out / "runs.parquet")) == runs_before == 12
    # coopsim analyze would compare every package-in-world with one reference: refused.
    code, _, err = _run(capsys, ["analyze", str(out)])
    assert code == 2 and "robustness run" in err and "coopsim robust" in err
    assert not (out / "analysis").exists()
