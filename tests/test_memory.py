"""Memory: the model's arrays in ordinary pages (sim.memory), its records untracked by the GC."""

from __future__ import annotations

import gc

import numpy as np
import pytest

import sim.model
from sim import cli, memory
from sim.errors import CoopsimError
from sim.model import CooperationModel
from sim.scenario import load_scenario


def numpy_asks_for_huge_pages() -> bool:
    """numpy's current setting, read by setting it and putting it back."""
    current = memory._set_huge_pages(True)
    memory._set_huge_pages(current)
    return current


@pytest.fixture
def huge_pages_on(monkeypatch):
    """numpy asking for huge pages (its default on Linux), whatever the machine says."""
    monkeypatch.delenv(memory.ENV, raising=False)
    before = memory._set_huge_pages(True)
    yield
    memory._set_huge_pages(before)


def test_numpy_has_the_switch_the_module_turns():
    # Without it ordinary_pages would do nothing: fail here, not silently in a run.
    assert memory._set_huge_pages is not None


def test_ordinary_pages_turn_the_request_off_and_put_back_what_was_there(huge_pages_on):
    with memory.ordinary_pages():
        assert not numpy_asks_for_huge_pages()
        with memory.ordinary_pages():  # nested: the inner one restores the outer's
            assert not numpy_asks_for_huge_pages()
        assert not numpy_asks_for_huge_pages()
    assert numpy_asks_for_huge_pages()
    memory._set_huge_pages(False)  # a user's own choice is put back too
    with memory.ordinary_pages():
        pass
    assert not numpy_asks_for_huge_pages()


def test_the_setting_is_put_back_when_the_work_raises(huge_pages_on):
    with pytest.raises(RuntimeError), memory.ordinary_pages():
        raise RuntimeError("a day failed")
    assert numpy_asks_for_huge_pages()


def test_coopsim_huge_pages_1_leaves_numpys_choice(huge_pages_on, monkeypatch):
    monkeypatch.setenv(memory.ENV, "1")
    with memory.ordinary_pages():
        assert numpy_asks_for_huge_pages()


@pytest.mark.parametrize("value", ["yes", "2", "on"])
def test_a_bad_value_names_the_variable_and_what_is_allowed(monkeypatch, value):
    monkeypatch.setenv(memory.ENV, value)
    message = rf"COOPSIM_HUGE_PAGES='{value}': allowed values are 0 and 1"
    with pytest.raises(CoopsimError, match=message):
        CooperationModel("baseline", rng=1)


def test_the_command_line_says_what_is_wrong_with_the_variable(monkeypatch, capsys):
    monkeypatch.setenv(memory.ENV, "yes")
    assert cli.main(["run", "baseline", "--years", "0.1"]) == 2
    err = capsys.readouterr().err
    assert "COOPSIM_HUGE_PAGES='yes': allowed values are 0 and 1" in err
    assert "internal error" not in err


def test_the_model_builds_steps_and_counts_in_ordinary_pages(huge_pages_on, monkeypatch):
    seen = {}

    def spy(owner, name):
        original = getattr(owner, name)

        def wrapper(*args, **kwargs):
            seen.setdefault(name, numpy_asks_for_huge_pages())
            return original(*args, **kwargs)

        monkeypatch.setattr(owner, name, wrapper)

    spy(sim.model, "Ledger")  # the setup reserves the ledger for the whole run
    spy(CooperationModel, "_generate_cases")
    spy(CooperationModel, "_run_day")
    model = CooperationModel("baseline", rng=1)
    assert seen == {"Ledger": False}
    model.step()  # Mesa's step, through the model's own advance of time
    assert seen == {"Ledger": False, "_generate_cases": False, "_run_day": False}
    assert numpy_asks_for_huge_pages()  # between calls, the user's setting

    def compute(model):
        seen["outcomes"] = numpy_asks_for_huge_pages()
        return {}

    monkeypatch.setattr("sim.metrics.compute_outcomes", compute)
    model.outcomes()
    assert seen["outcomes"] is False
    assert numpy_asks_for_huge_pages()


