"""A Dask worker killed mid-sweep: the sweep still completes with every run exactly once.

A real ``dask scheduler`` and two ``dask worker`` processes on 127.0.0.1; the sweep
runs in a subprocess (``coopsim sweep --scheduler``); once the workers hold tasks one
worker (nanny and worker process) is SIGKILLed. Dask reschedules its tasks on the
other worker; the results must equal a serial run of the same experiment.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from conftest import ok_runs_stored

from sim.cli import main
from sim.store import load_results

ROOT = Path(__file__).resolve().parent.parent
REPS = 8  # x 2 policies = 16 runs of ~0.07 s (12 states, half a year)
COUNTS = {"worker_failures_survived": 0}


def _dask_cli() -> str | None:
    exe = Path(sys.executable).with_name("dask")
    return str(exe) if exe.exists() else shutil.which("dask")


def _spawn(argv, **kw) -> subprocess.Popen:
    return subprocess.Popen(
        argv,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        **kw,
    )


def _stop(proc: subprocess.Popen, sig=signal.SIGTERM) -> None:
    try:
        os.killpg(proc.pid, sig)
        proc.wait(timeout=15)
    except ProcessLookupError:
        pass
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=15)


@pytest.fixture
def experiment_file(tmp_path):
    (tmp_path / "small.toml").write_text(
        'extends = "baseline"\nname = "small"\n[world]\nn_states = 12\n'
        "[run]\nyears = 0.5\nwarmup_years = 0.0\n"
    )
    (tmp_path / "faster.toml").write_text(
        'extends = "small.toml"\nname = "faster"\n[agencies]\ncentral_authority_capacity = 5.0\n'
    )
    path = tmp_path / "workers.toml"
    path.write_text(
        f'name = "workers"\nreplications = {REPS}\nbase_seed = 21\n'
        'outcomes = ["completion_rate"]\n'
        '[levers]\nscenarios = ["small.toml", "faster.toml"]\n'
    )
    return path


def test_sweep_survives_a_killed_dask_worker(experiment_file, tmp_path):
    dask = _dask_cli()
    if dask is None:
        pytest.skip("the dask command is not installed")
    planned = 2 * REPS
    sched_file = tmp_path / "scheduler.json"
    procs: list[subprocess.Popen] = []
    try:
        procs.append(
            _spawn(
                [dask, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard"]
                + ["--scheduler-file", str(sched_file)]
            )
        )
        deadline = time.monotonic() + 60
        while not sched_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        address = json.loads(sched_file.read_text())["address"]
        assert address.startswith("tcp://127.0.0.1:")
        workers = [
            _spawn(
                [dask, "worker", address, "--nworkers", "1", "--nthreads", "1"]
                + ["--host", "127.0.0.1", "--no-dashboard", "--name", f"w{i}"]
            )
            for i in range(2)
        ]
        procs += workers
        from distributed import Client

        client = Client(address, timeout="30s")
        client.wait_for_workers(2, timeout=60)

        out = tmp_path / "res"
        sweep = _spawn(
            [sys.executable, "-m", "sim.cli", "sweep", str(experiment_file)]
            + ["--scheduler", address, "--out", str(out)]
        )
        procs.append(sweep)
        # Kill a worker as soon as it holds tasks: its first run waits for the worker to
        # import the model (seconds), so the kill lands mid-sweep however fast runs are.
        # (A stored count would not do: the store writes every half second, and short
        # runs can all be done by then.)
        deadline = time.monotonic() + 180
        busy: dict = {}
        while sweep.poll() is None and time.monotonic() < deadline:
            busy = client.processing()
            if any(busy.values()):
                break
            time.sleep(0.02)
        assert sweep.poll() is None, "the sweep ended before a worker could be killed"
        # kill the worker holding the most tasks right now
        victim_addr = max(busy, key=lambda a: len(busy[a]))
        assert busy[victim_addr], f"no worker is processing anything: {busy}"
        name = client.scheduler_info()["workers"][victim_addr]["name"]
        victim = workers[int(str(name).lstrip("w"))]
        done_at_kill = ok_runs_stored(out)
        os.killpg(victim.pid, signal.SIGKILL)  # nanny and its worker process
        victim.wait(timeout=30)
        COUNTS["worker_failures_survived"] += 1
        assert sweep.wait(timeout=300) == 0
        client.close()
    finally:
        for proc in reversed(procs):
            _stop(proc)

    results = load_results(out)
    assert results.manifest["status"] == "complete"
    assert len(results.outcomes) == planned
    assert results.outcomes["run_id"].is_unique
    assert set(results.outcomes["run_id"]) == set(results.plan["run_id"])
    ok = results.runs[results.runs["status"] == "ok"]
    assert ok["run_id"].is_unique and len(ok) == planned, "a run stored twice"
    assert done_at_kill < planned  # the kill came mid-sweep

    serial = tmp_path / "serial"
    assert main(["sweep", str(experiment_file), "--workers", "1", "--out", str(serial)]) == 0
    pd.testing.assert_frame_equal(results.outcomes, load_results(serial).outcomes)
    print(f"\nworker failures survived: {COUNTS['worker_failures_survived']}")
