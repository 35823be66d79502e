"""Compiling the kernels on two cores: the helper compiles what the run calls."""

from __future__ import annotations

import ast
import collections
import inspect
import json
import os
import subprocess
import sys
import textwrap

import pytest
from numba import typeof

import sim.compiling as compiling
import sim.eevidence
import sim.stages
from sim.cli import main
from sim.experiment import experiment_from_dict, run_experiment
from sim.kernel_day import run_day
from sim.kernel_eevidence import open_investigations
from sim.kernel_struct import new_state
from sim.lifecycle import outbox


def test_the_helper_compiles_the_signature_the_run_calls():
    # The helper compiles run_day without calling it; a type that differs from the run's
    # would leave the run to compile it again (a second signature), so the types
    # computed ahead must be the ones the day's calls pass.
    model = compiling.short_model()
    model.run()
    assert model.kernel_state_type() == typeof(model.kernel_state(1)[0])
    assert compiling.run_day_types(model) in run_day.signatures


def test_days_held_move_no_request_and_restore_the_kernel():
    model = compiling.short_model()
    with compiling.days_held():
        for _ in range(60):
            model.step()
    assert sim.stages.run_day is run_day
    assert model.ledger.size > 0
    assert model.outcome_count("executed") == model.outcome_count("refused") == 0
    # The same days, moving requests: some end within two months.
    moving = compiling.short_model()
    for _ in range(60):
        moving.step()
    assert moving.outcome_count("executed") > 0


def test_the_cache_is_cold_until_the_requests_kernel_has_an_index(tmp_path, monkeypatch):
    monkeypatch.setattr(compiling, "active_cache_dir", lambda: tmp_path / "numba-x")
    assert compiling.cache_is_cold()
    (tmp_path / "numba-x").mkdir()
    (tmp_path / "numba-x" / "kernel_day.step_bound-62.py312.nbi").touch()
    assert compiling.cache_is_cold()
    (tmp_path / "numba-x" / "kernel_day.run_day-190.py312.nbi").touch()
    assert not compiling.cache_is_cold()


def test_the_cache_is_cold_for_an_optional_kernel_until_it_has_its_own_index(tmp_path, monkeypatch):
    monkeypatch.setattr(compiling, "active_cache_dir", lambda: tmp_path)
    (tmp_path / "kernel_day.run_day-190.py312.nbi").touch()
    assert not compiling.cache_is_cold()
    assert compiling.cold_optional_parts() == ["electronic evidence"]
    (tmp_path / "kernel_eevidence.open_investigations-49.py312.nbi").touch()
    assert compiling.cold_optional_parts() == []


def test_the_e_evidence_kernel_is_compiled_ahead_only_for_scenarios_that_call_it(
    monkeypatch, capsys
):
    # The short baseline run never opens an investigation, so a sweep of e-evidence
    # scenarios would have each worker compile that kernel on its first run.
    baseline = compiling.short_model().config
    e_evidence = compiling.short_model("e_evidence").config
    assert not baseline.electronic_evidence.enabled and e_evidence.electronic_evidence.enabled
    probes = []

    class Probe:  # a stand-in for the short run: records which scenario ran
        def __init__(self, scenario="baseline"):
            self.scenario = scenario

        def run(self):
            probes.append(self.scenario)

    monkeypatch.setattr(compiling, "cache_is_cold", lambda kernel=run_day: kernel is not run_day)
    monkeypatch.setattr(compiling, "short_model", Probe)
    compiling.ensure_compiled(scenarios=[baseline])
    assert probes == [] and capsys.readouterr().err == ""
    compiling.ensure_compiled(scenarios=[baseline, e_evidence])
    assert probes == ["e_evidence"]
    assert "compiling the kernels of electronic evidence" in capsys.readouterr().err


def test_the_e_evidence_probe_calls_the_e_evidence_kernel_every_day(monkeypatch):
    # Counted here, not read from the kernel's signatures: another test in the same
    # process may have compiled it already.
    requests = []

    def counted(*args):
        result = open_investigations(*args)
        requests.append(result[2][0].size)
        return result

    monkeypatch.setattr(sim.eevidence, "open_investigations", counted)
    model = compiling.short_model("e_evidence")
    model.run()
    assert len(requests) == model.day and sum(requests) > 0  # the decisions too