def test_pages_do_not_change_a_run(monkeypatch):
    def fingerprint():
        short = load_scenario("baseline", {"run.years": 0.3, "run.warmup_years": 0.0})
        model = CooperationModel(short, rng=5).run()
        return model.ledger.col("t_closed").copy(), model.outcomes()

    monkeypatch.setenv(memory.ENV, "1")
    kept = fingerprint()
    monkeypatch.setenv(memory.ENV, "0")
    ordinary = fingerprint()
    assert kept[0].size > 1000
    np.testing.assert_array_equal(kept[0], ordinary[0])
    assert repr(kept[1]) == repr(ordinary[1])  # NaN included


def test_what_a_run_keeps_per_team_is_not_tracked_by_the_garbage_collector():
    # Tens of thousands of tracked lists (one per team) made Python's collector sweep
    # the whole heap, numba's objects included, about once in two world-scale runs.
    model = CooperationModel(load_scenario("world_scale", {"run.years": 0.3}), rng=1).run()
    kept = model.teams.team_members
    assert len(kept) > 100
    assert not any(gc.is_tracked(members) for members in kept)
    assert all(members.dtype == np.int64 and members.size >= 2 for members in kept)
    active = next(iter(model.teams.active.values()))
    assert list(active.members) == kept[model.teams.team_cases.index(active.case)].tolist()


def test_models_in_threads_share_the_setting_and_the_last_one_puts_it_back(huge_pages_on):
    import threading

    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()
    seen = {}

    def first():
        with memory.ordinary_pages():
            first_in.set()
            second_in.wait(5)
        first_out.set()

    def second():
        first_in.wait(5)
        with memory.ordinary_pages():
            second_in.set()
            first_out.wait(5)
            seen["after the first left"] = numpy_asks_for_huge_pages()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert seen == {"after the first left": False}  # the second still works
    assert numpy_asks_for_huge_pages()  # the last to leave put numpy's setting back


def test_a_sweep_with_a_bad_value_stops_before_writing_anything(monkeypatch, tmp_path, capsys):
    spec = tmp_path / "tiny.toml"
    spec.write_text('name = "tiny"\nreplications = 2\n[overrides]\n"run.years" = 0.1\n')
    monkeypatch.setenv(memory.ENV, "on")
    out = tmp_path / "results"
    assert cli.main(["sweep", str(spec), "--out", str(out)]) == 2
    assert "COOPSIM_HUGE_PAGES='on'" in capsys.readouterr().err
    assert not out.exists()


def test_the_collector_waits_while_the_model_builds_and_resumes_after(monkeypatch):
    # numba's kernel load in a process's first build makes objects that live as long as
    # the process; a full collection then swept the whole heap for about 30 objects.
    seen = {}
    ledger = sim.model.Ledger

    def spy(*args, **kwargs):
        seen["collector on in the build"] = gc.isenabled()
        return ledger(*args, **kwargs)

    monkeypatch.setattr(sim.model, "Ledger", spy)
    assert gc.isenabled()
    model = CooperationModel("baseline", rng=1)
    assert seen == {"collector on in the build": False}
    assert gc.isenabled()
    model.step()
    gc.disable()  # a user's own choice stays
    try:
        CooperationModel("baseline", rng=1)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_the_collector_resumes_when_the_build_raises(monkeypatch):
    def no_room(*args, **kwargs):
        assert not gc.isenabled()
        raise MemoryError("no room for the ledger")

    monkeypatch.setattr(sim.model, "Ledger", no_room)
    with pytest.raises(MemoryError):
        CooperationModel("baseline", rng=1)
    assert gc.isenabled()
    with pytest.raises(KeyError), memory.collector_paused():
        assert not gc.isenabled()
        raise KeyError("a build failed")
    assert gc.isenabled()
