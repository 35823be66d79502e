"""The benchmark tools: the day-cost fit, the figure, and their handling of bad input.

The benchmarks themselves are measurements (docs/performance.md), not tests; these
tests check the arithmetic and the plumbing around them on small synthetic results.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def _module(name: str):
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(BENCHMARKS))
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(BENCHMARKS))
    return module


run_py = _module("run")
plot_py = _module("plot")


def test_day_cost_fit_recovers_a_known_line():
    # 4 ms a day plus 5 us a request: the fit gives both back, and the most a
    # request's own cost allows is 1 / 5 us = 200,000 requests a second.
    requests_per_day = [300.0, 600.0, 1200.0, 2400.0]
    ms_per_day = [4.0 + 0.005 * r for r in requests_per_day]
    fit = run_py.fit_day_cost(requests_per_day, ms_per_day)
    assert fit["fixed_ms_per_day"] == pytest.approx(4.0)
    assert fit["marginal_us_per_request"] == pytest.approx(5.0)
    assert fit["asymptotic_requests_per_s"] == 200_000


def test_day_cost_fit_without_a_cost_per_request_has_no_asymptote():
    fit = run_py.fit_day_cost([300.0, 600.0], [5.0, 5.0])
    assert fit["marginal_us_per_request"] == pytest.approx(0.0, abs=1e-9)
    assert fit["asymptotic_requests_per_s"] is None


def test_day_cost_fit_needs_two_loads():
    with pytest.raises(ValueError, match="two"):
        run_py.fit_day_cost([300.0], [5.0])


def test_load_factors_scale_arrivals_and_the_capacity_floor_from_the_baseline():
    from sim.scenario import load_scenario

    base = load_scenario("baseline")
    overrides = run_py.load_overrides(14, years=0.5)
    assert overrides["run.years"] == 0.5
    assert overrides["cases.arrivals_per_state_per_year"] == pytest.approx(
        14 * base.cases.arrivals_per_state_per_year
    )
    # Agencies are staffed for the demand they expect: their staffing ratios stay.
    assert overrides["agencies.capacity_floor"] == pytest.approx(14 * base.agencies.capacity_floor)
    assert not any(key.endswith("_capacity") for key in overrides)
    # world_scale itself is load factor 7: the same values as its file.
    world = load_scenario("world_scale")
    for key, value in run_py.load_overrides(7, years=1.0).items():
        if key != "run.years":
            section, name = key.split(".")
            assert getattr(getattr(world, section), name) == pytest.approx(value)


def test_unknown_section_is_refused_with_the_allowed_ones(capsys):
    with pytest.raises(SystemExit) as exc:
        run_py.main(["--only", "warp,world"])  # refused before any run
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "warp" in err and "batch_run_agencies" in err


def _results() -> dict:
    """A small results file with every section plot.py draws."""
    runs = {"runs": 20, "runs_per_s": 1.5, "peak_tree_rss_mb": 500.0}
    return {
        "machine": {"cores": 2, "cpu": "test CPU", "python": "3.12", "mesa": "3.5"},
        "world": {"requests_per_s_end_to_end": 36000, "states": 195, "requests": 1_141_745},
        "scaling": {
            "years": 2.0,
            "rows": [{"states": s, "us_per_request_run": u} for s, u in ((50, 80.0), (400, 22.0))],
        },
        "load": {
            "years": 1.0,
            "rows": [
                {"requests_per_day": r, "ms_per_day": 5 + 0.006 * r, "requests": 365 * r}
                | {"run_s": 365 * (5 + 0.006 * r) / 1e3}
                for r in (300.0, 2400.0)
            ],
            "fixed_ms_per_day": 5.0,
            "marginal_us_per_request": 6.0,
        },
        "sweep": {"replications": 20, "years": 0.5, "workers_1": runs, "workers_2": runs},
        "batch_run": {
            "replications": 20,
            "years": 0.5,
            "batch_run_2_processes_final_only": runs,
            "batch_run_2_processes_every_step": runs,
        },
        "batch_run_agencies": {
            "replications": 20,
            "years": 0.5,
            "coopsim_2_workers": runs,
            "batch_run_2_processes_every_step": {**runs, "peak_tree_rss_mb": 4000.0},
        },
    }


def test_figure_is_drawn_from_merged_results_files(tmp_path):
    full = _results()
    first = {k: full[k] for k in ("machine", "world", "scaling")}
    second = {k: v for k, v in full.items() if k not in ("world", "scaling")}
    paths = []
    for i, part in enumerate((first, second)):
        path = tmp_path / f"r{i}.json"
        path.write_text(json.dumps(part))
        paths.append(path)
    out = tmp_path / "fig" / "performance.png"
    assert plot_py.main([str(p) for p in paths] + ["--out", str(out)]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not list(out.parent.glob("*.partial*"))  # written atomically


def test_figure_refuses_a_file_that_is_not_results(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(SystemExit, match="bad.json: not a results file"):
        plot_py.main([str(bad), "--out", str(tmp_path / "x.png")])
    assert not (tmp_path / "x.png").exists()


def test_interleaved_repeats_rotate_the_order_and_report_medians(monkeypatch):
    calls = []
    elapsed = {"a": iter([10.0, 30.0, 20.0]), "b": iter([5.0, 6.0, 100.0])}

    def fake_child(args):
        calls.append(args[0])
        return {"runs": 10, "elapsed_s": next(elapsed[args[0]]), "peak_tree_rss_mb": 1.0}

    monkeypatch.setattr(run_py, "run_child", fake_child)
    got = run_py.interleaved({"a": ["a"], "b": ["b"]}, repeats=3)
    assert got["a"]["same_outcomes_every_repeat"]
    assert calls == ["a", "b", "b", "a", "a", "b"]  # A B, B A, A B
    assert got["a"]["elapsed_s"] == 20.0 and got["a"]["elapsed_s_each"] == [10.0, 30.0, 20.0]
    assert got["b"]["elapsed_s"] == 6.0  # the median ignores the one slow outlier
    assert got["b"]["runs_per_s"] == pytest.approx(10 / 6.0, abs=1e-3)
    assert got["a"]["repeats"] == 3


def test_repeats_below_one_are_refused(capsys):
    with pytest.raises(SystemExit) as exc:
        run_py.main(["--only", "sweep", "--repeats", "0"])
    assert exc.value.code == 2
    assert "--repeats" in capsys.readouterr().err


def test_outcomes_that_differ_between_repeats_are_flagged():
    same = {"runs": 2, "elapsed_s": 1.0, "outcomes": {"y": [1, 2]}}
    other = {**same, "outcomes": {"y": [1, 3]}}
    assert run_py.median_of([same, same])["same_outcomes_every_repeat"]
    combined = run_py.median_of([same, other])
    assert not combined["same_outcomes_every_repeat"]
    assert not run_py._same_outcomes({"a": combined, "b": run_py.median_of([same])})


def test_world_repeats_report_the_run_of_median_time(monkeypatch):
    # Fresh process and sweep worker alternate, repeat by repeat.
    times = iter([40.0, 20.0, 30.0, 25.0, 35.0, 15.0])
    kinds = []

    def fake_child(args):
        kinds.append(args[0])
        t = next(times)
        return {"end_to_end_s": t, "requests": 1000, "requests_per_s_end_to_end": 1000 / t}

    monkeypatch.setattr(run_py, "run_child", fake_child)
    world = run_py.section_world(quick=True, repeats=3)
    assert kinds == ["model", "worker_model"] * 3
    assert world["end_to_end_s"] == 35.0  # the median run, whole (its rate goes with it)
    assert world["requests_per_s_end_to_end"] == pytest.approx(1000 / 35.0)
    assert world["end_to_end_s_each"] == [30.0, 35.0, 40.0]
    assert world["repeats"] == 3
    assert world["in_worker"]["end_to_end_s"] == 20.0
    assert world["in_worker"]["end_to_end_s_each"] == [15.0, 20.0, 25.0]


def test_a_worker_run_follows_a_short_first_run_in_the_same_process():
    out = run_py.child_worker_model("baseline", {"run.years": 0.1, "run.warmup_years": 0.0}, 3)
    fresh = run_py.child_model("baseline", {"run.years": 0.1, "run.warmup_years": 0.0}, 3)
    assert out["first_run_s"] > 0
    # The first run shares nothing with the measured one: the same seed, the same run.
    assert out["requests"] == fresh["requests"] > 0
    assert out["completion_rate"] == fresh["completion_rate"]


targets_py = _module("targets")


def test_the_targets_summary_compares_each_measurement_with_its_goal():
    report = {
        "world": {"requests_per_s_end_to_end": 44_748, "ledger_bytes_per_request": 59.0},
        "scaling": {"rows": [{"relative_to_50": 1.0}, {"relative_to_50": 0.26}]},
        "targets": {
            "baseline": {"years": 5.0, "s_per_run": 0.15},
            "sobol": {
                "planned_runs": 3072,
                "s_per_run": 2.0,
                "projected_minutes_on_2_workers": 51.2,
            },
        },
    }
    rows = {r["target"].split(",")[0]: r for r in targets_py.summary(report)}
    assert rows["world_scale requests/s"]["met"] is False
    assert rows["ledger bytes per request"]["met"] is True
    assert rows["time a request"]["met"] is True
    assert rows["40-state 5-year baseline"]["met"] is True  # 0.15 s <= 0.2 s
    assert rows["sobol_baseline at N = 512 on 2 cores"]["met"] is False  # 51.2 min
    assert "3,072 runs x 2.0 s / 2" in rows["sobol_baseline at N = 512 on 2 cores"]["note"]
    table = targets_py.format_summary(targets_py.summary(report))
    assert "| world_scale requests/s, end to end | >= 500,000 | 44,748 | **no** |" in table
    # The run in a sweep worker is reported beside it, not judged in its place.
    report["world"]["in_worker"] = {"requests_per_s_end_to_end": 520_000}
    world = targets_py.summary(report)[0]
    assert world["met"] is False and "in a sweep worker: 520,000" in world["note"]


def test_a_quick_or_missing_measurement_is_not_judged():
    quick = {"targets": {"baseline": {"years": 1.0, "s_per_run": 0.05}}}
    rows = {r["target"]: r for r in targets_py.summary(quick)}
    baseline = rows["40-state 5-year baseline, s a run in a worker"]
    assert baseline["met"] is None and "not comparable" in baseline["note"]
    assert rows["world_scale requests/s, end to end"]["measured"] is None
    empty = targets_py.format_summary(targets_py.summary({}))
    # Every target has its row, measured or not.
    for target in ("world_scale", "ledger bytes", "time a request", "baseline", "sobol", "compile"):
        assert target in empty
    assert "| ledger bytes per request | <= 200 | not measured | - |" in empty


identity_py = _module("identity")


def _tiny_model(seed):
    from sim.model import CooperationModel
    from sim.scenario import load_scenario

    small = {"world.n_states": 5, "run.years": 0.2, "run.warmup_years": 0.0}
    return CooperationModel(load_scenario("baseline", small), rng=seed).run()


def test_identity_fingerprints_find_what_differs_and_from_which_day():
    model = _tiny_model(1)
    same = identity_py.fingerprint(_tiny_model(1))
    assert identity_py.compare(identity_py.fingerprint(model), same) == []
    # One day's value changed: that series differs, from the block the day falls in.
    model.series["leaks"][40] += 1
    differ = identity_py.compare(same, identity_py.fingerprint(model))
    assert differ == ["series.leaks (from day 30)"]
    # Another seed: the ledger differs too.
    other = identity_py.compare(same, identity_py.fingerprint(_tiny_model(2)))
    assert "ledger.t_closed" in other
    # Float arrays say by how much they differ.
    trust = [name for name in other if name.startswith("trust ")]
    assert len(trust) == 1 and trust[0].startswith("trust [largest difference ")
    gap = float(trust[0].removeprefix("trust [largest difference ").rstrip("]"))
    assert 0 < gap <= 1


def test_identity_check_of_a_missing_file_says_how_to_make_it(tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        identity_py.main(["--check", str(tmp_path / "none.json")])
    assert stop.value.code == 2
    assert "write it first with --write" in capsys.readouterr().err


def test_perf_map_names_the_kernels_a_run_loaded(tmp_path):
    """benchmarks/perf_map.py: one line per JIT function, by address, the day's kernels named."""
    from sim.model import CooperationModel
    from sim.scenario import load_scenario

    scenario = load_scenario("baseline", {"world.n_states": 6, "run.years": 0.05})
    CooperationModel(scenario.with_overrides({"run.warmup_years": 0.0}), rng=0).run()
    perf_map = _module("perf_map")
    path = tmp_path / "perf-1.map"
    named = perf_map.write_perf_map(path)
    rows = [line.split(" ", 2) for line in path.read_text().splitlines()]
    assert named == len(rows) > 10
    starts = [int(start, 16) for start, _, _ in rows]
    assert starts == sorted(starts) and all(int(size, 16) > 0 for _, size, _ in rows)
    names = " ".join(name for _, _, name in rows)
    assert "kernel_day" in names and "run_day" in names and "kernel_calendar" in names


