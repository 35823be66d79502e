"""The coopsim commands on single scenarios and on the model's checks.

run, validate, scenarios, describe, facts, calibrate, warmup, plot, explore.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from sim.cli_common import (
    EXIT_BAD_INPUT,
    EXIT_FAILED,
    EXIT_OK,
    mark_out,
    package_version,
    prepare_out,
    run_overrides,
)
from sim.cli_guidance import check_scenario_arg
from sim.errors import CoopsimError
from sim.scenario import ScenarioError


def _format_summary(outcomes: dict) -> str:
    """A readable summary of one run's outcomes."""

    def pct(x):
        return "n/a" if x is None or x != x else f"{100 * x:.1f}%"

    def days(x):
        return "n/a" if x is None or x != x else f"{x:.0f} d"

    def level(x):  # a world of one state has no pair to trust
        return "n/a" if x is None or x != x else f"{x:.3f}"

    o = outcomes
    lines = [
        f"scenario {o['scenario']}: {o['states']} states, {o['days']} days measured "
        "(after the warm-up)",
        f"  requests              {o['requests_total']:>8}",
        f"  executed              {pct(o['completion_rate']):>8}",
        f"  refused               {pct(o['refusal_rate']):>8}",
        f"  lapsed                {pct(o['lapse_rate']):>8}",
        f"  withdrawn             {pct(o['withdrawal_rate']):>8}",
        f"  open at end (sent)    {o['requests_open']:>8}",
        f"  drafting at end       {o.get('requests_drafting', 0):>8}",
        "  days to an answer, Kaplan-Meier median [quartiles] (naive median of answered):",
    ]
    for kind, med in o["km_median_response_days"].items():
        quartiles = (
            f"[{days(o['km_q25_response_days'][kind])}-{days(o['km_q75_response_days'][kind])}]"
        )
        naive = days(o["median_response_days"][kind])
        lines.append(f"    {kind:<20}{days(med):>8} {quartiles:>16} ({naive})")
    lines.append("  refusals by ground (share of requests):")
    for ground, rate in o["refusal_rate_by_ground"].items():
        lines.append(f"    {ground:<20}{pct(rate):>8}")
    lines += [
        f"  cases resolved        {pct(o['case_resolution_rate']):>8} of {o['cases_total']}",
        f"  cases gone cold       {o['cases_cold']:>8}",
        f"  mean trust            {level(o['mean_trust']):>8}",
    ]
    for key in ("intel_shared", "leaks", "red_notices_requested", "jits_formed"):
        if key in o:
            lines.append(f"  {key.replace('_', ' '):<22}{o[key]:>8}")
    return "\n".join(lines)


# ---------------------------------------------------------------------- commands
def cmd_run(args: argparse.Namespace) -> int:
    """Run one scenario and print (or write) its outcomes."""
    from sim.compiling import ensure_compiled
    from sim.metrics import to_jsonable
    from sim.model import run
    from sim.scenario import load_scenario

    check_scenario_arg(args.scenario, "run: SCENARIO")
    scenario = load_scenario(args.scenario, run_overrides(args))
    out = prepare_out(args.out, "run", args.force) if args.out else None
    ensure_compiled(scenarios=[scenario])
    result = run(scenario, seed=args.seed, progress=args.progress)
    if out is not None:
        from sim.store import write_run

        write_run(out, result, seed=args.seed)
    if args.json:
        print(json.dumps(to_jsonable(result.outcomes), indent=2, sort_keys=True))
    else:
        print(_format_summary(to_jsonable(result.outcomes)))
        if out is not None:
            print(f"wrote outcomes, daily series, ledger and manifest to {out}")
    return EXIT_OK


def cmd_compile(args: argparse.Namespace) -> int:
    """Compile the model's kernels for this machine, unless they are compiled already."""
    import time

    from sim.compiling import cache_is_cold, cold_optional_parts, compile_kernels, compile_optional
    from sim.kernel_cache import active_cache_dir

    cold, parts = cache_is_cold(), cold_optional_parts()
    if not cold and not parts:
        print(f"the kernels are compiled for this source already: {active_cache_dir()}")
        return EXIT_OK
    started = time.perf_counter()
    if cold:
        compile_kernels()
    compile_optional(parts)
    print(f"compiled the kernels in {time.perf_counter() - started:.0f} s: {active_cache_dir()}")
    return EXIT_OK


EXPERIMENT_KEYS = frozenset(
    {"replications", "base_seed", "design", "sample_size", "levels", "second_order"}
    | {"reference", "outcomes", "uncertainties", "levers", "overrides", "series"}
    | {"confidence", "ci_method"}
)


def looks_like_experiment(path: Path) -> bool:
    """Whether a TOML file is an experiment file: in an ``experiments`` folder, or by its keys.

    A scenario ``extends`` another and has parameter sections; an experiment has
    ``replications``, ``levers``, ``uncertainties``, ``outcomes`` and the like.
    """
    import tomllib

    if path.resolve().parent.name == "experiments":
        return True
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return False  # the scenario loader reports it
    return "extends" not in data and bool(EXPERIMENT_KEYS & set(data))


