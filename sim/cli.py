"""The ``coopsim`` command.

Each subcommand is a small function ``cmd_<name>(args) -> int``. Bad input
(scenario files, arguments) ends with a clear message on stderr and exit code 2,
before anything is written.
"""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
from pathlib import Path

from sim.scenario import ScenarioError

EXIT_OK = 0
EXIT_BAD_INPUT = 2


class CliError(Exception):
    """A user error found by the CLI itself (exit 2)."""


def _positive_years(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--years: expected a number, found {text!r}") from None
    if not 0.01 <= value <= 50:
        raise argparse.ArgumentTypeError(f"--years: allowed 0.01-50, found {value}")
    return value


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--seed: expected an integer, found {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"--seed: must be >= 0, found {value}")
    return value


def _format_summary(outcomes: dict) -> str:
    """A readable summary of one run's outcomes."""

    def pct(x):
        return "n/a" if x is None or x != x else f"{100 * x:.1f}%"

    def days(x):
        return "n/a" if x is None or x != x else f"{x:.0f} d"

    o = outcomes
    lines = [
        f"scenario {o['scenario']}: {o['states']} states, {o['days']} days",
        f"  requests              {o['requests_total']:>8}",
        f"  executed              {pct(o['completion_rate']):>8}",
        f"  refused               {pct(o['refusal_rate']):>8}",
        f"  lapsed                {pct(o['lapse_rate']):>8}",
        f"  open at end (sent)    {o['requests_open']:>8}",
        f"  drafting at end       {o.get('requests_drafting', 0):>8}",
        "  median response (p90):",
    ]
    for kind, med in o["median_response_days"].items():
        lines.append(f"    {kind:<20}{days(med):>8} ({days(o['p90_response_days'][kind])})")
    lines.append("  refusals by ground (share of requests):")
    for ground, rate in o["refusal_rate_by_ground"].items():
        lines.append(f"    {ground:<20}{pct(rate):>8}")
    lines += [
        f"  cases resolved        {pct(o['case_resolution_rate']):>8} of {o['cases_total']}",
        f"  cases gone cold       {o['cases_cold']:>8}",
        f"  mean trust            {o['mean_trust']:>8.3f}",
    ]
    for key in ("intel_shared", "leaks", "red_notices_requested", "jits_formed"):
        if key in o:
            lines.append(f"  {key.replace('_', ' '):<22}{o[key]:>8}")
    return "\n".join(lines)


# ---------------------------------------------------------------------- commands
def cmd_run(args: argparse.Namespace) -> int:
    """Run one scenario and print (or write) its outcomes."""
    from sim.metrics import to_jsonable
    from sim.model import run
    from sim.scenario import load_scenario

    overrides = {"run.years": args.years} if args.years is not None else {}
    scenario = load_scenario(args.scenario, overrides)
    result = run(scenario, seed=args.seed, progress=args.progress)
    if args.out:
        from sim.store import write_run

        write_run(Path(args.out), result, seed=args.seed)
    if args.json:
        print(json.dumps(to_jsonable(result.outcomes), indent=2, sort_keys=True))
    else:
        print(_format_summary(to_jsonable(result.outcomes)))
        if args.out:
            print(f"wrote outcomes, daily series, ledger and manifest to {args.out}")
    return EXIT_OK


def cmd_validate(args: argparse.Namespace) -> int:
    """Validate scenario files; report every error."""
    from sim.scenario import load_scenario

    failed = 0
    for path in args.files:
        try:
            load_scenario(path)
        except ScenarioError as exc:
            failed += 1
            print(str(exc), file=sys.stderr)
        else:
            print(f"{path}: ok")
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


def cmd_describe(args: argparse.Namespace) -> int:
    """Print every resolved parameter of a scenario with units."""
    from sim.scenario import load_scenario, parameter_table

    scenario = load_scenario(args.scenario)
    data = scenario.model_dump()
    print(f"# {scenario.name}: {scenario.description}")
    print(f"# from {scenario.source}")
    current = None
    for row in parameter_table():
        if row["section"] != current:
            current = row["section"]
            print(f"\n[{current}]")
        value = data[row["section"]][row["key"]]
        marker = "" if value == row["default"] else "   # changed from default"
        print(f"{row['key']} = {json.dumps(value)}  # {row['unit']}{marker}")
    return EXIT_OK


# ---------------------------------------------------------------------- experiments
def _workers(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--workers: expected an integer, found {text!r}"
        ) from None
    if not 1 <= value <= 1024:
        raise argparse.ArgumentTypeError(f"--workers: allowed 1-1024, found {value}")
    return value


def _reps(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--reps: expected an integer, found {text!r}") from None
    if not 2 <= value <= 100000:
        raise argparse.ArgumentTypeError(f"--reps: allowed 2-100000, found {value}")
    return value


def _scheduler(text: str) -> str:
    if "://" not in text or not text.split("://", 1)[1]:
        raise argparse.ArgumentTypeError(
            f"--scheduler: expected an address like tcp://127.0.0.1:8786, found {text!r}"
        )
    return text


def _run_and_analyze(experiment, out: Path, executor, resume: bool) -> tuple[object, dict]:
    """Run (or resume) an experiment, then analyse and write its tables; StoreError -> exit 2."""
    from sim.analysis import analyze
    from sim.experiment import run_experiment
    from sim.plots import forest_plot
    from sim.store import StoreError, atomic_write_text

    try:
        with executor:
            results = run_experiment(experiment, out, executor=executor, resume=resume)
    except StoreError as exc:
        raise CliError(str(exc)) from None
    except OSError as exc:  # e.g. no Dask scheduler at the address
        raise CliError(f"executor {executor.name}: {exc}") from None
    tables = analyze(results)
    if not tables["comparison"].empty:
        atomic_write_text(out / "comparison.csv", tables["comparison"].to_csv(index=False))
        forest_plot(
            tables["comparison"],
            out / "comparison.png",
            title=f"{experiment.name}: {experiment.spec.description}"[:90],
        )
    if not tables["sensitivity"].empty:
        atomic_write_text(out / "sensitivity.csv", tables["sensitivity"].to_csv(index=False))
    return results, tables


def _report(results, tables: dict, out: Path, fmt: str = "text") -> int:
    """Print the tables (in ``fmt``) and where they went; exit 1 if runs failed for good."""
    from sim.analysis import format_comparison, format_sensitivity, sensitivity_warnings

    if not tables["comparison"].empty:
        print(format_comparison(tables["comparison"], fmt))
    if not tables["sensitivity"].empty:
        print(format_sensitivity(tables["sensitivity"], fmt))
        for warning in sensitivity_warnings(tables["sensitivity"], results.manifest):
            print(warning, file=sys.stderr)
    n_plan, n_ok = len(results.plan), len(results.outcomes)
    files = ["outcomes.parquet", "runs.parquet", "manifest.json"]
    files += [f for f in ("series.parquet", "agency_series.parquet") if (out / f).is_file()]
    if not tables["comparison"].empty:
        files += ["comparison.csv", "comparison.png"]
    if not tables["sensitivity"].empty:
        files.append("sensitivity.csv")
    # Only the table goes to stdout in a machine format (csv, markdown, latex).
    status = sys.stdout if fmt == "text" else sys.stderr
    print(f"\n{n_ok} of {n_plan} runs done; results in {out}/ ({', '.join(files)})", file=status)
    if not results.failures.empty:
        print(
            f"warning: {len(results.failures)} runs failed twice; their errors are in "
            f"{out}/runs.parquet; rerun the same command to retry them:",
            file=sys.stderr,
        )
        for row in results.failures.head(5).itertuples():
            print(
                f"  {row.run_id} ({row.policy}): {str(row.error).splitlines()[0]}", file=sys.stderr
            )
        return 1
    return EXIT_OK


def cmd_compare(args: argparse.Namespace) -> int:
    """Compare reform scenarios with a reference under common random numbers."""
    from sim.experiment import load_experiment, make_executor, scenario_label

    changes: dict = {}
    if args.reps is not None:
        changes["replications"] = args.reps
    if args.years is not None:
        changes["overrides"] = {"run.years": args.years}
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
    experiment = load_experiment(args.experiment, changes)
    out = Path(args.out) if args.out else Path("results") / experiment.name
    results, tables = _run_and_analyze(
        experiment, out, make_executor(args.workers), resume=args.resume
    )
    return _report(results, tables, out, args.format)


def cmd_sweep(args: argparse.Namespace) -> int:
    """Run an experiment file (uncertainties x levers x replications), resuming by default."""
    from sim.experiment import load_experiment, make_executor

    changes = {"sample_size": args.sample_size} if args.sample_size is not None else None
    experiment = load_experiment(args.experiment, changes)
    out = Path(args.out) if args.out else Path("results") / experiment.name
    executor = make_executor(args.workers, args.scheduler, args.dask_local)
    results, tables = _run_and_analyze(experiment, out, executor, resume=not args.no_resume)
    return _report(results, tables, out, args.format)


def cmd_analyze(args: argparse.Namespace) -> int:
    """Comparison tables and sensitivity indices of a results folder."""
    from sim.analysis import analyze
    from sim.plots import forest_plot
    from sim.store import StoreError, atomic_write_text, load_results

    try:
        results = load_results(args.results)
    except StoreError as exc:
        raise CliError(str(exc)) from None
    tables = analyze(results, args.outcomes)
    out = Path(args.out) if args.out else Path(args.results)
    out.mkdir(parents=True, exist_ok=True)
    if not tables["comparison"].empty:
        atomic_write_text(out / "comparison.csv", tables["comparison"].to_csv(index=False))
        forest_plot(tables["comparison"], out / "comparison.png", title=results.manifest["name"])
    if not tables["sensitivity"].empty:
        atomic_write_text(out / "sensitivity.csv", tables["sensitivity"].to_csv(index=False))
    if tables["comparison"].empty and tables["sensitivity"].empty:
        print(
            "nothing to analyse: a single policy and no sobol/morris design; "
            f"the outcomes are in {args.results}/outcomes.parquet"
        )
    return _report(results, tables, out, args.format)


def cmd_facts(args: argparse.Namespace) -> int:
    """Compare the model with the public stylized facts; write a table and a figure."""
    from sim.calibration import facts_table, format_facts, plot_facts
    from sim.store import atomic_write_text

    out = Path(args.out)
    table = facts_table(reps=args.reps, workers=args.workers, progress=True)
    print(format_facts(table))
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "facts.csv", table.to_csv(index=False))
    plot_facts(table, out / "facts.png")
    print(f"wrote {out / 'facts.csv'} and {out / 'facts.png'}")
    calibrated = table[table["calibrated"]]
    return EXIT_OK if bool(calibrated["in_range"].all()) or not args.strict else 1


def cmd_calibrate(args: argparse.Namespace) -> int:
    """Search the calibrated parameters against the stylized facts (Nelder-Mead)."""
    import tomli_w

    from sim.calibration import CALIBRATED_PARAMETERS, calibrate
    from sim.store import atomic_write_text

    out = Path(args.out)
    seeds = list(range(1, args.reps + 1))

    def show(evaluation: int, params: dict, value: float) -> None:
        shown = ", ".join(f"{k.split('.')[-1]}={v:.4g}" for k, v in params.items())
        print(f"[{evaluation:>3}] loss {value:8.4f}  {shown}", flush=True)

    result = calibrate(seeds, max_evaluations=args.budget, workers=args.workers, callback=show)
    out.mkdir(parents=True, exist_ok=True)
    chosen: dict = {}
    for dotted, value in result["parameters"].items():
        section, key = dotted.split(".")
        chosen.setdefault(section, {})[key] = round(float(value), 4)
    header = "".join(f"# {k}: {why}\n" for k, why in CALIBRATED_PARAMETERS.items())
    atomic_write_text(
        out / "chosen.toml",
        f"# coopsim calibrate: loss {result['loss']:.4f}\n{header}" + tomli_w.dumps(chosen),
    )
    atomic_write_text(out / "trace.csv", result["trace"].to_csv(index=False))
    print(f"best loss {result['loss']:.4f}; measured: {result['measured']}")
    print(f"wrote {out / 'chosen.toml'} and {out / 'trace.csv'}")
    return EXIT_OK


def cmd_plot(args: argparse.Namespace) -> int:
    """Draw the figures of a results folder (PNG and SVG)."""
    from sim.plots import write_figures

    written = write_figures(Path(args.results), Path(args.out) if args.out else None)
    for path in written:
        print(f"wrote {path}")
    return EXIT_OK


def cmd_explore(args: argparse.Namespace) -> int:
    """Serve the interactive explorer on 127.0.0.1."""
    from sim.explorer import serve

    return serve(args.scenario, port=args.port)


# ---------------------------------------------------------------------- parser
EXAMPLES = {
    "facts": """
        examples:
          coopsim facts                    # 5 replications, table + results/facts/facts.png
          coopsim facts --reps 10 --workers 2 --out results/facts10
        """,
    "calibrate": """
        examples:
          coopsim calibrate --budget 60 --reps 3 --workers 2
        writes results/calibration/chosen.toml (the values to make the schema defaults)
        and trace.csv (every evaluation)
        """,
    "plot": """
        examples:
          coopsim plot results/compare_packages
          coopsim plot results/mr_seed1 --out figures/
        """,
    "explore": """
        examples:
          coopsim explore                          # baseline
          coopsim explore scenarios/nsc_law.toml --port 8765
        needs the viz extra: uv sync --extra viz
        """,
    "run": """
        examples:
          coopsim run scenarios/baseline.toml
          coopsim run baseline --seed 3 --years 2 --json
          coopsim run scenarios/mutual_recognition.toml --out results/mr_seed1
        """,
    "validate": """
        examples:
          coopsim validate scenarios/*.toml
        """,
    "scenarios": """
        example:
          coopsim scenarios
        """,
    "compare": """
        examples:
          coopsim compare                      # baseline vs each reform package
          coopsim compare nsc_law mutual_recognition --reps 20
          coopsim compare scenarios/my_reform.toml --reference baseline --out results/mine
        the table of paired differences (95% CI, common random numbers) is printed and
        written with a forest plot to results/<name>/comparison.csv and comparison.png
        """,
    "sweep": """
        examples:
          coopsim sweep experiments/sweep_capacity.toml --workers 2
          coopsim sweep sobol_baseline --dask-local
          coopsim sweep experiments/morris_baseline.toml --scheduler tcp://scheduler-host:8786
          coopsim sweep sweep_capacity --no-resume     # discard earlier results, start over
          coopsim sweep sobol_baseline --sample-size 256   # tighter Sobol intervals
        an interrupted sweep resumes where it stopped when run again
        """,
    "analyze": """
        examples:
          coopsim analyze results/sobol_baseline
          coopsim analyze results/compare_packages --outcomes completion_rate 'median_*'
          coopsim analyze results/compare_packages --format latex > table.tex
        """,
    "describe": """
        examples:
          coopsim describe baseline
          coopsim describe scenarios/nsc_law.toml
        """,
}


def _add(sub, name: str, func, help_text: str) -> argparse.ArgumentParser:
    parser = sub.add_parser(
        name,
        help=help_text,
        description=help_text,
        epilog=textwrap.dedent(EXAMPLES.get(name, "")),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.set_defaults(func=func)
    return parser


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``coopsim`` command."""
    parser = argparse.ArgumentParser(
        prog="coopsim",
        description="Agent-based simulation of international cooperation in security cases.",
        epilog="Run 'coopsim COMMAND --help' for a command's options and examples.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = _add(sub, "run", cmd_run, "Run one scenario and print its outcomes.")
    p.add_argument("scenario", help="scenario file, or the name of a shipped scenario")
    p.add_argument("--seed", type=_seed, default=1, help="random seed (default 1)")
    p.add_argument("--years", type=_positive_years, help="override the simulated years")
    p.add_argument("--out", help="folder to write outcomes, daily series, ledger and manifest")
    p.add_argument("--json", action="store_true", help="print the outcomes as JSON")
    p.add_argument("--progress", action="store_true", help="show a progress bar")

    p = _add(sub, "validate", cmd_validate, "Check scenario files against the schema.")
    p.add_argument("files", nargs="+", help="scenario files")

    _add(sub, "scenarios", cmd_scenarios, "List the shipped scenarios.")

    p = _add(
        sub,
        "describe",
        cmd_describe,
        "Print a scenario's fully resolved parameters (after 'extends') with units.",
    )
    p.add_argument("scenario", help="scenario file, or the name of a shipped scenario")

    _add_experiment_parsers(sub)

    p = _add(sub, "facts", cmd_facts, "Compare the model with public stylized facts.")
    p.add_argument("--reps", type=_reps, default=5, help="replications per scenario (default 5)")
    p.add_argument("--workers", type=_workers, default=1, help="processes (default 1)")
    p.add_argument("--out", default="results/facts", help="output folder (default results/facts)")
    p.add_argument(
        "--strict", action="store_true", help="exit 1 if a calibrated fact is out of range"
    )

    p = _add(
        sub,
        "calibrate",
        cmd_calibrate,
        "Search the calibrated parameters against the stylized facts (Nelder-Mead).",
    )
    p.add_argument("--budget", type=_reps, default=60, help="objective evaluations (default 60)")
    p.add_argument("--reps", type=_reps, default=3, help="seeds per evaluation (default 3)")
    p.add_argument("--workers", type=_workers, default=1, help="processes (default 1)")
    p.add_argument("--out", default="results/calibration", help="output folder")

    p = _add(sub, "plot", cmd_plot, "Draw the figures of a results folder (PNG and SVG).")
    p.add_argument("results", help="folder written by run --out, compare or sweep")
    p.add_argument("--out", help="folder for the figures (default: RESULTS/figures)")

    p = _add(
        sub, "explore", cmd_explore, "Serve the interactive explorer (SolaraViz) on 127.0.0.1."
    )
    p.add_argument(
        "scenario",
        nargs="?",
        default="baseline",
        help="starting scenario (file or shipped name; default baseline)",
    )
    p.add_argument("--port", type=_port, default=8765, help="port (default 8765)")
    return parser


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--port: expected an integer, found {text!r}") from None
    if not 1024 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"--port: allowed 1024-65535, found {value}")
    return value


def _sample_size(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--sample-size: expected an integer, found {text!r}"
        ) from None
    if not 1 <= value <= 10_000_000:
        raise argparse.ArgumentTypeError(f"--sample-size: allowed 1-10000000, found {value}")
    return value


def _add_format(p: argparse.ArgumentParser) -> None:
    from sim.outcomes import TABLE_FORMATS

    p.add_argument(
        "--format",
        choices=TABLE_FORMATS,
        default="text",
        help="how to print the tables: text (default), markdown, csv or latex (for papers)",
    )


def _add_experiment_parsers(sub) -> None:
    """Parsers of compare, sweep and analyze."""
    p = _add(
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
    p.add_argument("--reps", type=_reps, help="replications per scenario")
    p.add_argument("--years", type=_positive_years, help="override the simulated years")
    p.add_argument("--workers", type=_workers, help="local worker processes (default: all CPUs)")
    p.add_argument("--out", help="results folder (default: results/<experiment name>)")
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
    _add_format(p)

    p = _add(
        sub, "sweep", cmd_sweep, "Run an experiment file: uncertainties x levers x replications."
    )
    p.add_argument("experiment", help="experiment file, or the name of a shipped one")
    p.add_argument(
        "--workers", type=_workers, help="worker processes (default: all CPUs; 1 = in this process)"
    )
    where = p.add_mutually_exclusive_group()
    where.add_argument("--scheduler", type=_scheduler, help="Dask scheduler address")
    where.add_argument(
        "--dask-local", action="store_true", help="run on a Dask LocalCluster bound to 127.0.0.1"
    )
    p.add_argument("--out", help="results folder (default: results/<experiment name>)")
    p.add_argument(
        "--no-resume",
        action="store_true",
        help="discard earlier results in the folder and start over",
    )
    p.add_argument(
        "--sample-size",
        type=_sample_size,
        help="replace the file's sample_size (sobol: base samples N, a power of 2; "
        "morris: trajectories; lhs: points)",
    )
    _add_format(p)

    p = _add(
        sub,
        "analyze",
        cmd_analyze,
        "Comparison tables and sensitivity indices of a results folder.",
    )
    p.add_argument("results", help="results folder written by sweep or compare")
    p.add_argument("--outcomes", nargs="+", help="outcomes to analyse (names or * patterns)")
    p.add_argument("--out", help="folder for the tables (default: the results folder)")
    _add_format(p)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``coopsim`` command."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (ScenarioError, CliError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into `head` and the like
        sys.stderr.close()
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