def test_stages_split_a_run_into_the_two_kernel_calls_and_the_python_around_them():
    """benchmarks/stages.py follows the model's day (it broke once when a call went)."""
    import sim.casegen
    import sim.stages

    stages_py = _module("stages")
    kernels = (sim.casegen.generate_cases, sim.stages.run_day)
    result = stages_py.measure("baseline", 0.3, seed=2)
    parts = result["parts"]
    assert set(parts) == {
        "case generation: the kernel",
        "case generation: Python around it",
        "the day: the kernel",
        "the day: Python around it",
        "the rest (stepping, e-evidence, events)",
    }
    assert parts["the day: the kernel"] > 0 and parts["case generation: the kernel"] > 0
    assert min(parts.values()) >= 0
    assert result["days"] == 730 + 110 and result["requests"] > 0  # warm-up and 0.3 years
    assert (sim.casegen.generate_cases, sim.stages.run_day) == kernels  # put back


def test_the_targets_repeat_interleaved_and_keep_the_median_repeat():
    calls = []
    times = iter([0.21, 25.0, 0.19, 21.0, 0.20, 23.0])  # baseline, kernels, baseline, ...

    def fake_child(args):
        calls.append(args[0])
        if args[0] == "targets_sobol":
            return {"minutes": 2.0}
        value = next(times)
        if args[0] == "targets_baseline":
            return {"years": 5.0, "s_per_run": value}
        return {"compile_s": value, "load_s": value / 100}

    out = targets_py.section_targets(fake_child, quick=False, repeats=3)
    assert calls == ["targets_baseline", "targets_kernels"] * 3 + ["targets_sobol"]
    assert out["baseline"]["s_per_run"] == 0.20 and out["baseline"]["repeats"] == 3
    assert out["baseline"]["s_per_run_repeats"] == [0.21, 0.19, 0.20]
    assert out["kernels"]["compile_s"] == 23.0 and out["kernels"]["load_s"] == 0.23
    assert out["kernels"]["compile_s_repeats"] == [25.0, 21.0, 23.0]
    single = targets_py.section_targets(fake_child_once(), quick=True)
    assert "repeats" not in single["baseline"]


