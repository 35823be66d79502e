"""Signals: SIGINT and SIGTERM stop a sweep within seconds keeping every finished run;
the workers of a SIGKILLed sweep die with it; results stream back run by run.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from conftest import ok_runs_stored

from sim.cli import main
from sim.experiment import ProcessExecutor
from sim.store import load_results

ROOT = Path(__file__).resolve().parent.parent
# Runs of 8 simulated years of 40 states (about 0.25 s each on one core): after the first
# runs are stored, the rest of the sweep still needs seconds, so the signal always lands
# mid-sweep even when the test process is starved of CPU by the other test worker. (Runs
# of 2 years of 10 states became so fast that a whole sweep was stored before the test
# saw its first runs, and the signal landed after the sweep had finished.)
REPS = 10
PLANNED = 2 * REPS


@pytest.fixture(scope="module")
def experiment_file(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sig")
    (folder / "tiny.toml").write_text(
        'extends = "baseline"\nname = "tiny"\n[world]\nn_states = 40\n'
        "[run]\nyears = 8.0\nwarmup_years = 0.0\n"
    )
    (folder / "faster.toml").write_text(
        'extends = "tiny.toml"\nname = "faster"\n[agencies]\ncentral_authority_capacity = 5.0\n'
    )
    path = folder / "sig.toml"
    path.write_text(
        f'name = "sig"\nreplications = {REPS}\nbase_seed = 7\noutcomes = ["completion_rate"]\n'
        '[levers]\nscenarios = ["tiny.toml", "faster.toml"]\n'
    )
    return path


def _start(exp: Path, out: Path, workers: int, *extra: str) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "sim.cli", "sweep", str(exp), "--workers", str(workers)]
    return subprocess.Popen(
        [*cmd, "--out", str(out), *extra],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def _wait_for_runs(proc: subprocess.Popen, out: Path, n: int) -> None:
    deadline = time.monotonic() + 120
    while proc.poll() is None and time.monotonic() < deadline and ok_runs_stored(out) < n:
        time.sleep(0.02)
    assert proc.poll() is None, f"the sweep ended too early: {proc.stderr.read()[-2000:]}"


def _alive(pids: list[int]) -> list[int]:
    alive = []
    for pid in pids:
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                alive.append(pid)
        except psutil.NoSuchProcess:
            pass
    return alive


def _workers_of(proc: subprocess.Popen, n: int) -> list[int]:
    """The sweep's worker processes (spawned Python processes running a pool worker)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        kids = psutil.Process(proc.pid).children(recursive=True)
        workers = [k.pid for k in kids if "resource_tracker" not in " ".join(k.cmdline())]
        if len(workers) >= n:
            return workers
        time.sleep(0.05)
    raise AssertionError("the worker processes did not start")


def _kill_group(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)


@pytest.mark.slow
@pytest.mark.parametrize(("sig", "workers"), [("SIGINT", 2), ("SIGTERM", 1)])
def test_signal_stops_within_seconds_keeps_finished_runs_and_resume_completes(
    sig, workers, experiment_file, tmp_path
):
    out = tmp_path / "r"
    proc = _start(experiment_file, out, workers)
    try:
        _wait_for_runs(proc, out, 2)
        pool = _workers_of(proc, workers) if workers > 1 else []
        stored_before = ok_runs_stored(out)
        sent = time.monotonic()
        os.kill(proc.pid, getattr(signal, sig))  # the parent only, as a scheduler does
        code = proc.wait(timeout=10)  # raises TimeoutExpired if it takes longer
        took = time.monotonic() - sent
        err = proc.stderr.read()
    finally:
        _kill_group(proc)
    signum = int(getattr(signal, sig))
    assert code == 128 + signum, err[-2000:]
    assert took < 10
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "interrupted"
    kept = ok_runs_stored(out)
    assert stored_before <= kept < PLANNED
    assert f"interrupted ({sig}): {kept} of {PLANNED} runs are stored in {out}" in err
    assert "Traceback" not in err
    time.sleep(1.0)
    assert _alive(pool) == []  # the workers stopped with the sweep
    partial = load_results(out)
    assert len(partial.outcomes) == kept
    print(f"\n{sig}: exit after {took:.2f} s, {kept} runs kept ({stored_before} at the signal)")

    assert main(["sweep", str(experiment_file), "--workers", "1", "--out", str(out)]) == 0
    results = load_results(out)
    assert results.manifest["status"] == "complete"
    assert len(results.outcomes) == PLANNED and results.outcomes["run_id"].is_unique
    assert set(results.outcomes["run_id"]) == set(results.plan["run_id"])
    ok = results.runs[results.runs["status"] == "ok"]
    assert ok["run_id"].is_unique and len(ok) == PLANNED  # no run done twice
    assert results.manifest["sessions"][-1]["ran"] == PLANNED - kept


@pytest.mark.slow
@pytest.mark.parametrize("extra", [[], ["--dask-local"]], ids=["processes", "dask-local"])
def test_workers_die_when_the_sweep_is_sigkilled(extra, experiment_file, tmp_path):
    out = tmp_path / "r"
    proc = _start(experiment_file, out, 2, *extra)
    try:
        _wait_for_runs(proc, out, 1)
        pool = _workers_of(proc, 2)
        assert len(_alive(pool)) >= 2
        killed = time.monotonic()
        os.kill(proc.pid, signal.SIGKILL)  # the parent only: nobody closes the pool
        proc.wait(timeout=10)
        deadline = killed + 5
        while _alive(pool) and time.monotonic() < deadline:
            time.sleep(0.05)
        left = _alive(pool)
    finally:
        _kill_group(proc)
    assert left == [], f"workers still running 5 s after the parent died: {left}"
    print(f"\nworkers gone {time.monotonic() - killed:.2f} s after SIGKILL of the parent")


def _wait_for_release(item: tuple[int, str]) -> str:
    """Item 0 returns at once; item 1 waits for a file the test writes after item 0 arrives."""
    index, flag = item
    if index == 0:
        return "first"
    deadline = time.monotonic() + 30
    while not os.path.exists(flag):
        if time.monotonic() > deadline:
            return "timed out: results came back per chunk, not per run"
        time.sleep(0.01)
    return "released"


def test_process_pool_returns_each_run_as_it_finishes_not_per_chunk(tmp_path):
    flag = str(tmp_path / "release")
    executor = ProcessExecutor(1, chunks_per_worker=1)
    items = [(0, flag), (1, flag)]
    assert executor.chunks(items) == [items]  # both runs in one chunk
    results = []
    with executor:
        for item, result in executor.map_unordered(_wait_for_release, items):
            results.append((item[0], result))
            if item[0] == 0:
                Path(flag).touch()
    assert results == [(0, "first"), (1, "released")]


def _unsendable(item: int):
    """A result the worker cannot send back (a lambda does not pickle)."""
    return lambda: item


@pytest.mark.slow
def test_a_result_that_cannot_be_sent_back_is_a_failure_not_a_hang():
    executor = ProcessExecutor(1, lost_result_seconds=1.0)
    with executor:
        results = list(executor.map_unordered(_unsendable, [1, 2]))
    assert sorted(item for item, _ in results) == [1, 2]
    for _, result in results:
        assert isinstance(result, RuntimeError) and "lost in transit" in str(result)