def cmd_validate(args: argparse.Namespace) -> int:
    """Validate scenario and experiment files; report every error."""
    from sim.experiment import (
        is_robustness_file,
        load_experiment,
        planned_size,
        read_experiment_file,
    )
    from sim.scenario import load_scenario

    failed = 0
    for path in args.files:
        try:
            if Path(path).is_file() and looks_like_experiment(Path(path)):
                if is_robustness_file(read_experiment_file(path)):
                    from sim.robust_experiment import load_robust

                    robust = load_robust(path)
                    print(
                        f"{path}: ok (experiment {robust.name!r}, coopsim robust: "
                        f"{len(robust.worlds)} worlds x {len(robust.packages)} options x "
                        f"{robust.spec.replications} replications = {len(robust.run_specs())} runs)"
                    )
                    continue
                experiment = load_experiment(path)
                policies, points, reps = planned_size(experiment.spec)
                detail = (
                    f"experiment {experiment.name!r}: {policies} policies x {points} design "
                    f"points x {reps} replications = {policies * points * reps} runs"
                )
            else:
                load_scenario(path)
                detail = ""
        except CoopsimError as exc:
            failed += 1
            print(str(exc), file=sys.stderr)
        else:
            print(f"{path}: ok" + (f" ({detail})" if detail else ""))
    return EXIT_BAD_INPUT if failed else EXIT_OK


def cmd_scenarios(args: argparse.Namespace) -> int:
    """List the shipped scenarios with their one-line descriptions."""
    from sim.scenario import load_scenario, shipped_scenarios

    for name, path in shipped_scenarios().items():
        try:
            description = load_scenario(path).description
        except ScenarioError as exc:
            description = f"(invalid: {str(exc).splitlines()[0]})"
        print(f"{name:<28}{description}")
    return EXIT_OK


def _range_text(row: dict) -> str:
    """A parameter's allowed range: ``0-1``, ``>= 0``, ``<= 5`` or ``any``."""

    def num(x) -> str:
        return f"{x:g}" if isinstance(x, float) else str(x)

    lo, hi = row["min"], row["max"]
    if lo is not None and hi is not None:
        return f"{num(lo)}-{num(hi)}"
    if lo is not None:
        return f">= {num(lo)}"
    if hi is not None:
        return f"<= {num(hi)}"
    return "any"


def cmd_describe(args: argparse.Namespace) -> int:
    """Print every resolved parameter of a scenario: value, unit, range and meaning."""
    from sim.scenario import load_scenario, parameter_table

    check_scenario_arg(args.scenario, "describe: SCENARIO")
    scenario = load_scenario(args.scenario)
    data = scenario.model_dump()
    print(f"# {scenario.name}: {scenario.description}")
    print(f"# from {scenario.source}")
    print("# key = value  # unit; allowed range; meaning")
    current = None
    for row in parameter_table():
        if row["section"] != current:
            current = row["section"]
            print(f"\n[{current}]")
        value = data[row["section"]][row["key"]]
        changed = (
            ""
            if value == row["default"]
            else f"  (changed from default {json.dumps(row['default'])})"
        )
        unit = row["unit"] or row["type"]
        print(
            f"{row['key']} = {json.dumps(value)}  # {unit}; {_range_text(row)}; "
            f"{row['description']}{changed}"
        )
    return EXIT_OK


def cmd_facts(args: argparse.Namespace) -> int:
    """Compare the model with the public stylized facts; write a table and a figure."""
    from sim.calibration import facts_table, format_facts, plot_facts
    from sim.store import atomic_write_text

    out = prepare_out(args.out, "facts", args.force)
    table = facts_table(reps=args.reps, workers=args.workers, progress=True)
    print(format_facts(table))
    mark_out(out, "facts")
    atomic_write_text(out / "facts.csv", table.to_csv(index=False))
    plot_facts(table, out / "facts.png")
    print(f"wrote {out / 'facts.csv'} and {out / 'facts.png'}")
    calibrated = table[table["calibrated"]]
    return EXIT_OK if bool(calibrated["in_range"].all()) or not args.strict else 1


