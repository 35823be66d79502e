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
        f"  requests issued       {o['requests_total']:>8}",
        f"  executed              {pct(o['completion_rate']):>8}",
        f"  refused               {pct(o['refusal_rate']):>8}",
        f"  lapsed                {pct(o['lapse_rate']):>8}",
        f"  still open at end     {o['requests_open']:>8}",
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


# ---------------------------------------------------------------------- parser
EXAMPLES = {
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

    p = _add(sub, "describe", cmd_describe,
             "Print a scenario's fully resolved parameters (after 'extends') with units.")
    p.add_argument("scenario", help="scenario file, or the name of a shipped scenario")

    register_experiment_commands(sub)
    return parser


def register_experiment_commands(sub) -> None:
    """Add the experiment commands (compare, sweep, analyze) when the layer exists."""
    try:
        from sim import experiment
    except ImportError:
        return
    register = getattr(experiment, "register_cli", None)
    if register is not None:
        register(sub, _add)


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
