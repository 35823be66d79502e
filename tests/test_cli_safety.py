"""The CLI never loses a user's work: --out safety, early validation, guidance, crash reports."""

from __future__ import annotations

import json
import math
import os
import signal
import time
from importlib.metadata import version
from pathlib import Path

import pandas as pd
import pytest

import sim.cli
from sim.cli import main
from sim.store import load_results

PNG = b"\x89PNG\r\n\x1a\n"
SCENARIOS = Path(sim.cli.__file__).resolve().parent.parent / "scenarios"


def _run(capsys, argv):
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def scen(tmp_path_factory):
    folder = tmp_path_factory.mktemp("scen")
    (folder / "small.toml").write_text(
        'extends = "baseline"\nname = "small"\n[world]\nn_states = 10\n'
        "[run]\nyears = 0.2\nwarmup_years = 0.0\n"
    )
    (folder / "faster.toml").write_text(
        'extends = "small.toml"\nname = "faster"\n[agencies]\ncentral_authority_capacity = 8.0\n'
    )
    (folder / "exp.toml").write_text(
        'name = "exp"\nreplications = 2\nbase_seed = 3\noutcomes = ["completion_rate"]\n'
        '[levers]\nscenarios = ["small.toml", "faster.toml"]\n'
    )
    return folder


@pytest.fixture(scope="module")
def compared(scen, tmp_path_factory):
    """A finished two-policy experiment folder (4 tiny runs)."""
    out = tmp_path_factory.mktemp("cmp") / "res"
    assert main(["sweep", str(scen / "exp.toml"), "--workers", "1", "--out", str(out)]) == 0
    return out


# ------------------------------------------------------------------ --out is a user's file
def _commands_with_out(scen: Path, compared: Path) -> dict[str, list[str]]:
    return {
        "run": ["run", str(scen / "small.toml"), "--years", "0.05"],
        "compare": ["compare", str(scen / "faster.toml"), "--reference", str(scen / "small.toml")]
        + ["--reps", "2", "--workers", "1"],
        "sweep": ["sweep", str(scen / "exp.toml"), "--workers", "1"],
        "plot": ["plot", str(compared)],
        "analyze": ["analyze", str(compared)],
        "facts": ["facts", "--reps", "2"],
        "calibrate": ["calibrate", "--wave1", "10", "--wave2", "10", "--reps", "1"],
    }


COMMANDS = ["run", "compare", "sweep", "plot", "analyze", "facts", "calibrate"]


@pytest.mark.parametrize("command", COMMANDS)
def test_out_that_is_a_file_is_refused_and_left_alone(command, scen, compared, tmp_path, capsys):
    users = tmp_path / "f.txt"
    users.write_text("my notes\n")
    argv = [*_commands_with_out(scen, compared)[command], "--out", str(users)]
    before = _tree(compared)
    code, out, err = _run(capsys, argv)
    assert code == 2, err
    assert users.read_text() == "my notes\n"
    assert err.startswith("error: ") and len(err.strip().splitlines()) == 1
    assert str(users) in err and "is a file" in err and "--force" in err
    assert "Traceback" not in err and "Errno" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.txt"]  # nothing else written
    assert _tree(compared) == before


@pytest.mark.parametrize("command", COMMANDS)
def test_out_that_is_a_foreign_folder_is_refused_and_left_alone(
    command, scen, compared, tmp_path, capsys
):
    folder = tmp_path / "thesis"
    folder.mkdir()
    (folder / "chapter1.docx").write_bytes(b"draft")
    argv = [*_commands_with_out(scen, compared)[command], "--out", str(folder)]
    code, _, err = _run(capsys, argv)
    assert code == 2, err
    assert _tree(folder) == {"chapter1.docx": b"draft"}
    assert str(folder) in err and "did not write" in err and "chapter1.docx" in err


