"""The coopsim commands on experiments: compare, sweep, analyze, and their parsers.

Running an experiment and writing its tables is shared with ``coopsim robust`` in
:mod:`sim.cli_results`; robust itself is :mod:`sim.cli_robust`, its parser added here
so that the commands keep their order in the help.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from sim.cli_common import (
    CliError,
    add_command,
    add_force,
    add_format,
    add_warmup_years,
    arg_positive_years,
    arg_reps,
    arg_sample_size,
    arg_scheduler,
    arg_workers,
    bounded,
    mark_out,
    prepare_out,
    run_overrides,
)
from sim.cli_guidance import check_experiment_arg, check_scenario_arg
from sim.cli_results import (  # write_tables re-exported: the tables of analyze and compare
    FOREST_PANELS_PER_PAGE,
    _report,
    _run_and_analyze,
    _same_plan,
    write_tables,
)
from sim.cli_robust import add_robust_parser, cmd_robust

__all__ = [
    "FOREST_PANELS_PER_PAGE",
    "add_experiment_parsers",
    "add_robust_parser",
    "cmd_analyze",
    "cmd_compare",
    "cmd_robust",
    "cmd_sweep",
    "write_tables",
]


def cmd_compare(args: argparse.Namespace) -> int:
    """Compare reform scenarios with a reference under common random numbers."""
    from sim.experiment import load_experiment, make_executor, scenario_label

    check_experiment_arg(args.experiment, "compare: --experiment")
    for ref in args.scenarios:
        check_scenario_arg(ref, "compare: SCENARIO")
    if args.reference:
        check_scenario_arg(args.reference, "compare: --reference")
    changes: dict = {}
    if args.reps is not None:
        changes["replications"] = args.reps
    if args.years is not None or args.warmup_years is not None:
        changes["overrides"] = run_overrides(args)
    if args.scenarios:
        reference = args.reference or "baseline"
        others = [s for s in args.scenarios if scenario_label(s) != scenario_label(reference)]
        if not others:
            raise CliError("compare: name at least one scenario other than the reference")
        changes["levers"] = {"scenarios": [reference, *others]}
        changes["reference"] = scenario_label(reference)
        changes["name"] = "compare_" + "_".join(scenario_label(s) for s in others)[:60]
        changes["description"] = f"{', '.join(map(scenario_label, others))} vs {reference}"
    elif args.reference:
        changes["reference"] = scenario_label(args.reference)
    if args.parameter_uncertainty:
        seeds_per_draw = args.seeds_per_draw or 2
        if args.reps is not None and args.reps % seeds_per_draw:
            raise CliError(
                f"compare: --reps {args.reps} is not a multiple of --seeds-per-draw "
                f"{seeds_per_draw} (every parameter draw gets the same number of seeds); use "
                f"e.g. {args.reps + seeds_per_draw - args.reps % seeds_per_draw}"
            )
        changes["parameter_uncertainty"] = {
            "seeds_per_draw": seeds_per_draw,
            "accepted": args.accepted or "shipped",
        }
    elif args.seeds_per_draw or args.accepted:
        option = "--seeds-per-draw" if args.seeds_per_draw else "--accepted"
        raise CliError(f"compare: {option} goes with --parameter-uncertainty")
    experiment = load_experiment(args.experiment, changes)
    # Results with parameter uncertainty go next to, not over, the plain comparison's.
    default = experiment.name + ("_parameters" if args.parameter_uncertainty else "")
    out = prepare_out(args.out or Path("results") / default, "experiment", args.force)
    # An interrupted (or finished) comparison of the very same plan continues where it
    # stopped; a different one replaces the results this command wrote before.
    resume = args.resume or _same_plan(out, experiment)
    results, tables, written = _run_and_analyze(
        experiment, out, make_executor(args.workers), resume, start_over="leave out --resume"
    )
    return _report(results, tables, written, out, fmt=args.format)


def cmd_sweep(args: argparse.Namespace) -> int:
    """Run an experiment file (uncertainties x levers x replications), resuming by default."""
    from sim.experiment import load_experiment, make_executor

    check_experiment_arg(args.experiment, "sweep: EXPERIMENT")
    changes = {"sample_size": args.sample_size} if args.sample_size is not None else None
    experiment = load_experiment(args.experiment, changes)
    out = prepare_out(args.out or Path("results") / experiment.name, "experiment", args.force)
    executor = make_executor(args.workers, args.scheduler, args.dask_local)
    results, tables, written = _run_and_analyze(
        experiment, out, executor, not args.no_resume, start_over="add --no-resume"
    )
    return _report(results, tables, written, out, fmt=args.format)


def cmd_analyze(args: argparse.Namespace) -> int:
    """Comparison tables and sensitivity indices of a results folder, in its own subfolder."""
    from sim.analysis import analyze, outcome_columns
    from sim.experiment import check_outcome_patterns
    from sim.store import StoreError, load_results

    try:
        results = load_results(args.results)
    except StoreError as exc:
        raise CliError(str(exc)) from None
    if "robust" in results.manifest:
        # Its options are package-in-world pairs: comparing them all with one reference
        # would mix worlds. Effects, regret and satisficing are computed per world.
        raise CliError(
            f"analyze: {args.results} holds a robustness run (coopsim robust); its effects, "
            "regret and satisficing are its robust_*.csv files. To recompute them, run the "
            f"same `coopsim robust ... --out {args.results}` again (it runs nothing new)"
        )
    if args.outcomes:
        available = outcome_columns(results.outcomes, results.plan)
        check_outcome_patterns(args.outcomes, available, "analyze: --outcomes")
    out = prepare_out(
        args.out or Path(args.results) / "analysis", "analysis", args.force, option="--out"
    )
    tables = analyze(results, args.outcomes)
    written: list[str] = []
    if tables["comparison"].empty and tables["sensitivity"].empty:
        print(
            "nothing to analyse: a single policy and no sobol/morris design; "
            f"load the outcomes with sim.load_results({str(args.results)!r})"
        )
    else:
        mark_out(out, "analysis")
        named = bool(args.outcomes or results.manifest["experiment"].get("outcomes"))
        written = write_tables(tables, out, title=results.manifest["name"], every_outcome=named)
    return _report(results, tables, written, out, data_files=False, fmt=args.format)


def add_experiment_parsers(sub) -> None:
    """Parsers of compare, sweep and analyze."""
    p = add_command(
        sub,
        "compare",
        cmd_compare,
        "Compare reform scenarios with a reference: paired differences with CIs.",
    )
    p.add_argument(
        "scenarios",
        nargs="*",
        metavar="SCENARIO",
        help="scenario files or shipped names (default: the packages of "
        "experiments/compare_packages.toml)",
    )
    p.add_argument("--reference", help="reference scenario (default: baseline)")
    p.add_argument("--reps", type=arg_reps, help="replications per scenario")
    p.add_argument(
        "--years", type=arg_positive_years, help="override the measurement window (run.years)"
    )
    add_warmup_years(p)
    p.add_argument("--workers", type=arg_workers, help="local worker processes (default: all CPUs)")
    p.add_argument("--out", help="results folder (default: results/<experiment name>)")
    add_force(p)
    p.add_argument(
        "--experiment",
        default="compare_packages",
        help="experiment file giving replications, seed and outcomes",
    )
    p.add_argument(
        "--resume",
        action="store_true",
        help="keep finished runs of an earlier, identical comparison",
    )
    p.add_argument(
        "--parameter-uncertainty",
        action="store_true",
        help="draw each replication's calibrated parameters from the history-matching "
        "accepted set (the same draw for every policy); the table splits each interval "
        "into parameters and chance (results/<name>_parameters by default)",
    )
    p.add_argument(
        "--seeds-per-draw",
        type=bounded(1, 100_000, int),
        help="with --parameter-uncertainty: seeds per parameter draw (default 2; "
        "--reps 20 = 10 draws x 2 seeds)",
    )
    p.add_argument(
        "--accepted",
        help="with --parameter-uncertainty: an accepted.csv of coopsim calibrate (default: "
        "the shipped one, sim/data/calibration/accepted.csv)",
    )
    add_format(p)

    add_robust_parser(sub)

    p = add_command(
        sub, "sweep", cmd_sweep, "Run an experiment file: uncertainties x levers x replications."
    )
    p.add_argument("experiment", help="experiment file, or the name of a shipped one")
    p.add_argument(
        "--workers",
        type=arg_workers,
        help="worker processes (default: all CPUs; 1 = in this process)",
    )
    where = p.add_mutually_exclusive_group()
    where.add_argument("--scheduler", type=arg_scheduler, help="Dask scheduler address")
    where.add_argument(
        "--dask-local", action="store_true", help="run on a Dask LocalCluster bound to 127.0.0.1"
    )
    p.add_argument("--out", help="results folder (default: results/<experiment name>)")
    add_force(p)
    p.add_argument(
        "--no-resume",
        action="store_true",
        help="start over: earlier results in the folder are moved aside (NAME.replaced-<time>)",
    )
    p.add_argument(
        "--sample-size",
        type=arg_sample_size,
        help="replace the file's sample_size (sobol: base samples N, a power of 2; "
        "morris: trajectories; lhs: points)",
    )
    add_format(p)

    p = add_command(
        sub,
        "analyze",
        cmd_analyze,
        "Comparison tables and sensitivity indices of a results folder.",
    )
    p.add_argument("results", help="results folder written by sweep or compare")
    p.add_argument("--outcomes", nargs="+", help="outcomes to analyse (names or * patterns)")
    p.add_argument(
        "--out", help="folder for the tables and forest plot (default: RESULTS/analysis)"
    )
    add_force(p)
    add_format(p)
