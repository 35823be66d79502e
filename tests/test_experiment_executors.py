"""Serial, process pool and Dask executors give identical results for identical seeds."""

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

from sim.experiment import (
    DaskExecutor,
    ProcessExecutor,
    SerialExecutor,
    experiment_from_dict,
    run_experiment,
)


@pytest.fixture(scope="module")
def experiment(tmp_path_factory):
    folder = tmp_path_factory.mktemp("scen")
    reform = folder / "reform.toml"
    reform.write_text(
        'extends = "baseline"\nname = "reform"\n[agencies]\ncentral_authority_capacity = 8.0\n'
    )
    return experiment_from_dict(
        {
            "name": "executors",
            "replications": 2,
            "base_seed": 3,
            "design": "lhs",
            "sample_size": 2,
            "uncertainties": {"world.initial_trust": [0.3, 0.7], "world.n_states": [10, 14]},
            "levers": {"scenarios": ["baseline", str(reform)]},
            "overrides": {"run.years": 0.5, "run.warmup_years": 0.0},
            "series": ["model", "agencies"],
        }
    )


@pytest.fixture(scope="module")
def serial(experiment, tmp_path_factory):
    return run_experiment(
        experiment, tmp_path_factory.mktemp("serial") / "r", SerialExecutor(), progress=False
    )


def assert_same(a, b):
    pd.testing.assert_frame_equal(a.outcomes, b.outcomes)
    key = ["run_id", "day"]
    pd.testing.assert_frame_equal(
        a.series.sort_values(key).reset_index(drop=True),
        b.series.sort_values(key).reset_index(drop=True),
    )
    # Categories follow shard order, which differs between executors: compare labels.
    key = ["run_id", "day", "agency"]
    labels = {"run_id": str, "state": str, "role": str}
    pd.testing.assert_frame_equal(
        a.agency_series.astype(labels).sort_values(key).reset_index(drop=True),
        b.agency_series.astype(labels).sort_values(key).reset_index(drop=True),
    )


def test_serial_run_is_complete(serial, experiment):
    assert len(serial.outcomes) == len(experiment.run_specs()) == 8
    assert serial.failures.empty
    assert serial.outcomes["states"].isin([10, 11, 12, 13, 14]).all()  # int uncertainty rounded
    assert serial.series["run_id"].nunique() == 8
    assert serial.agency_series["run_id"].nunique() == 8


def test_process_pool_matches_serial(experiment, serial, tmp_path):
    with ProcessExecutor(2) as executor:
        pool = run_experiment(experiment, tmp_path / "r", executor, progress=False)
    assert_same(serial, pool)
    assert pool.runs["worker"].nunique() >= 1


def test_dask_local_cluster_matches_serial(experiment, serial, tmp_path):
    with DaskExecutor(workers=2) as executor:
        assert executor._cluster.scheduler_address.startswith("tcp://127.0.0.1:")
        result = run_experiment(experiment, tmp_path / "r", executor, progress=False)
    assert_same(serial, result)
    assert result.manifest["sessions"][-1]["executor"]["executor"] == "dask"


def _dask_cli() -> str:
    exe = Path(sys.executable).with_name("dask")
    return str(exe) if exe.exists() else shutil.which("dask")


def test_real_dask_scheduler_and_worker_processes_match_serial(experiment, serial, tmp_path):
    dask = _dask_cli()
    if dask is None:
        pytest.skip("the dask command is not installed")
    sched_file = tmp_path / "scheduler.json"
    procs = []
    try:
        procs.append(
            subprocess.Popen(
                [
                    dask,
                    "scheduler",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    "0",
                    "--no-dashboard",
                    "--scheduler-file",
                    str(sched_file),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
        )
        deadline = time.monotonic() + 60
        while not sched_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        address = json.loads(sched_file.read_text())["address"]
        assert address.startswith("tcp://127.0.0.1:")
        procs.append(
            subprocess.Popen(
                [
                    dask,
                    "worker",
                    address,
                    "--nworkers",
                    "2",
                    "--nthreads",
                    "1",
                    "--host",
                    "127.0.0.1",
                    "--no-dashboard",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
                cwd=Path(__file__).resolve().parent.parent,
            )
        )
        with DaskExecutor(scheduler=address) as executor:
            executor._client.wait_for_workers(2, timeout=60)
            result = run_experiment(experiment, tmp_path / "r", executor, progress=False)
        assert_same(serial, result)
    finally:
        for proc in reversed(procs):
            try:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout=10)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