def fake_child_once():
    def child(args):
        if args[0] == "targets_baseline":
            return {"years": 1.0, "s_per_run": 0.05}
        if args[0] == "targets_kernels":
            return {"compile_s": 20.0, "load_s": 0.3}
        return {"minutes": 1.0}

    return child


def test_paired_ratios_are_per_pair_against_the_first_checkout():
    """Each pair's ratio to the reference, then their median: a phase both runs of a pair
    share cancels out (the second pair runs at twice the times, the ratio holds)."""
    paired = _module("paired")
    first = [dict.fromkeys(paired.PARTS, t) for t in (1.0, 2.0, 1.0, 2.0)]
    second = [dict.fromkeys(paired.PARTS, t) for t in (0.9, 1.8, 0.9, 2.2)]
    summary = paired.summarise({"old": first, "new": second})
    run = summary["ratios"]["new"]["run"]
    assert run["median"] == pytest.approx(0.9)
    assert (run["faster_in"], run["pairs"]) == (3, 4)
    assert (run["q1"], run["q3"]) == pytest.approx((0.9, 0.95))  # ratios 0.9, 0.9, 0.9, 1.1
    assert summary["medians"]["old"]["total"] == pytest.approx(1.5)
    assert "old" not in summary["ratios"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [([], "at least two checkouts"), (["a", "b", "--pairs", "1"], "--pairs must be at least 2")],
)
def test_paired_refuses_too_few_checkouts_or_pairs(argv, message, capsys):
    paired = _module("paired")
    with pytest.raises(SystemExit):
        paired.main(argv)
    assert message in capsys.readouterr().err