def test_a_run_a_sweep_and_coopsim_compile_ask_for_the_e_evidence_kernels(monkeypatch, tmp_path):
    asked = []
    monkeypatch.setattr(compiling, "cache_is_cold", lambda kernel=run_day: kernel is not run_day)
    monkeypatch.setattr(compiling, "compile_optional", lambda parts: asked.append(list(parts)))
    assert main(["run", "e_evidence", "--years", "0.05", "--warmup-years", "0", "--json"]) == 0
    assert main(["run", "baseline", "--years", "0.05", "--warmup-years", "0", "--json"]) == 0
    assert asked == [["electronic evidence"]]  # not for the baseline
    small = {"world.n_states": 6, "run.years": 0.05, "run.warmup_years": 0.0}
    sweep = {"name": "ee", "replications": 1, "overrides": small}
    for scenarios, expected in ((["baseline"], 1), (["baseline", "e_evidence"], 2)):
        experiment = experiment_from_dict({**sweep, "levers": {"scenarios": scenarios}})
        run_experiment(experiment, tmp_path / str(expected), progress=False)
        assert len(asked) == expected
    assert asked[-1] == ["electronic evidence"]
    assert main(["compile"]) == 0
    assert asked[-1] == ["electronic evidence"] and len(asked) == 3


def test_ensure_compiled_compiles_only_a_cold_cache_and_says_so(monkeypatch, capsys):
    calls = []
    monkeypatch.setattr(compiling, "compile_kernels", lambda: calls.append(1))
    monkeypatch.setattr(compiling, "cache_is_cold", lambda kernel=None: False)
    compiling.ensure_compiled()
    assert calls == [] and capsys.readouterr().err == ""
    monkeypatch.setattr(compiling, "cache_is_cold", lambda kernel=run_day: kernel is run_day)
    compiling.ensure_compiled()
    assert calls == [1] and "compiling the model's kernels" in capsys.readouterr().err
    compiling.ensure_compiled(announce=False)
    assert calls == [1, 1] and capsys.readouterr().err == ""


def test_a_failed_helper_is_reported_and_the_run_compiles_alone(monkeypatch):
    monkeypatch.setattr(compiling, "HELPER", ("-c", "raise SystemExit('helper broke')"))
    with pytest.warns(RuntimeWarning, match="helper broke"):
        compiling.compile_kernels(parallel=True)
    assert sim.stages.run_day is run_day


# In a fresh process on an empty cache: the sort and the record compiled ahead, as
# compile_for_helper does, then queue service's merge (the sort's caller) compiled for
# the struct's type. A sort compiled ahead for other types than the merge's call would
# be compiled a second time: a second signature.
_AHEAD_PROBE = """
import json
from sim import compiling
from sim.kernel_day import record_series
from sim.kernel_queues import pool_merge, stable_order

model = compiling.short_model()
compiling.compile_for_helper(model)
ahead = [len(stable_order.signatures), len(record_series.signatures)]
pool_merge.compile((model.kernel_state_type(),))
print(json.dumps([ahead, len(stable_order.signatures)]))
"""


def test_the_sort_compiled_ahead_is_the_one_queue_service_calls(tmp_path):
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", _AHEAD_PROBE], env=env, capture_output=True, text=True, check=True
    )
    ahead, after = json.loads(done.stdout.splitlines()[-1])
    assert ahead == [1, 1] and after == 1


def test_the_day_calls_the_record_with_its_own_arguments():
    # What compile_for_helper compiles the record for (record_series_types): the struct,
    # the agency count and the day run_day was called with. So run_day passes its own
    # parameters, never rebinding them.
    tree = ast.parse(textwrap.dedent(inspect.getsource(run_day.py_func)))
    function = tree.body[0]
    calls = [
        node
        for node in ast.walk(function)
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "record_series"
    ]
    assert len(calls) == 1
    passed = [arg.id for arg in calls[0].args]
    params = [arg.arg for arg in function.args.args]  # S, R, n_agencies, day, first_step
    assert passed == [params[0], params[2], params[3]]
    stored = {
        node.id
        for node in ast.walk(function)
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store)
    }
    assert not stored & set(passed)
    model = compiling.short_model()
    state, _, n_agencies, day, _ = compiling.run_day_types(model)
    assert compiling.record_series_types(model) == (state, n_agencies, day)


def test_the_struct_holds_a_reference_to_each_array_until_it_goes():
    # new_state sets the struct's fields itself (sim.kernel_struct._state_from): each
    # field must own a reference, released when the struct is freed.
    model = compiling.short_model()
    arrays = model.current_kernel_arrays(outbox(1))
    fields_of = collections.Counter(map(id, arrays))
    distinct = {id(array): array for array in arrays}.values()
    before = {id(a): sys.getrefcount(a) for a in distinct}
    state = new_state(*arrays)
    held = {id(a): sys.getrefcount(a) - before[id(a)] for a in distinct}
    assert held == {key: fields_of[key] for key in held}
    del state
    assert {id(a): sys.getrefcount(a) for a in distinct} == before


def test_the_probes_are_the_shipped_scenarios_wherever_the_user_is(tmp_path, monkeypatch):
    # A file or folder named like a shipped scenario in the working folder is not it.
    (tmp_path / "e_evidence").mkdir()
    (tmp_path / "baseline").write_text("not a scenario")
    monkeypatch.chdir(tmp_path)
    assert compiling.short_model("e_evidence").config.electronic_evidence.enabled
    assert compiling.short_model().config.name == "baseline"