def test_run_force_moves_the_file_aside_and_says_so(scen, tmp_path, capsys):
    users = tmp_path / "f.txt"
    users.write_text("my notes\n")
    argv = ["run", str(scen / "small.toml"), "--years", "0.05", "--out", str(users), "--force"]
    code, _, err = _run(capsys, argv)
    assert code == 0, err
    assert (users / "outcomes.json").is_file()  # the run's folder took the name
    moved = [p for p in tmp_path.iterdir() if p.name.startswith("f.txt.replaced-")]
    assert len(moved) == 1 and moved[0].read_text() == "my notes\n"
    assert str(moved[0]) in err and "moved your file" in err


def test_run_force_into_a_foreign_folder_keeps_it_aside(scen, tmp_path, capsys):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "keep.txt").write_text("x")
    argv = ["run", str(scen / "small.toml"), "--years", "0.05", "--out", str(folder), "--force"]
    code, _, err = _run(capsys, argv)
    assert code == 0, err
    assert (folder / "manifest.json").is_file() and not (folder / "keep.txt").exists()
    (moved,) = [p for p in tmp_path.iterdir() if p.name.startswith("mine.replaced-")]
    assert (moved / "keep.txt").read_text() == "x" and str(moved) in err


def test_run_may_replace_its_own_folder(scen, tmp_path, capsys):
    out = tmp_path / "r"
    argv = ["run", str(scen / "small.toml"), "--years", "0.05", "--out", str(out), "--json"]
    assert _run(capsys, argv)[0] == 0
    code, printed, err = _run(capsys, [*argv[:2], "--years", "0.1", *argv[4:]])
    assert code == 0, err
    assert json.loads((out / "outcomes.json").read_text()) == json.loads(printed)


@pytest.mark.slow
def test_sweep_force_into_a_foreign_folder_keeps_the_users_files(scen, tmp_path, capsys):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "notes.txt").write_text("x")
    argv = ["sweep", str(scen / "exp.toml"), "--workers", "1", "--out", str(folder), "--force"]
    code, _, err = _run(capsys, argv)
    assert code == 0, err
    assert (folder / "notes.txt").read_text() == "x"
    assert len(load_results(folder).outcomes) == 4
    assert "--force" in err and str(folder) in err


# ------------------------------------------------------------------ analyze and the forest plot
def test_analyze_writes_its_own_folder_and_draws_every_outcome(compared, capsys):
    before = _tree(compared)
    patterns = ["completion_rate*", "median_response_days.*", "mean_trust"]
    code, out, err = _run(capsys, ["analyze", str(compared), "--outcomes", *patterns])
    assert code == 0, err
    after = _tree(compared)
    assert {k: v for k, v in after.items() if k in before} == before  # nothing overwritten
    table = pd.read_csv(compared / "analysis" / "comparison.csv")
    outcomes = list(dict.fromkeys(table["outcome"]))
    assert len(outcomes) > 12  # more than one page of panels
    pages = math.ceil(len(outcomes) / 12)
    names = ["comparison.png"] + [f"comparison-{n}.png" for n in range(2, pages + 1)]
    for name in names:
        assert (compared / "analysis" / name).read_bytes()[:8] == PNG
    assert not (compared / "analysis" / f"comparison-{pages + 1}.png").exists()
    # a narrower analysis later replaces the extra pages it no longer has
    assert main(["analyze", str(compared), "--outcomes", "completion_rate"]) == 0
    assert sorted(p.name for p in (compared / "analysis").glob("comparison*.png")) == [
        "comparison.png"
    ]


def test_analyze_unknown_outcome_suggests_and_writes_nothing(compared, capsys):
    before = _tree(compared)
    code, _, err = _run(capsys, ["analyze", str(compared), "--outcomes", "completion_rat"])
    assert code == 2
    assert "completion_rat" in err and "did you mean 'completion_rate'" in err
    assert _tree(compared) == before


