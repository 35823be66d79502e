"""The ``coopsim`` command.

Each subcommand is a small function ``cmd_<name>(args) -> int``. Bad input
(scenario files, arguments) ends with a clear message on stderr and exit code 2,
before anything is written.

This module builds the parser and runs a command; the commands live in
:mod:`sim.cli_commands` (single scenarios and checks), :mod:`sim.cli_experiments`
(experiments) and :mod:`sim.cli_robust` (robustness across worlds), sharing
:mod:`sim.cli_common` (exit codes, ``--out`` safety, argument types) and the help
examples of :mod:`sim.cli_examples`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import signal
import sys
import tempfile
import traceback
from pathlib import Path

from sim.cli_commands import (
    cmd_calibrate,
    cmd_compile,
    cmd_describe,
    cmd_explore,
    cmd_facts,
    cmd_plot,
    cmd_run,
    cmd_scenarios,
    cmd_validate,
    cmd_warmup,
)
from sim.cli_common import (
    EXIT_BAD_INPUT,
    EXIT_FAILED,
    EXIT_OK,
    add_command,
    add_force,
    add_warmup_years,
    arg_calibration_years,
    arg_port,
    arg_positive_years,
    arg_reps,
    arg_retired_budget,
    arg_seed,
    arg_seeds_per_point,
    arg_warmup_run_years,
    arg_wave_points,
    arg_workers,
    package_version,
)
from sim.cli_experiments import (
    add_experiment_parsers,
)
from sim.errors import CoopsimError
from sim.memory import huge_pages_kept

# ---------------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``coopsim`` command."""
    parser = argparse.ArgumentParser(
        prog="coopsim",
        description="Agent-based simulation of international cooperation in security cases.",
        epilog="Run 'coopsim COMMAND --help' for a command's options and examples.",
    )
    parser.add_argument("--version", action="version", version=f"coopsim {package_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = add_command(sub, "run", cmd_run, "Run one scenario and print its outcomes.")
    p.add_argument("scenario", help="scenario file, or the name of a shipped scenario")
    p.add_argument("--seed", type=arg_seed, default=1, help="random seed (default 1)")
    p.add_argument(
        "--years", type=arg_positive_years, help="override the measurement window (run.years)"
    )
    add_warmup_years(p)
    p.add_argument("--out", help="folder to write outcomes, daily series, ledger and manifest")
    add_force(p)
    p.add_argument("--json", action="store_true", help="print the outcomes as JSON")
    p.add_argument("--progress", action="store_true", help="show a progress bar")

    p = add_command(
        sub, "validate", cmd_validate, "Check scenario and experiment files against their schemas."
    )
    p.add_argument(
        "files",
        nargs="+",
        help="scenario or experiment files (an experiment is recognised by its keys, or by "
        "lying in an experiments/ folder)",
    )

    add_command(sub, "scenarios", cmd_scenarios, "List the shipped scenarios.")

    add_command(
        sub,
        "compile",
        cmd_compile,
        "Compile the model's kernels for this machine (once; the first run does it anyway).",
    )

    p = add_command(
        sub,
        "describe",
        cmd_describe,
        "Print a scenario's fully resolved parameters (after 'extends') with units.",
    )
    p.add_argument("scenario", help="scenario file, or the name of a shipped scenario")

    add_experiment_parsers(sub)

    p = add_command(sub, "facts", cmd_facts, "Compare the model with public stylized facts.")
    p.add_argument("--reps", type=arg_reps, default=5, help="replications per scenario (default 5)")
    p.add_argument("--workers", type=arg_workers, default=1, help="processes (default 1)")
    p.add_argument("--out", default="results/facts", help="output folder (default results/facts)")
    add_force(p)
    p.add_argument(
        "--strict", action="store_true", help="exit 1 if a calibrated fact is out of range"
    )

    p = add_command(
        sub,
        "calibrate",
        cmd_calibrate,
        "History matching of the calibrated parameters against the stylized facts.",
    )
    p.add_argument(
        "--wave1", type=arg_wave_points, default=35, help="parameter points in wave 1 (default 35)"
    )
    p.add_argument(
        "--wave2", type=arg_wave_points, default=25, help="parameter points in wave 2 (default 25)"
    )
    p.add_argument(
        "--reps", type=arg_seeds_per_point, default=2, help="seeds per parameter point (default 2)"
    )
    p.add_argument("--workers", type=arg_workers, default=1, help="processes (default 1)")
    p.add_argument("--seed", type=arg_seed, default=20240611, help="seed of designs and runs")
    p.add_argument(
        "--years",
        type=arg_calibration_years,
        default=3.0,
        help="measurement window of each run (run.years, default 3; the warm-up is the baseline's)",
    )
    p.add_argument("--out", default="results/calibration", help="output folder")
    p.add_argument(
        "--install",
        action="store_true",
        help="also write the result to sim/data/calibration/ (what compare "
        "--parameter-uncertainty draws from)",
    )
    p.add_argument("--budget", type=arg_retired_budget, help=argparse.SUPPRESS)
    add_force(p)

    p = add_command(
        sub,
        "warmup",
        cmd_warmup,
        "Choose a scenario's warm-up (run.warmup_years) by MSER-5 on replication averages.",
    )
    p.add_argument("scenario", help="scenario file, or the name of a shipped scenario")
    p.add_argument(
        "--years",
        type=arg_warmup_run_years,
        default=10.0,
        help="years per replication, with no warm-up (default 10)",
    )
    p.add_argument("--reps", type=arg_reps, default=5, help="replications (default 5)")
    p.add_argument("--seed", type=arg_seed, default=1, help="first seed (default 1)")
    p.add_argument("--workers", type=arg_workers, default=1, help="processes (default 1)")
    p.add_argument("--out", help="output folder (default results/warmup_<scenario>)")
    p.add_argument(
        "--strict",
        action="store_true",
        help="exit 1 if a series shows no steady state (the warm-up then covers the others)",
    )
    add_force(p)

    p = add_command(sub, "plot", cmd_plot, "Draw the figures of a results folder (PNG and SVG).")
    p.add_argument("results", help="folder written by run --out, compare or sweep")
    p.add_argument("--out", help="folder for the figures (default: RESULTS/figures)")
    add_force(p)

    p = add_command(
        sub, "explore", cmd_explore, "Serve the interactive explorer (SolaraViz) on 127.0.0.1."
    )
    p.add_argument(
        "scenario",
        nargs="?",
        default="baseline",
        help="starting scenario (file or shipped name; default baseline)",
    )
    p.add_argument("--port", type=arg_port, default=8765, help="port (default 8765)")
    return parser


def _crash_dir() -> Path:
    """Where crash reports go: $COOPSIM_CRASH_DIR, else the user cache, else the temp dir."""
    if os.environ.get("COOPSIM_CRASH_DIR"):
        return Path(os.environ["COOPSIM_CRASH_DIR"])
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "coopsim" / "crashes"


def write_crash_report(exc: BaseException, argv: list[str]) -> Path | None:
    """Write the traceback of an unexpected error, with the command line and versions.

    Returns:
        The report file, or None if no folder could take it.
    """
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    text = (
        f"coopsim {package_version()} crash report, {dt.datetime.now().isoformat()}\n"
        f"command: coopsim {' '.join(argv)}\n"
        f"cwd: {Path.cwd()}\npython: {sys.version.split()[0]} on {sys.platform}\n\n"
        + "".join(traceback.format_exception(exc))
    )
    for folder in (_crash_dir(), Path(tempfile.gettempdir()) / "coopsim-crashes"):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"crash-{stamp}-{os.getpid()}.txt"
            path.write_text(text, encoding="utf-8")
            return path
        except OSError:
            continue
    return None


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``coopsim`` command.

    Exit codes: 0 done; 1 runs failed, or an unexpected error (one line on stderr and
    a crash report file with the traceback); 2 bad input (a message naming the file,
    key or option, and nothing written); 130/143 interrupted by SIGINT/SIGTERM (every
    finished run kept; run the same command again to resume).
    """
    from sim.experiment import Interrupted

    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        shown = " ".join(unknown)
        if argv.index(unknown[0]) < argv.index(args.command):
            parser.error(f"unrecognized arguments: {shown} (options go after the command)")
        args.command_parser.error(f"unrecognized arguments: {shown}")  # the command's usage
    try:
        huge_pages_kept()  # a bad COOPSIM_HUGE_PAGES is bad input, before anything is written
        return args.func(args)
    except CoopsimError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except Interrupted as exc:
        then = "finish" if exc.kept == exc.planned else "resume"
        # Again with --no-resume would start over: the runs kept would be set aside.
        again = "without --no-resume" if getattr(args, "no_resume", False) else "again"
        print(
            f"interrupted ({signal.Signals(exc.signum).name}): {exc.kept} of {exc.planned} runs "
            f"are stored in {exc.folder}; run the same command {again} to {then}",
            file=sys.stderr,
        )
        return 128 + int(exc.signum)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into `head` and the like
        sys.stderr.close()
        return EXIT_OK
    except OSError as exc:  # the machine, not the model: disk full, permissions, ...
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except Exception as exc:  # noqa: BLE001 - a bug: one line and a report, not a traceback
        report = write_crash_report(exc, argv)
        where = f"; the traceback is in {report}" if report else ""
        first = (str(exc).splitlines() or [""])[0][:200]
        print(
            f"coopsim: internal error ({type(exc).__name__}: {first}){where}; please report it",
            file=sys.stderr,
        )
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