def cmd_calibrate(args: argparse.Namespace) -> int:
    """History matching of the calibrated parameters against the stylized facts."""
    from sim.accepted_set import format_summary, write_outputs
    from sim.history_matching import CoopsimSimulator, history_match
    from sim.implausibility import CALIBRATION_DIR, load_priors
    from sim.plots import calibration_plot
    from sim.store import git_commit, now_iso

    out = prepare_out(args.out, "calibration", args.force)
    priors = load_priors()  # bad priors end here (exit 2), before any run
    if args.reps == 1:
        print(
            "note: --reps 1: the run-to-run variance then comes from the emulators' "
            "white-noise term, which is less reliable than from seeds at the same point",
            file=sys.stderr,
        )
    mark_out(out, "calibration")
    # Every finished run is kept in the cache: the same command resumes after a stop.
    simulator = CoopsimSimulator(
        years=args.years, workers=args.workers, cache=out / "runs_cache.csv"
    )
    if simulator.rows:
        print(f"resuming: {len(simulator.rows)} finished runs in {out / 'runs_cache.csv'}")
    print(
        f"history matching: wave 1 {args.wave1} points, wave 2 {args.wave2} points, "
        f"{args.reps} seeds each, baseline with a {simulator.base.run.warmup_years:g}-year "
        f"warm-up and a {args.years:g}-year window, {args.workers} workers",
        flush=True,
    )
    # Provenance is taken before the runs (the tree may change while they run).
    extra = {
        "date": now_iso(),
        "git_commit": git_commit(),
        "package_version": package_version(),
        "command": (
            f"coopsim calibrate --wave1 {args.wave1} --wave2 {args.wave2} --reps {args.reps} "
            f"--seed {args.seed} --years {args.years:g} --workers {args.workers}"
        ),
        "scenario": "baseline",
        "run_years": args.years,
        "warmup_years": simulator.base.run.warmup_years,
    }
    result = history_match(
        simulator,
        priors,
        wave_points=(args.wave1, args.wave2),
        reps=args.reps,
        seed=args.seed,
        progress=True,
        log=lambda line: print(line, flush=True),
    )
    written = write_outputs(result, out, extra)
    bounds = {p.name: (p.low, p.high, p.log) for p in priors}
    title = (
        f"History matching: {len(result.accepted)} accepted of "
        f"{sum(w['runs'] for w in result.waves)} runs (wave 1 grey, wave 2 blue)"
    )
    written.append(
        calibration_plot(result.runs, result.accepted, bounds, out / "history_matching.png", title)
    )
    print()
    print(format_summary(result))
    print(f"\nwrote {', '.join(str(p) for p in written)}")
    if result.accepted.empty:
        print(
            "warning: the accepted set is empty; nothing to draw parameters from. "
            + ("Not installed. " if args.install else "")
            + "See history_matching.toml for the variances per fact.",
            file=sys.stderr,
        )
        return EXIT_FAILED
    if args.install:
        installed = write_outputs(result, CALIBRATION_DIR, extra)
        print(f"installed {', '.join(str(p) for p in installed)}")
    return EXIT_OK


def cmd_warmup(args: argparse.Namespace) -> int:
    """Choose a scenario's warm-up by MSER-5 on replication averages; table, figure, CSV."""
    from sim.experiment import scenario_label
    from sim.plots import warmup_plot
    from sim.scenario import load_scenario
    from sim.store import atomic_write_text
    from sim.warmup import format_report, warmup_report

    check_scenario_arg(args.scenario, "warmup: SCENARIO")
    scenario = load_scenario(args.scenario)  # a bad file ends here, before any run
    label = scenario_label(args.scenario)
    out = prepare_out(args.out or Path("results") / f"warmup_{label}", "warmup", args.force)
    seeds = list(range(args.seed, args.seed + args.reps))
    report = warmup_report(
        scenario, years=args.years, seeds=seeds, workers=args.workers, progress=True
    )
    print(format_report(report))
    mark_out(out, "warmup")
    atomic_write_text(out / "warmup_series.csv", report.daily.to_csv(index=False))
    atomic_write_text(out / "warmup_mser.csv", report.table.to_csv(index=False))
    title = (
        f"Warm-up of {report.scenario}: MSER-5 on {len(seeds)} replications of "
        f"{report.years:g} years (5-day batch means)"
    )
    warmup_plot(report.batched, report.table, report.warmup_days, out / "warmup.png", title)
    files = ("warmup.png", "warmup_series.csv", "warmup_mser.csv")
    print(f"\nwrote {', '.join(str(out / name) for name in files)}")
    if not report.steady:
        print(
            "warning: no steady state on every series (see the notes above); the warm-up "
            "covers only the series that settled",
            file=sys.stderr,
        )
        return EXIT_FAILED if args.strict else EXIT_OK
    return EXIT_OK


def cmd_plot(args: argparse.Namespace) -> int:
    """Draw the figures of a results folder (PNG and SVG)."""
    from sim.plots import PlotError, write_figures

    results = Path(args.results)
    if not results.is_dir():
        raise PlotError(f"{results}: no such folder")
    out = prepare_out(args.out or results / "figures", "figures", args.force)
    written = write_figures(results, out)
    mark_out(out, "figures")
    for path in written:
        print(f"wrote {path}")
    return EXIT_OK


def cmd_explore(args: argparse.Namespace) -> int:
    """Serve the interactive explorer on 127.0.0.1."""
    from sim.explorer import serve

    check_scenario_arg(args.scenario, "explore: SCENARIO")
    return serve(args.scenario, port=args.port)