# ------------------------------------------------------------------ experiments validated first
def test_unknown_outcome_in_an_experiment_is_refused_before_any_run(scen, tmp_path, capsys):
    exp = tmp_path / "bad.toml"
    exp.write_text(
        'name = "bad"\nreplications = 2\noutcomes = ["completion_rate", "mean_trst"]\n'
        f'[levers]\nscenarios = ["{scen / "small.toml"}"]\n'
    )
    out = tmp_path / "res"
    code, _, err = _run(capsys, ["sweep", str(exp), "--workers", "1", "--out", str(out)])
    assert code == 2
    assert str(exp) in err and "outcomes" in err and "did you mean 'mean_trust'" in err
    assert not out.exists()
    code, _, err = _run(capsys, ["validate", str(exp)])
    assert code == 2 and "mean_trst" in err and "unknown key" not in err


def test_misspelt_experiment_key_and_reference_get_suggestions(scen, tmp_path, capsys):
    exp = tmp_path / "bad.toml"
    exp.write_text(
        f'name = "bad"\nreplicatons = 2\n[levers]\nscenarios = ["{scen / "small.toml"}"]\n'
    )
    code, _, err = _run(capsys, ["validate", str(exp)])
    assert code == 2 and "replicatons" in err and "did you mean 'replications'" in err
    exp.write_text(
        f'name = "bad"\nreference = "smal"\n[levers]\nscenarios = ["{scen / "small.toml"}"]\n'
    )
    code, _, err = _run(capsys, ["validate", str(exp)])
    assert code == 2 and "did you mean 'small'" in err
    exp.write_text('name = "bad"\n[levers]\nscenarios = ["baseline", "nsc_lw"]\n')
    code, _, err = _run(capsys, ["validate", str(exp)])
    assert code == 2 and "levers.scenarios[1]" in err and "did you mean 'nsc_law'" in err


def test_validate_recognises_experiment_files(scen, capsys):
    shipped = sorted((Path(sim.cli.__file__).parent.parent / "experiments").glob("*.toml"))
    code, out, err = _run(capsys, ["validate", str(scen / "exp.toml"), *map(str, shipped)])
    assert code == 0, err
    assert f"{scen / 'exp.toml'}: ok (experiment 'exp': 2 policies x 1 design points" in out
    assert out.count(": ok (experiment") == 1 + len(shipped)


# ------------------------------------------------------------------ guidance
@pytest.mark.parametrize(
    ("argv", "typed", "suggestion", "where"),
    [
        (["run", "baselin"], "baselin", "baseline", "run: SCENARIO"),
        (["describe", "nsc_lw"], "nsc_lw", "nsc_law", "describe: SCENARIO"),
        (["compare", "nsc_lw", "--workers", "1"], "nsc_lw", "nsc_law", "compare: SCENARIO"),
        (["compare", "nsc_law", "--reference", "baselne"], "baselne", "baseline", "--reference"),
        (["sweep", "sobol_baselin"], "sobol_baselin", "sobol_baseline", "sweep: EXPERIMENT"),
        (
            ["run", str(SCENARIOS / "baselin.toml")],
            "baselin.toml",
            "baseline.toml",
            "run: SCENARIO",
        ),
    ],
)
def test_misspelt_names_get_did_you_mean_and_the_shipped_list(
    argv, typed, suggestion, where, capsys, tmp_path
):
    code, out, err = _run(
        capsys, [*argv, "--out", str(tmp_path / "o")] if "compare" in argv else argv
    )
    assert code == 2 and out == ""
    assert typed in err and f"did you mean '{suggestion}'" in err and where in err
    assert "compare_packages.toml" not in err  # blames what the user typed
    assert "shipped" in err and ("mutual_recognition" in err or "morris_baseline" in err)
    assert not (tmp_path / "o").exists()