class _FakeWorker:
    """A worker that answers each "go" with the next of its times, logging the turn."""

    def __init__(self, name, totals, log):
        self.name, self.totals, self.log = name, iter(totals), log
        self.stdin, self.stdout = self, self

    def write(self, line):
        self.log.append(self.name)

    def flush(self):
        pass

    def readline(self):
        total = next(self.totals, None)
        if total is None:  # the worker died
            return ""
        return json.dumps({"build": 0.0, "run": total, "outcomes": 0.0, "total": total,
                           "requests": 7}) + "\n"  # fmt: skip

    def close(self):
        pass

    def wait(self):
        return 0


def test_paired_alternates_the_order_pair_by_pair(monkeypatch, capsys, tmp_path):
    paired = _module("paired")
    log = []
    totals = {"old": [1.0, 2.0, 1.0, 2.0], "new": [0.8, 1.6, 0.8, 1.6]}
    monkeypatch.setattr(
        paired, "start_worker", lambda c, *a: _FakeWorker(c.name, totals[c.name], log)
    )
    out = tmp_path / "pairs.json"
    paired.main([str(tmp_path / "old"), str(tmp_path / "new"), "--pairs", "4", "--out", str(out)])
    assert log == ["old", "new", "new", "old", "old", "new", "new", "old"]
    assert "run: 0.800 (quartiles 0.800-0.800), faster in 4 of 4" in capsys.readouterr().out
    assert len(json.loads(out.read_text())["times"][str(tmp_path / "new")]) == 4


