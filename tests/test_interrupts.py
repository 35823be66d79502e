"""Interrupted sweeps: SIGKILL at several points, a kill during a shard write, corrupt shards.

Each case kills a real ``coopsim sweep`` process, resumes it and checks that the final
results equal an uninterrupted run: every planned run exactly once, nothing lost,
nothing duplicated, and no half-written results file ever readable as results.
(The kill after the first shard, with a process pool, is in test_experiment_cli.py.)
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from conftest import ok_runs_stored

from sim.cli import main
from sim.store import load_results

ROOT = Path(__file__).resolve().parent.parent
# 16 runs of a 10-state world over a year (~0.2 s each on one core): the sweep stores
# them every 0.5 s, a few at a time, so a kill after most of them still lands before
# the last ones are stored.
REPS = 8
PLANNED = 2 * REPS
KILL_POINTS = {"before_any_shard": 0.0, "after_some": 0.25, "after_most": 0.6}
COUNTS = {"kill_points": 0}


@pytest.fixture(scope="module")
def experiment_file(tmp_path_factory):
    folder = tmp_path_factory.mktemp("exp")
    (folder / "tiny.toml").write_text(
        'extends = "baseline"\nname = "tiny"\n[world]\nn_states = 10\n'
        "[run]\nyears = 1.0\nwarmup_years = 0.0\n"
    )
    (folder / "faster.toml").write_text(
        'extends = "tiny.toml"\nname = "faster"\n[agencies]\ncentral_authority_capacity = 5.0\n'
    )
    path = folder / "kill.toml"
    path.write_text(
        f'name = "kill"\nreplications = {REPS}\nbase_seed = 5\n'
        'outcomes = ["completion_rate"]\n'
        '[levers]\nscenarios = ["tiny.toml", "faster.toml"]\n'
    )
    return path


@pytest.fixture(scope="module")
def uninterrupted(experiment_file, tmp_path_factory):
    out = tmp_path_factory.mktemp("ref") / "r"
    assert main(["sweep", str(experiment_file), "--workers", "1", "--out", str(out)]) == 0
    results = load_results(out)
    assert len(results.outcomes) == PLANNED
    return results


def _spawn(argv: list[str], **kw) -> subprocess.Popen:
    return subprocess.Popen(
        argv,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
        **kw,
    )


# A sweep that stores every run as it ends (a shard each) and takes at least 0.1 s a
# run: the kill points land between runs however fast the model runs.
PACED_SWEEP = textwrap.dedent(
    """
    import sys, time
    import sim.experiment_run as experiment_run
    store_class, execute_run = experiment_run.ExperimentStore, experiment_run.execute_run

    def paced(*args):
        time.sleep(0.1)
        return execute_run(*args)

    experiment_run.ExperimentStore = lambda out, flush_seconds: store_class(out, 0.0)
    experiment_run.execute_run = paced
    from sim.cli import main
    sys.exit(main(sys.argv[1:]))
    """
)


def _sweep_cmd(exp: Path, out: Path) -> list[str]:
    # serial (one process), a shard per run, so many kill points
    argv = ["sweep", str(exp), "--workers", "1", "--out", str(out)]
    return [sys.executable, "-c", PACED_SWEEP, *argv]


def _kill(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)


def assert_no_half_written_files(out: Path) -> None:
    """Every results file that has its final name is complete and readable."""
    json.loads((out / "manifest.json").read_text())
    for path in [*out.glob("*.parquet"), *(out / "runs").glob("*.parquet")]:
        pq.read_table(path)  # raises on a truncated file


def assert_same_as_uninterrupted(out: Path, reference) -> None:
    results = load_results(out)
    assert results.manifest["status"] == "complete"
    assert len(results.outcomes) == PLANNED
    assert results.outcomes["run_id"].is_unique
    assert set(results.outcomes["run_id"]) == set(results.plan["run_id"])
    ok = results.runs[results.runs["status"] == "ok"]
    assert ok["run_id"].is_unique and len(ok) == PLANNED, "a run was done twice"
    pd.testing.assert_frame_equal(results.outcomes, reference.outcomes)


@pytest.mark.parametrize("point", sorted(KILL_POINTS))
def test_sigkill_at_a_point_then_resume_equals_an_uninterrupted_run(
    point, experiment_file, uninterrupted, tmp_path
):
    share = KILL_POINTS[point]
    out = tmp_path / "r"
    proc = _spawn(_sweep_cmd(experiment_file, out))
    try:
        deadline = time.monotonic() + 120
        while proc.poll() is None and time.monotonic() < deadline:
            if share == 0.0 and (out / "manifest.json").is_file():
                break
            if share > 0 and ok_runs_stored(out) >= share * PLANNED:
                break
            time.sleep(0.01)
        assert proc.poll() is None, f"finished before the kill: {proc.stderr.read()[-2000:]}"
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        _kill(proc)
    COUNTS["kill_points"] += 1
    assert_no_half_written_files(out)
    partial = load_results(out)
    assert partial.manifest["status"] == "running"
    assert len(partial.outcomes) < PLANNED
    if share > 0:
        assert len(partial.outcomes) >= share * PLANNED
    assert main(["sweep", str(experiment_file), "--workers", "1", "--out", str(out)]) == 0
    assert_same_as_uninterrupted(out, uninterrupted)
    session = load_results(out).manifest["sessions"][-1]
    assert session["kept"] == len(partial.outcomes)
    assert session["resumed"] == (len(partial.outcomes) > 0)
    assert session["ran"] == PLANNED - len(partial.outcomes)  # none twice, none lost
    # a second resume of a complete sweep runs nothing, keeping every run
    assert main(["sweep", str(experiment_file), "--workers", "1", "--out", str(out)]) == 0
    session = load_results(out).manifest["sessions"][-1]
    assert (session["ran"], session["kept"], session["resumed"]) == (0, PLANNED, True)


def test_repeated_kills_then_resume(experiment_file, uninterrupted, tmp_path):
    """Killed three times in a row, each time after a little more progress."""
    out = tmp_path / "r"
    for target in (2, 8, 16):
        proc = _spawn(_sweep_cmd(experiment_file, out))
        try:
            deadline = time.monotonic() + 120
            while proc.poll() is None and time.monotonic() < deadline:
                if ok_runs_stored(out) >= target:
                    break
                time.sleep(0.01)
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                COUNTS["kill_points"] += 1
        finally:
            _kill(proc)
        assert_no_half_written_files(out)
    assert main(["sweep", str(experiment_file), "--workers", "1", "--out", str(out)]) == 0
    assert_same_as_uninterrupted(out, uninterrupted)


# A sweep that kills itself while writing its 3rd shard: the bytes reach the
# temporary file (or, for a file system without atomic rename, the shard itself)
# and then SIGKILL arrives before the rename. Every finished run is flushed at once
# (a shard each), so the 3rd shard comes however fast the runs are.
KILL_DURING_WRITE = textwrap.dedent(
    """
    import os, signal, sys
    import sim.experiment_run as experiment_run
    import sim.store as store
    mode = sys.argv[1]
    store_class = experiment_run.ExperimentStore
    experiment_run.ExperimentStore = lambda out, flush_seconds: store_class(out, 0.0)
    real = store.atomic_write_bytes
    seen = {"shards": 0}

    def dying_write(path, data):
        if path.name.startswith("shard-"):
            seen["shards"] += 1
            if seen["shards"] == 3:
                target = store._temp_sibling(path) if mode == "temp" else path
                with open(target, "wb") as handle:
                    handle.write(data[: len(data) // 2])
                os.kill(os.getpid(), signal.SIGKILL)
        return real(path, data)

    store.atomic_write_bytes = dying_write
    from sim.cli import main
    sys.exit(main(sys.argv[2:]))
    """
)


@pytest.mark.parametrize("mode", ["temp", "torn_shard"])
def test_sigkill_during_a_shard_write(mode, experiment_file, uninterrupted, tmp_path):
    out = tmp_path / "r"
    argv = ["sweep", str(experiment_file), "--workers", "1", "--out", str(out)]
    proc = subprocess.run(
        [sys.executable, "-c", KILL_DURING_WRITE, mode, *argv],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]
    COUNTS["kill_points"] += 1
    shards = sorted((out / "runs").glob("shard-*.parquet"))
    if mode == "temp":
        assert len(shards) == 2  # the half-written temporary never got the shard's name
        assert list((out / "runs").glob(".shard-*.tmp-*"))
        assert_no_half_written_files(out)
    else:
        assert len(shards) == 3
        with pytest.raises(Exception):  # noqa: B017, PT011 - any parquet error
            pq.read_table(shards[-1])
    partial = load_results(out)  # a torn shard is skipped, not fatal
    assert 0 < len(partial.outcomes) < PLANNED
    assert main(argv) == 0
    assert_same_as_uninterrupted(out, uninterrupted)
    if mode == "torn_shard":
        assert len(list((out / "runs").glob("*.corrupt"))) == 1


def test_garbage_and_truncated_shards_are_detected_and_their_runs_redone(
    experiment_file, uninterrupted, tmp_path, monkeypatch
):
    # Every finished run flushed at once (a shard each), however fast the runs are.
    import sim.experiment_run as experiment_run

    store_class = experiment_run.ExperimentStore
    monkeypatch.setattr(
        experiment_run, "ExperimentStore", lambda out, flush_seconds: store_class(out, 0.0)
    )
    out = tmp_path / "r"
    argv = ["sweep", str(experiment_file), "--workers", "1", "--out", str(out)]
    assert main(argv) == 0
    shards = sorted((out / "runs").glob("shard-*.parquet"))
    assert len(shards) >= 2
    lost = sum(len(pq.read_table(s)) for s in shards[:2])
    shards[0].write_bytes(b"\x00garbage, not parquet" * 10)
    data = shards[1].read_bytes()
    shards[1].write_bytes(data[: len(data) // 3])
    assert len(load_results(out).outcomes) == PLANNED - lost
    assert main(argv) == 0
    assert_same_as_uninterrupted(out, uninterrupted)
    assert len(list((out / "runs").glob("*.corrupt"))) == 2
    assert load_results(out).manifest["sessions"][-1]["ran"] == lost


def test_a_corrupt_manifest_is_a_clean_error(experiment_file, tmp_path, capsys):
    # Two runs are enough to write a manifest, corrupt it and start over.
    path = tmp_path / "two.toml"
    path.write_text(
        'name = "two"\nreplications = 2\nbase_seed = 5\noutcomes = ["completion_rate"]\n'
        f'[levers]\nscenarios = ["{experiment_file.parent / "tiny.toml"}"]\n'
    )
    out = tmp_path / "r"
    argv = ["sweep", str(path), "--workers", "1", "--out", str(out)]
    assert main(argv) == 0
    (out / "manifest.json").write_text('{"name": "two", "plan_')
    capsys.readouterr()
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "manifest.json" in err and "--no-resume" in err
    assert main([*argv, "--no-resume"]) == 0
    results = load_results(out)
    assert results.manifest["status"] == "complete" and len(results.outcomes) == 2


def test_report_kill_points():
    print(f"\nkill points tried in this module: {COUNTS['kill_points']}")