def test_version_comes_from_package_metadata(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"coopsim {version('coopsim')}"


def test_describe_prints_unit_range_and_meaning(capsys):
    code, out, _ = _run(capsys, ["describe", "baseline"])
    assert code == 0
    line = next(ln for ln in out.splitlines() if ln.startswith("n_states = "))
    assert line == "n_states = 40  # states; 1-400; Number of states in a synthetic world."


def test_an_internal_error_is_one_line_and_a_crash_report(monkeypatch, tmp_path, capsys):
    def broken(args):
        raise ZeroDivisionError("boom in the code")

    monkeypatch.setattr(sim.cli, "cmd_scenarios", broken)
    monkeypatch.setenv("COOPSIM_CRASH_DIR", str(tmp_path / "crashes"))
    code, out, err = _run(capsys, ["scenarios"])
    assert code == 1 and out == ""
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert "internal error (ZeroDivisionError: boom in the code)" in err
    (report,) = (tmp_path / "crashes").iterdir()
    assert str(report) in err
    text = report.read_text()
    assert "Traceback" in text and "boom in the code" in text and "coopsim scenarios" in text


def test_bad_input_is_still_exit_2_without_a_crash_report(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("COOPSIM_CRASH_DIR", str(tmp_path / "crashes"))
    code, _, err = _run(capsys, ["run", str(tmp_path / "nope.toml")])
    assert code == 2 and "nope.toml" in err
    assert not (tmp_path / "crashes").exists()


@pytest.mark.slow
def test_compare_again_with_the_same_plan_resumes_instead_of_starting_over(scen, tmp_path, capsys):
    out = tmp_path / "cmp"
    argv = ["compare", str(scen / "faster.toml"), "--reference", str(scen / "small.toml")]
    argv += ["--years", "0.1", "--reps", "2", "--workers", "1", "--out", str(out)]
    assert _run(capsys, argv)[0] == 0
    assert _run(capsys, argv)[0] == 0
    sessions = load_results(out).manifest["sessions"]
    assert len(sessions) == 2 and sessions[-1]["ran"] == 0  # nothing redone, nothing lost
    # Another plan (more replications) into the folder compare wrote starts over there;
    # the earlier results, their comparison table and figure go next to it, whole.
    (out / "analysis").mkdir()
    (out / "analysis" / "comparison.csv").write_text("outcome\n")
    earlier = _tree(out)
    code, _, err = _run(capsys, [*argv[:6], "--reps", "3", *argv[8:]])
    assert code == 0
    results = load_results(out)
    assert len(results.outcomes) == 6 and len(results.manifest["sessions"]) == 1
    assert not (out / "analysis").exists()  # no table of the earlier plan left beside it
    (aside,) = tmp_path.glob("cmp.replaced-*")
    assert f"moved to {aside}" in err
    kept = _tree(aside)
    assert {name: kept[name] for name in earlier} == earlier
    assert len(load_results(aside).outcomes) == 4
    # Resuming another plan is refused, saying how this command starts over.
    code, _, err = _run(capsys, [*argv[:6], "--reps", "2", *argv[8:], "--resume"])
    assert code == 2 and "leave out --resume" in err


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_while_the_tables_are_written_keeps_every_run_and_says_so(
    signum, code, scen, tmp_path, capsys, monkeypatch
):
    import sim.analysis

    analyze = sim.analysis.analyze

    def interrupted(results):
        os.kill(os.getpid(), signum)
        time.sleep(5)  # the signal's handler raises here
        raise AssertionError("the signal did not interrupt the tables")

    out = tmp_path / "res"
    argv = ["sweep", str(scen / "exp.toml"), "--workers", "1", "--out", str(out)]
    monkeypatch.setattr(sim.analysis, "analyze", interrupted)
    got, _, err = _run(capsys, argv)
    assert got == code
    name = signal.Signals(signum).name
    assert f"interrupted ({name}): 4 of 4 runs are stored in {out}" in err
    assert "run the same command again to finish" in err
    assert load_results(out).manifest["status"] == "complete"
    monkeypatch.setattr(sim.analysis, "analyze", analyze)
    assert _run(capsys, argv)[0] == 0
    assert (out / "comparison.csv").is_file()
    assert load_results(out).manifest["sessions"][-1]["ran"] == 0


def test_a_world_of_one_state_runs_and_prints_its_summary(tmp_path, capsys):
    # The schema allows one state; no pair of states means no trust to average.
    lone = tmp_path / "lone.toml"
    lone.write_text('extends = "baseline"\nname = "lone"\n[world]\nn_states = 1\n')
    code, out, err = _run(capsys, ["run", str(lone), "--years", "0.05", "--warmup-years", "0"])
    assert code == 0, err
    assert "mean trust" in out and "n/a" in out.split("mean trust")[1].splitlines()[0]


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["run", "baseline", "--jsn"], "coopsim run: error: unrecognized arguments: --jsn"),
        (["--json", "run", "baseline"], "--json (options go after the command)"),
        (["run", "baseline", "--years", "0"], "argument --years: allowed 0.01-50, found 0.0"),
        (["sweep", str(SCENARIOS / "baseline.toml")], "a scenario file, not an experiment file"),
        (["robust", str(SCENARIOS / "baseline.toml")], "a scenario file, not a robustness file"),
        (["robust", "nosuch"], "shipped robustness files: robust_packages\n"),
        (
            ["run", str(SCENARIOS.parent / "experiments" / "sweep_capacity.toml")],
            "an experiment file, not a scenario",
        ),
        (["run", str(SCENARIOS)], "a folder, not a scenario file"),
        (
            ["compare", "nsc_law", "--reps", "3", "--parameter-uncertainty"],
            "--reps 3 is not a multiple of --seeds-per-draw 2",
        ),
    ],
)
def test_bad_commands_are_named_as_the_user_typed_them(argv, expected, tmp_path, capsys):
    if argv[0] == "compare":
        argv = [*argv, "--out", str(tmp_path / "out")]
    try:
        code = main(argv)
    except SystemExit as stop:  # argparse's own errors
        code = stop.code
    err = capsys.readouterr().err
    assert code == 2 and expected in err, err
    assert "--years: --years" not in err
    assert not (tmp_path / "out").exists()