def test_paired_names_the_checkout_whose_worker_stopped(monkeypatch, tmp_path):
    paired = _module("paired")
    totals = {"old": [1.0, 1.0], "new": [1.0]}
    monkeypatch.setattr(
        paired, "start_worker", lambda c, *a: _FakeWorker(c.name, totals[c.name], [])
    )
    with pytest.raises(SystemExit, match="the worker in .*new stopped"):
        paired.main([str(tmp_path / "old"), str(tmp_path / "new"), "--pairs", "2"])


def test_paired_says_how_to_make_a_missing_environment(tmp_path):
    paired = _module("paired")
    with pytest.raises(SystemExit, match="uv sync --locked --compile-bytecode"):
        paired.main([str(tmp_path), str(tmp_path)])


def _dump_sample(ip: int, dso: str, stack_words: list[int]) -> list[str]:
    """One sample as ``perf report -D`` prints it: raw bytes, the sample, stack and dso."""
    raw = bytes(16) + (8 * len(stack_words)).to_bytes(8, "little")  # header, stack size
    raw += b"".join(w.to_bytes(8, "little") for w in stack_words)
    lines = ["0x1@perf.data [0x2f8]: event: 9", ". ... raw event: size 760 bytes"]
    for at in range(0, len(raw), 16):
        chunk = " ".join(f"{b:02x}" for b in raw[at : at + 16])
        lines.append(f".  {at:04x}:  {chunk} ")
    lines.append(f"1 0x2 [0x2f8]: PERF_RECORD_SAMPLE(IP, 0x2): 7/7: {ip:#x} period: 1 addr: 0")
    lines.append("... ustack: size 512, offset 0x10")
    lines.append(f" ...... dso: {dso}")
    return lines


