"""The ``coopsim robust`` command: every reform package in every world, regret and satisficing.

Its plan and checks are :mod:`sim.robust_experiment`, its tables :mod:`sim.robust`
and its heat map :mod:`sim.robust_plots`; this module is the command and its parser.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sim.cli_common import (
    EXIT_FAILED,
    EXIT_OK,
    add_command,
    add_force,
    add_warmup_years,
    arg_positive_years,
    arg_reps,
    arg_seed,
    arg_threshold,
    arg_workers,
    bounded,
    prepare_out,
    run_overrides,
)
from sim.cli_guidance import check_experiment_arg
from sim.cli_results import _execute, _same_plan, interrupts_after_the_runs


def cmd_robust(args: argparse.Namespace) -> int:
    """Run every reform package in every world (paired by seed); regret and satisficing."""
    from sim.experiment import make_executor
    from sim.robust import format_robustness, parse_threshold, robustness
    from sim.robust_experiment import check_outcomes, check_thresholds, load_robust
    from sim.robust_plots import write_robustness

    check_experiment_arg(args.experiment, "robust: EXPERIMENT_FILE", robust=True)
    changes: dict = {}
    if args.reps is not None:
        changes["replications"] = args.reps
    if args.seed is not None:
        changes["base_seed"] = args.seed
    if args.years is not None or args.warmup_years is not None:
        changes["overrides"] = run_overrides(args)
    if args.outcomes:
        check_outcomes(args.outcomes, "robust: --outcomes")
        changes["outcomes"] = args.outcomes
    if args.threshold is not None:
        check_thresholds([parse_threshold(t) for t in args.threshold], "robust: --threshold")
        changes["thresholds"] = args.threshold
    if args.calibrated_draws is not None:
        changes["calibrated_draws"] = args.calibrated_draws
    if args.heatmap is not None:
        changes["heatmap"] = args.heatmap
    experiment = load_robust(args.experiment, changes, args.worlds, args.packages)
    out = prepare_out(args.out or Path("results") / experiment.name, "experiment", args.force)
    resume = args.resume or _same_plan(out, experiment)
    results = _execute(
        experiment, out, make_executor(args.workers), resume, start_over="leave out --resume"
    )
    spec = experiment.robust
    with interrupts_after_the_runs(results):
        tables = robustness(
            results.outcomes, list(spec.outcomes), spec.reference, experiment.thresholds,
            spec.confidence,
        )  # fmt: skip
        written = write_robustness(tables, out, spec.heatmap)
    print(format_robustness(tables))
    print(
        f"\n{len(results.outcomes)} of {len(results.plan)} runs done "
        f"({len(experiment.worlds)} worlds x {len(experiment.packages)} options x "
        f"{spec.replications} replications); results in {out}/ ({', '.join(written)})"
    )
    if not results.failures.empty:
        print(
            f"warning: {len(results.failures)} runs failed twice; their errors are in "
            f"{out}/runs.parquet; rerun the same command to retry them",
            file=sys.stderr,
        )
        return EXIT_FAILED
    return EXIT_OK


def add_robust_parser(sub) -> None:
    """Parser of robust."""
    p = add_command(
        sub,
        "robust",
        cmd_robust,
        "Reform packages across worlds: effects, regret (minimax) and satisficing.",
    )
    p.add_argument(
        "experiment",
        nargs="?",
        default="robust_packages",
        metavar="EXPERIMENT_FILE",
        help="robustness file (worlds, packages), or a shipped name (default robust_packages)",
    )
    p.add_argument("--reps", type=arg_reps, help="replications per package and world")
    p.add_argument("--seed", type=arg_seed, help="base seed of the replications")
    p.add_argument(
        "--years", type=arg_positive_years, help="override the measurement window (run.years)"
    )
    add_warmup_years(p)
    p.add_argument("--worlds", nargs="+", metavar="WORLD", help="only these worlds of the file")
    p.add_argument(
        "--packages", nargs="+", metavar="PACKAGE", help="only these packages of the file"
    )
    p.add_argument(
        "--outcomes",
        nargs="+",
        metavar="OUTCOME",
        help="outcomes for effects and regret (names with a better direction)",
    )
    p.add_argument(
        "--threshold",
        action="append",
        type=arg_threshold,
        metavar="OUTCOME>=X",
        help="satisficing criterion, repeatable (<=, >, < too); replaces the file's thresholds",
    )
    p.add_argument(
        "--calibrated-draws",
        type=bounded(0, 1000, int),
        help="cross each world with N parameter vectors of the calibrated accepted set",
    )
    p.add_argument(
        "--heatmap", choices=("regret", "effect"), help="what the heat map colours (default regret)"
    )
    p.add_argument("--workers", type=arg_workers, help="local worker processes (default: all CPUs)")
    p.add_argument("--out", help="results folder (default: results/<name in the file>)")
    add_force(p)
    p.add_argument(
        "--resume", action="store_true", help="keep finished runs of an earlier, identical plan"
    )