def test_an_interrupted_fresh_start_says_to_run_again_without_no_resume(
    scen, tmp_path, capsys, monkeypatch
):
    import sim.analysis

    def interrupted(results):
        raise KeyboardInterrupt

    monkeypatch.setattr(sim.analysis, "analyze", interrupted)
    argv = ["sweep", str(scen / "exp.toml"), "--workers", "1", "--out", str(tmp_path / "r")]
    code, _, err = _run(capsys, [*argv, "--no-resume"])
    assert code == 130 and "run the same command without --no-resume to finish" in err


def test_starting_over_moves_the_manifest_last_and_works_from_inside_the_folder(
    scen, tmp_path, capsys, monkeypatch
):
    # The manifest goes last: a folder that has one is whole. And `--out .` (or a link)
    # puts the earlier results next to the folder itself.
    import shutil

    from sim.cli_results import set_aside_results

    out = tmp_path / "res"
    argv = ["sweep", str(scen / "exp.toml"), "--workers", "1", "--out", str(out)]
    assert _run(capsys, argv)[0] == 0
    moves = []
    move = shutil.move
    monkeypatch.setattr(shutil, "move", lambda a, b: moves.append(Path(a).name) or move(a, b))
    monkeypatch.chdir(out)
    aside = set_aside_results(Path("."))
    assert aside.parent == tmp_path and moves[-1] == "manifest.json" and len(moves) > 3
    assert len(load_results(aside).outcomes) == 4
    assert not (out / "runs").exists() and not (out / "manifest.json").exists()


def test_a_misspelt_file_is_offered_only_files_of_its_kind(tmp_path, capsys):
    (tmp_path / "s_bool.toml").write_text((SCENARIOS / "baseline.toml").read_text())
    code, _, err = _run(capsys, ["sweep", str(tmp_path / "s_boo.toml")])
    assert code == 2 and "experiment file not found" in err and "s_bool.toml" not in err
    code, _, err = _run(capsys, ["run", str(tmp_path / "s_boo.toml")])
    assert code == 2 and "did you mean 's_bool.toml'" in err
