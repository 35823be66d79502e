"""Results store: atomic single-run output, streaming shards, corrupt shards, failures."""

from __future__ import annotations

import json
import os
import shutil
import signal
import time

import pandas as pd
import pytest

import sim
import sim.experiment
import sim.store as store
from sim.experiment import experiment_from_dict, run_experiment
from sim.store import atomic_write_text, load_results, write_run


@pytest.fixture(scope="module")
def small_run():
    scenario = sim.load_scenario(
        "baseline", {"world.n_states": 12, "run.years": 0.5, "run.warmup_years": 0.0}
    )
    return sim.run(scenario, seed=4)


def test_write_run_writes_every_file_with_provenance(small_run, tmp_path):
    out = tmp_path / "run"
    write_run(out, small_run, seed=4)
    names = {p.name for p in out.iterdir()}
    assert names == {
        "outcomes.json",
        "outcomes.parquet",
        "series.parquet",
        "ledger.parquet",
        "durations.csv",
        "manifest.json",
    }
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seed"] == 4
    assert manifest["scenario"]["world"]["n_states"] == 12
    assert manifest["package_version"] == sim.__version__
    assert {"git_commit", "platform", "python", "started", "finished"} <= set(manifest)
    flat = pd.read_parquet(out / "outcomes.parquet")
    assert len(flat) == 1 and flat["completion_rate"].iloc[0] == pytest.approx(
        small_run.outcomes["completion_rate"], nan_ok=True
    )
    assert len(pd.read_parquet(out / "series.parquet")) == len(small_run.series)
    assert len(pd.read_parquet(out / "ledger.parquet")) > 0
    durations = pd.read_csv(out / "durations.csv")
    assert set(durations["grouping"]) == {
        "kind",
        "instrument",
        "requested_state",
        "requested_capacity_group",
    }
    write_run(out, small_run, seed=4)  # replacing an existing folder works too
    assert [p.name for p in tmp_path.iterdir()] == ["run"]


def test_write_run_failure_leaves_no_partial_output(small_run, tmp_path, monkeypatch):
    calls = {"n": 0}
    real = store.frame_to_parquet_bytes

    def failing(df):
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError("disk full")
        return real(df)

    monkeypatch.setattr(store, "frame_to_parquet_bytes", failing)
    with pytest.raises(OSError, match="disk full"):
        write_run(tmp_path / "run", small_run, seed=4)
    assert list(tmp_path.iterdir()) == []


def test_atomic_write_leaves_no_temporary_files(tmp_path):
    atomic_write_text(tmp_path / "a.txt", "one")
    atomic_write_text(tmp_path / "a.txt", "two")
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]
    assert (tmp_path / "a.txt").read_text() == "two"


def square(params, seed):
    return {"y": params["x"] ** 2 + seed % 7, "seed_seen": float(seed)}


def square_exp(reps=3):
    return experiment_from_dict(
        {
            "name": "sq",
            "replications": reps,
            "design": "grid",
            "levels": 4,
            "uncertainties": {"x": [0.0, 3.0]},
            "levers": {"k": [1, 2]},
        },
        target=square,
    )


def test_results_stream_as_shards_and_load_as_dataframes(tmp_path):
    results = run_experiment(square_exp(), tmp_path / "r", progress=False, flush_seconds=0.0)
    shards = list((tmp_path / "r" / "runs").glob("shard-*.parquet"))
    assert len(shards) == 24  # flushed after every run
    loaded = sim.load_results(tmp_path / "r")
    pd.testing.assert_frame_equal(loaded.outcomes, results.outcomes)
    assert list(loaded.outcomes.columns[:6]) == [
        "run_id",
        "policy",
        "policy_index",
        "point",
        "replication",
        "seed",
    ]
    assert (loaded.outcomes["seed_seen"] == loaded.outcomes["seed"]).all()
    manifest = loaded.manifest
    assert manifest["status"] == "complete" and manifest["n_runs"] == 24
    assert len(manifest["seeds"]) == 3 and manifest["plan_hash"]
    assert {"created", "finished", "platform", "package_version"} <= set(manifest)
    # a first session, even one asked to resume, kept nothing: not "resumed"
    assert (manifest["sessions"][-1]["resumed"], manifest["sessions"][-1]["kept"]) == (False, 0)


