"""The compare, sweep and analyze commands, and resume after a SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

import sim
from sim.cli import main
from sim.experiment import load_experiment, run_experiment
from sim.store import load_results

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def small_scenarios(tmp_path):
    (tmp_path / "small.toml").write_text(
        'extends = "baseline"\nname = "small"\n[world]\nn_states = 12\n'
        "[run]\nyears = 0.5\nwarmup_years = 0.0\n"
    )
    (tmp_path / "faster.toml").write_text(
        'extends = "small.toml"\nname = "faster"\n[agencies]\ncentral_authority_capacity = 8.0\n'
    )
    (tmp_path / "slower.toml").write_text(
        'extends = "small.toml"\nname = "slower"\n[agencies]\ncentral_authority_capacity = 1.0\n'
    )
    return tmp_path


def test_compare_prints_a_table_and_writes_csv_and_png(small_scenarios, tmp_path, capsys):
    out = tmp_path / "cmp"
    s = small_scenarios
    code = main(
        [
            "compare",
            str(s / "faster.toml"),
            str(s / "slower.toml"),
            "--reference",
            str(s / "small.toml"),
            "--reps",
            "3",
            "--years",
            "0.5",
            "--workers",
            "1",
            "--out",
            str(out),
        ]
    )
    printed = capsys.readouterr().out
    assert code == 0
    assert "95% CI" in printed and "faster" in printed and "slower" in printed
    table = pd.read_csv(out / "comparison.csv")
    assert set(table["policy"]) == {"faster", "slower"}
    assert {"difference", "ci_low", "ci_high", "effect_size", "mean_reference"} <= set(table)
    assert (out / "comparison.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    results = load_results(out)
    assert len(results.outcomes) == 9 and results.manifest["reference"] == "small"
    # analyze reproduces the comparison from the stored results, in its own subfolder,
    # leaving what compare wrote as it was
    written = {p: p.read_bytes() for p in (out / "comparison.csv", out / "comparison.png")}
    assert main(["analyze", str(out), "--outcomes", "completion_rate"]) == 0
    again = pd.read_csv(out / "analysis" / "comparison.csv")
    pd.testing.assert_frame_equal(
        again, table[table["outcome"] == "completion_rate"].reset_index(drop=True)
    )
    assert {p: p.read_bytes() for p in written} == written


def test_compare_rejects_unknown_scenarios_without_writing(tmp_path, capsys):
    out = tmp_path / "cmp"
    assert main(["compare", "no_such_reform", "--out", str(out), "--workers", "1"]) == 2
    assert "no_such_reform" in capsys.readouterr().err
    assert not out.exists()


def test_sweep_refuses_to_resume_into_another_experiment(small_scenarios, tmp_path, capsys):
    exp = tmp_path / "a.toml"
    exp.write_text(
        f'name = "a"\nreplications = 2\n'
        f'[levers]\nscenarios = ["{small_scenarios / "small.toml"}"]\n'
    )
    out = tmp_path / "res"
    assert main(["sweep", str(exp), "--workers", "1", "--out", str(out)]) == 0
    exp.write_text(exp.read_text().replace("replications = 2", "replications = 3"))
    before = sorted(p.name for p in (out / "runs").iterdir())
    assert main(["sweep", str(exp), "--workers", "1", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "different experiment plan" in err
    assert "add --no-resume (the earlier results are moved aside" in err
    assert sorted(p.name for p in (out / "runs").iterdir()) == before
    assert main(["sweep", str(exp), "--workers", "1", "--out", str(out), "--no-resume"]) == 0
    assert len(load_results(out).outcomes) == 3
    # Started over, the earlier results are kept next to it, whole, not deleted.
    (aside,) = tmp_path.glob("res.replaced-*")
    assert f"moved to {aside}" in capsys.readouterr().err
    earlier = load_results(aside)
    assert (
        len(earlier.outcomes) == 2 and sorted(p.name for p in (aside / "runs").iterdir()) == before
    )


def test_sweep_killed_midway_resumes_to_exactly_the_planned_runs(small_scenarios, tmp_path):
    exp = tmp_path / "kill.toml"
    exp.write_text(
        'name = "kill"\nreplications = 4\noutcomes = ["completion_rate"]\n'
        'base_seed = 9\ndesign = "grid"\nlevels = 2\n'
        # one-year runs (~0.15 s): the first shard is written while most runs are still to do
        '[overrides]\n"run.years" = 1.0\n'
        '[uncertainties]\n"agencies.central_authority_capacity" = [1.0, 6.0]\n'
        f'[levers]\nscenarios = ["{small_scenarios / "small.toml"}", '
        f'"{small_scenarios / "faster.toml"}"]\n'
    )
    planned = 4 * 2 * 2
    out = tmp_path / "killed"
    cmd = [sys.executable, "-m", "sim.cli", "sweep", str(exp), "--workers", "2", "--out", str(out)]
    proc = subprocess.Popen(
        cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            if any((out / "runs").glob("shard-*.parquet")):
                break
            time.sleep(0.05)
        assert proc.poll() is None, "the sweep finished before it could be killed"
        os.killpg(proc.pid, signal.SIGKILL)  # the sweep and its worker processes
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    partial = load_results(out)
    assert 0 < len(partial.outcomes) < planned
    assert partial.manifest["status"] == "running"

    # Resume (here in this process, serially: the executor does not change results).
    assert main(["sweep", str(exp), "--workers", "1", "--out", str(out)]) == 0
    results = load_results(out)
    assert results.manifest["status"] == "complete" and len(results.manifest["sessions"]) == 2
    assert len(results.outcomes) == planned
    assert results.outcomes["run_id"].is_unique
    assert set(results.outcomes["run_id"]) == set(results.plan["run_id"])
    ok = results.runs[results.runs["status"] == "ok"]
    assert ok["run_id"].is_unique and len(ok) == planned  # no run done twice

    fresh = run_experiment(load_experiment(exp), tmp_path / "fresh", progress=False)
    pd.testing.assert_frame_equal(results.outcomes, fresh.outcomes)


def test_sweep_keeps_only_the_per_agency_series_when_asked(small_scenarios, tmp_path):
    exp = tmp_path / "agencies.toml"
    exp.write_text(
        'name = "agencies"\nreplications = 1\nseries = ["agencies"]\n'
        f'[levers]\nscenarios = ["{small_scenarios / "small.toml"}", '
        f'"{small_scenarios / "slower.toml"}"]\n'
        '[overrides]\n"run.years" = 0.2\n"run.warmup_years" = 0.0\n'
    )
    out = tmp_path / "res"
    assert main(["sweep", str(exp), "--workers", "1", "--out", str(out)]) == 0
    results = load_results(out)
    assert results.series.empty and not (out / "series.parquet").exists()
    stored = pd.read_parquet(out / "agency_series.parquet")
    pd.testing.assert_frame_equal(results.agency_series, stored)
    # Every run's rows equal the model's own frame of a direct run with that seed.
    experiment = load_experiment(exp)
    for row in results.outcomes.itertuples():
        model = sim.run(experiment.target.scenarios[row.policy], seed=row.seed).model
        mine = stored[stored["run_id"] == row.run_id].drop(columns="run_id")
        pd.testing.assert_frame_equal(
            mine.reset_index(drop=True), model.agency_series_frame(), check_categorical=False
        )
    assert stored.groupby("run_id", observed=True).size().nunique() == 1
