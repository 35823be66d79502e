"""The coopsim commands on experiments: compare, robust, sweep, analyze, and their parsers."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from sim.cli_common import (
    EXIT_FAILED,
    EXIT_OK,
    CliError,
    add_command,
    add_force,
    add_format,
    add_warmup_years,
    arg_positive_years,
    arg_reps,
    arg_sample_size,
    arg_scheduler,
    arg_seed,
    arg_threshold,
    arg_workers,
    bounded,
    check_experiment_arg,
    check_scenario_arg,
    mark_out,
    prepare_out,
    run_overrides,
)

FOREST_PANELS_PER_PAGE = 12


def write_tables(tables: dict, out: Path, title: str, every_outcome: bool = True) -> list[str]:
    """Write the comparison (CSV + forest plot pages) and sensitivity tables into ``out``.

    The forest plot shows every outcome: 12 panels a page, ``comparison.png`` then
    ``comparison-2.png``, ... (stale pages of an earlier, longer table are removed).

    Args:
        tables: Output of :func:`sim.analysis.analyze`.
        out: The folder.
        title: Figure title.
        every_outcome: False when nobody named the outcomes (all ~90 by default): one
            page of the first 12, with a note saying how to draw others.

    Returns:
        The names of the files written.
    """
    from sim.plots import forest_plot
    from sim.store import atomic_write_text

    written: list[str] = []
    comparison = tables["comparison"]
    if not comparison.empty:
        atomic_write_text(out / "comparison.csv", comparison.to_csv(index=False))
        written.append("comparison.csv")
        outcomes = list(dict.fromkeys(comparison["outcome"]))
        if not every_outcome and len(outcomes) > FOREST_PANELS_PER_PAGE:
            print(
                f"note: comparison.png draws the first {FOREST_PANELS_PER_PAGE} of "
                f"{len(outcomes)} outcomes (the CSV has them all); name outcomes to draw them: "
                "coopsim analyze RESULTS --outcomes ...",
                file=sys.stderr,
            )
            outcomes = outcomes[:FOREST_PANELS_PER_PAGE]
        pages = [
            outcomes[i : i + FOREST_PANELS_PER_PAGE]
            for i in range(0, len(outcomes), FOREST_PANELS_PER_PAGE)
        ]
        for number, page in enumerate(pages, start=1):
            name = "comparison.png" if number == 1 else f"comparison-{number}.png"
            suffix = f" ({number}/{len(pages)})" if len(pages) > 1 else ""
            forest_plot(
                comparison[comparison["outcome"].isin(page)],
                out / name,
                title=title[: 90 - len(suffix)] + suffix,
                max_outcomes=len(page),
            )
            written.append(name)
        for stale in out.glob("comparison-*.png"):
            if stale.name not in written and stale.stem.split("-")[-1].isdigit():
                stale.unlink()
    if not tables["sensitivity"].empty:
        atomic_write_text(out / "sensitivity.csv", tables["sensitivity"].to_csv(index=False))
        written.append("sensitivity.csv")
    return written


def _same_plan(out: Path, experiment) -> bool:
    """Whether ``out`` holds (part of) the results of this very plan."""
    try:
        manifest = json.loads((out / "manifest.json").read_text())
    except (OSError, ValueError):
        return False
    return isinstance(manifest, dict) and manifest.get("plan_hash") == experiment.plan_hash()


def _execute(experiment, out: Path, executor, resume: bool):
    """Run (or resume) an experiment into ``out``; StoreError -> exit 2."""
    from sim.experiment import Interrupted, run_experiment
    from sim.store import StoreError

    try:
        executor.__enter__()
    except OSError as exc:  # e.g. no Dask scheduler at the address
        raise CliError(f"executor {executor.name}: {exc}") from None
    try:
        return run_experiment(experiment, out, executor=executor, resume=resume)
    except StoreError as exc:
        raise CliError(str(exc)) from None
    except Interrupted:
        raise
    finally:
        executor.close()


def _run_and_analyze(experiment, out: Path, executor, resume: bool) -> tuple[object, dict, list]:
    """Run (or resume) an experiment, then analyse and write its tables; StoreError -> exit 2."""
    from sim.analysis import analyze

    results = _execute(experiment, out, executor, resume)
    tables = analyze(results)
    title = f"{experiment.name}: {experiment.spec.description}"
    every = bool(experiment.spec.outcomes)
    return results, tables, write_tables(tables, out, title, every_outcome=every)


def _report(
    results,
    tables: dict,
    written: list[str],
    out: Path,
    data_files: bool = True,
    fmt: str = "text",
) -> int:
    """Print the tables (in ``fmt``) and where they went; exit 1 if runs failed for good."""
    from sim.analysis import format_comparison, format_sensitivity, sensitivity_warnings

    if not tables["comparison"].empty:
        print(format_comparison(tables["comparison"], fmt))
    if not tables["sensitivity"].empty:
        print(format_sensitivity(tables["sensitivity"], fmt))
        for warning in sensitivity_warnings(tables["sensitivity"], results.manifest):
            print(warning, file=sys.stderr)
    n_plan, n_ok = len(results.plan), len(results.outcomes)
    folder = Path(results.folder)
    files = ["outcomes.parquet", "runs.parquet", "manifest.json"] if data_files else []
    files += [
        f
        for f in ("series.parquet", "agency_series.parquet")
        if data_files and (folder / f).is_file()
    ]
    files += written
    # Only the table goes to stdout in a machine format (csv, markdown, latex).
    status = sys.stdout if fmt == "text" else sys.stderr
    print(f"\n{n_ok} of {n_plan} runs done; results in {out}/ ({', '.join(files)})", file=status)
    if not results.failures.empty:
        print(
            f"warning: {len(results.failures)} runs failed twice; their errors are in "
            f"{folder}/runs.parquet; rerun the same command to retry them:",
            file=sys.stderr,
        )
        for row in results.failures.head(5).itertuples():
            print(
                f"  {row.run_id} ({row.policy}): {str(row.error).splitlines()[0]}", file=sys.stderr
            )
        return EXIT_FAILED
    return EXIT_OK


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
        changes["parameter_uncertainty"] = {
            "seeds_per_draw": args.seeds_per_draw or 2,
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
        experiment, out, make_executor(args.workers), resume=resume
    )
    return _report(results, tables, written, out, fmt=args.format)


def cmd_robust(args: argparse.Namespace) -> int:
    """Run every reform package in every world (paired by seed); regret and satisficing."""
    from sim.experiment import make_executor
    from sim.robust import format_robustness, parse_threshold, robustness
    from sim.robust_experiment import check_outcomes, check_thresholds, load_robust
    from sim.robust_plots import write_robustness

    check_experiment_arg(args.experiment, "robust: EXPERIMENT_FILE")
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
    results = _execute(experiment, out, make_executor(args.workers), resume)
    spec = experiment.robust
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


def cmd_sweep(args: argparse.Namespace) -> int:
    """Run an experiment file (uncertainties x levers x replications), resuming by default."""
    from sim.experiment import load_experiment, make_executor

    check_experiment_arg(args.experiment, "sweep: EXPERIMENT")
    changes = {"sample_size": args.sample_size} if args.sample_size is not None else None
    experiment = load_experiment(args.experiment, changes)
    out = prepare_out(args.out or Path("results") / experiment.name, "experiment", args.force)
    executor = make_executor(args.workers, args.scheduler, args.dask_local)
    results, tables, written = _run_and_analyze(
        experiment, out, executor, resume=not args.no_resume
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
            f"the outcomes are in {args.results}/outcomes.parquet"
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
        type=bounded("--seeds-per-draw", 1, 100_000, int),
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
        help="discard earlier results in the folder and start over",
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
        type=bounded("--calibrated-draws", 0, 1000, int),
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