def test_perf_callers_names_the_first_kernel_on_each_sampled_stack(tmp_path):
    """A sample in a target counts for the first word of its stack inside a named kernel;
    constants the map names, words outside every kernel and the targets are skipped."""
    callers_py = _module("perf_callers")
    kernel = "_ZN3sim13kernel_stages11advance_dueB2v1B54c8"
    lines = [
        f"1000 100 {kernel}\n",
        "2000 10 NRT_incref\n",
        "3000 100 .const.picklebuf.abc\n",
        "4000 100 _ZN3sim12kernel_trust11trust_applyB3v56\n",
    ]
    map_path = tmp_path / "perf-1.map"
    map_path.write_text("".join(lines))
    dump = [
        *_dump_sample(0x2004, "/tmp/perf-1.map", [0x9, 0x3010, 0x2008, 0x1050]),
        *_dump_sample(0x2004, "/tmp/perf-1.map", [0x4010, 0x1050]),
        *_dump_sample(0x1010, "/tmp/perf-1.map", [0x4010]),  # in a kernel: not a target
        *_dump_sample(0x7F00, "/usr/lib/libm.so.6", [0x77, 0x4020]),
        *_dump_sample(0x2004, "/tmp/perf-1.map", [0x5]),  # no kernel on the stack
        *_dump_sample(0x7F00, "/usr/lib/libmvec.so.1", [0x4020]),  # another library
    ]
    # A word past the stack copy's size is stale: not read as a caller.
    beyond = _dump_sample(0x2004, "/tmp/perf-1.map", [0x5, 0x1050])
    size_line = next(k for k, line in enumerate(beyond) if line.startswith(".  0010:"))
    beyond[size_line] = beyond[size_line].replace(
        "10 00 00 00 00 00 00 00", "08 00 00 00 00 00 00 00", 1
    )
    dump += beyond
    in_target, callers = callers_py.count_callers(dump, map_path, ["NRT_incref", "libm"])
    assert in_target == {"NRT_incref": 4, "libm": 1}
    assert callers == {
        ("NRT_incref", "sim.kernel_stages.advance_due"): 1,
        ("NRT_incref", "sim.kernel_trust.trust_apply"): 1,
        ("NRT_incref", "?"): 2,
        ("libm", "sim.kernel_trust.trust_apply"): 1,
    }
    assert callers_py.short_name(kernel) == "sim.kernel_stages.advance_due"


def test_speed_probe_times_workloads_that_grow_with_their_size():
    probe = _module("speed_probe")
    # A hundred or a thousand times the work takes longer: the timers measure the work.
    assert probe.python_loop(200_000) > probe.python_loop(2_000)
    assert probe.random_gather(1_000_000, 1_000_000) > probe.random_gather(1_000, 1_000)
    assert probe.first_touch(1) >= 0.0
    result = probe.probe(scale=0.001)
    assert set(result) == {"python_loop_s", "random_gather_s", "first_touch_s"}
    assert all(isinstance(v, float) and v >= 0.0 for v in result.values())


def test_the_speed_probe_runs_as_a_child_of_the_benchmark(monkeypatch, capsys):
    small = _module("speed_probe").probe(scale=0.001)
    monkeypatch.setattr(run_py.speed_probe, "probe", lambda: small)
    assert run_py.main(["--child", "probe"]) == 0
    assert json.loads(capsys.readouterr().out) == small