def test_corrupt_shard_is_detected_and_its_runs_redone(tmp_path):
    exp = square_exp()
    first = run_experiment(exp, tmp_path / "r", progress=False, flush_seconds=0.0)
    shards = sorted((tmp_path / "r" / "runs").glob("shard-*.parquet"))
    data = shards[5].read_bytes()
    shards[5].write_bytes(data[: len(data) // 2])  # truncated
    shards[9].write_bytes(b"not parquet at all")
    partial = load_results(tmp_path / "r")
    assert len(partial.outcomes) == 22
    again = run_experiment(exp, tmp_path / "r", progress=False)
    pd.testing.assert_frame_equal(again.outcomes, first.outcomes)
    assert len(list((tmp_path / "r" / "runs").glob("*.corrupt"))) == 2
    assert again.manifest["sessions"][-1]["ran"] == 2


FLAKY = {"calls": 0}


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_while_consolidating_marks_the_store_and_resume_finishes(
    signum, tmp_path, monkeypatch
):
    # Every run is stored when the signal lands: the manifest says "interrupted" (not
    # "running"), the error names the signal and how many runs are kept, and resuming
    # consolidates.
    exp = square_exp()
    planned = len(exp.run_specs())

    def interrupted_consolidation(folder):
        os.kill(os.getpid(), signum)
        time.sleep(5)  # the handler raises here (SIGINT: Python's own, SIGTERM: the sweep's)
        raise AssertionError("the signal did not stop the consolidation")

    monkeypatch.setattr(store, "consolidate", interrupted_consolidation)
    with pytest.raises(sim.experiment.Interrupted) as stop:
        run_experiment(exp, tmp_path / "c", progress=False)
    assert (stop.value.kept, stop.value.planned) == (planned, planned)
    assert stop.value.signum == signum
    manifest = json.loads((tmp_path / "c" / "manifest.json").read_text())
    assert manifest["status"] == "interrupted"
    assert not (tmp_path / "c" / "outcomes.parquet").exists()
    monkeypatch.undo()
    again = run_experiment(exp, tmp_path / "c", progress=False)
    assert again.manifest["status"] == "complete"
    assert again.manifest["sessions"][-1]["ran"] == 0
    assert len(again.outcomes) == planned


def fails_on_x_3_and_once_on_x_0(params, seed):
    if params["x"] == 3.0:
        raise ValueError("model blew up at x = 3")
    if params["x"] == 0.0 and params["k"] == 1 and seed == FLAKY.get("seed"):
        FLAKY["calls"] += 1
        if FLAKY["calls"] == 1:
            raise RuntimeError("transient failure")
    return {"y": params["x"]}


def test_failed_runs_are_recorded_and_retried_once(tmp_path):
    exp = experiment_from_dict(
        {
            "name": "fail",
            "replications": 2,
            "design": "grid",
            "levels": 4,
            "uncertainties": {"x": [0.0, 3.0]},
            "levers": {"k": [1, 2]},
        },
        target=fails_on_x_3_and_once_on_x_0,
    )
    FLAKY.update(calls=0, seed=exp.seeds[0])
    results = run_experiment(exp, tmp_path / "f", progress=False)
    assert len(results.outcomes) == 16 - 4
    assert len(results.failures) == 4
    assert results.failures["error"].str.contains("model blew up").all()
    assert (results.failures["attempt"] == 2).all()
    log = results.runs
    flaky = log[log["run_id"] == "p000-d000000-r0000"].sort_values("attempt")
    assert list(flaky["status"]) == ["failed", "ok"]
    assert "transient failure" in flaky["error"].iloc[0]
    assert results.manifest["status"] == "incomplete"
    # a later resume retries the failed runs (and only them)
    again = run_experiment(exp, tmp_path / "f", progress=False)
    assert again.manifest["sessions"][-1]["ran"] == 8  # 4 runs x 2 attempts
    assert len(again.outcomes) == 12


# ----------------------------------------------------------------------------- agency series
AGENCY_EXP = {
    "name": "agencies",
    "replications": 3,
    "base_seed": 11,
    "series": ["model", "agencies"],
    "overrides": {"world.n_states": 8, "run.years": 0.5, "run.warmup_years": 0.0},
}
KEY = ["run_id", "day", "agency"]


def sorted_frame(df):
    df = df.assign(**{c: df[c].astype(str) for c in ("run_id", "state", "role")})
    return df.sort_values(KEY).reset_index(drop=True)


@pytest.fixture(scope="module")
def agency_reference(tmp_path_factory):
    """The small agency-series experiment run without interruption."""
    out = tmp_path_factory.mktemp("agency") / "ref"
    exp = experiment_from_dict(AGENCY_EXP)
    return exp, run_experiment(exp, out, progress=False, flush_seconds=0.0)


def test_agency_series_has_a_row_per_run_day_and_agency_equal_to_a_direct_run(agency_reference):
    exp, results = agency_reference
    on_disk = pd.read_parquet(results.folder / store.AGENCY_SERIES)
    assert list(on_disk.columns) == ["run_id", "day", "agency", "state", "role", "backlog"]
    assert len(results.agency_series) == len(on_disk)
    scenario = exp.target.scenarios["baseline"]
    total_backlog = 0
    for run_id, seed in zip(results.outcomes["run_id"], results.outcomes["seed"], strict=True):
        model = sim.run(scenario, seed=int(seed)).model
        direct = model.agency_series_frame()
        queueing = sum(1 for a in model.agency_list if a.queue_family)
        assert len(direct) == model.horizon_days * queueing == 182 * queueing
        stored = on_disk[on_disk["run_id"] == run_id].drop(columns="run_id")
        pd.testing.assert_frame_equal(
            stored.reset_index(drop=True), direct, check_categorical=False
        )
        total_backlog += int(direct["backlog"].sum())
    assert len(on_disk) == 3 * 182 * queueing  # runs x days x queueing agencies
    assert total_backlog > 0  # queues did form: the comparison is not of zeros
    # Only the runs asked for, only the columns asked for.
    one = results.read_agency_series(["p000-d000000-r0001"], columns=["day", "backlog"])
    assert list(one.columns) == ["day", "backlog"] and len(one) == 182 * queueing
    # The model-level series is kept alongside, as before.
    assert results.series["run_id"].nunique() == 3


class Interrupted(Exception):
    pass


class InterruptedExecutor(sim.experiment.SerialExecutor):
    """Runs some items, then stops the sweep as Ctrl-C or a crash would."""

    def __init__(self, after: int):
        super().__init__()
        self.after = after

    def map_unordered(self, fn, items):
        for k, pair in enumerate(super().map_unordered(fn, items)):
            if k == self.after:
                raise Interrupted
            yield pair


def test_interrupted_agency_series_resume_to_the_same_consolidated_file(agency_reference, tmp_path):
    exp, reference = agency_reference
    out = tmp_path / "r"
    with pytest.raises(Interrupted):
        run_experiment(exp, out, executor=InterruptedExecutor(2), progress=False, flush_seconds=0.0)
    partial = load_results(out)
    assert partial.manifest["status"] == "running"
    assert not (out / store.AGENCY_SERIES).exists()
    assert partial.agency_series["run_id"].nunique() == 2  # read from the shards
    again = run_experiment(exp, out, progress=False)
    assert again.manifest["sessions"][-1]["ran"] == 1
    pd.testing.assert_frame_equal(
        sorted_frame(pd.read_parquet(out / store.AGENCY_SERIES)),
        sorted_frame(pd.read_parquet(reference.folder / store.AGENCY_SERIES)),
    )
    pd.testing.assert_frame_equal(
        sorted_frame(load_results(out).agency_series), sorted_frame(reference.agency_series)
    )


def test_missing_or_corrupt_agency_series_shard_sets_its_runs_aside(agency_reference, tmp_path):
    exp, reference = agency_reference
    out = tmp_path / "r"
    shutil.copytree(reference.folder, out)
    files = sorted((out / "runs").glob("agency_series-*.parquet"))
    assert len(files) == 3  # one shard per run (flush_seconds=0)
    data = files[0].read_bytes()
    files[0].write_bytes(data[: len(data) // 2])  # truncated
    files[2].unlink()  # lost
    partial = load_results(out)
    assert len(partial.outcomes) == 1  # a shard is only as good as its series files
    again = run_experiment(exp, out, progress=False)
    assert again.manifest["sessions"][-1]["ran"] == 2
    assert len(list((out / "runs").glob("shard-*.corrupt"))) == 2
    pd.testing.assert_frame_equal(
        sorted_frame(again.agency_series), sorted_frame(reference.agency_series)
    )
    pd.testing.assert_frame_equal(again.outcomes, reference.outcomes)


def test_a_run_stored_just_before_a_signal_is_counted_as_kept(tmp_path, monkeypatch):
    exp = square_exp()
    add = store.ExperimentStore.add
    calls = []

    def add_then_signal(self, record):
        add(self, record)
        calls.append(record.run_id)
        if len(calls) == 3:  # the signal lands right after the third run is stored
            raise KeyboardInterrupt

    monkeypatch.setattr(store.ExperimentStore, "add", add_then_signal)
    with pytest.raises(sim.experiment.Interrupted) as stop:
        run_experiment(exp, tmp_path / "k", progress=False)
    assert stop.value.kept == 3
    assert len(sim.load_results(tmp_path / "k").outcomes) == 3


def test_starting_over_from_python_moves_the_earlier_results_aside(tmp_path):
    first = run_experiment(square_exp(reps=2), tmp_path / "s", progress=False)
    with pytest.warns(UserWarning, match="earlier results are moved to"):
        again = run_experiment(square_exp(reps=3), tmp_path / "s", progress=False, resume=False)
    (aside,) = tmp_path.glob("s.replaced-*")
    kept = sim.load_results(aside)
    pd.testing.assert_frame_equal(kept.outcomes, first.outcomes)
    assert len(again.outcomes) == 3 * len(first.outcomes) // 2


def test_loading_a_single_runs_folder_as_results_says_what_it_is(small_run, tmp_path):
    write_run(tmp_path / "run", small_run, seed=4)
    with pytest.raises(store.StoreError, match="a single run's folder"):
        sim.load_results(tmp_path / "run")
    with pytest.raises(store.StoreError, match="no such folder"):
        sim.load_results(tmp_path / "missing")


def test_an_experiment_into_a_run_folder_or_a_file_and_a_corrupt_manifest_are_named(
    small_run, tmp_path
):
    write_run(tmp_path / "run", small_run, seed=4)
    with pytest.raises(store.StoreError, match="a single run's folder"):
        run_experiment(square_exp(), tmp_path / "run", progress=False)
    (tmp_path / "file").write_text("mine")
    with pytest.raises(store.StoreError, match="a file, not a results folder"):
        run_experiment(square_exp(), tmp_path / "file", progress=False)
    assert (tmp_path / "file").read_text() == "mine"
    run_experiment(square_exp(), tmp_path / "r", progress=False)
    (tmp_path / "r" / "manifest.json").write_text('{"name": ')
    with pytest.raises(store.StoreError, match="unreadable manifest"):
        sim.load_results(tmp_path / "r")


def test_a_complete_folder_whose_run_files_are_gone_is_not_loaded_as_empty(tmp_path):
    run_experiment(square_exp(), tmp_path / "r", progress=False)
    shutil.rmtree(tmp_path / "r" / "runs")
    with pytest.raises(store.StoreError, match="runs/ holds none of its 24 runs"):
        sim.load_results(tmp_path / "r")
