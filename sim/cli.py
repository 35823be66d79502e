"""The ``coopsim`` command.

Each subcommand is a small function ``cmd_<name>(args) -> int``. Bad input
(scenario files, arguments) ends with a clear message on stderr and exit code 2,
before anything is written.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import signal
import sys
import tempfile
import textwrap
import traceback
from pathlib import Path

from sim.errors import CoopsimError
from sim.scenario import ScenarioError

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2


class CliError(CoopsimError):
    """A user error found by the CLI itself (exit 2)."""


def package_version() -> str:
    """The installed coopsim version (package metadata), or the package's own."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("coopsim")
    except PackageNotFoundError:
        import sim

        return sim.__version__


# ---------------------------------------------------------------------- output safety
# A folder coopsim writes (other than run and experiment folders, which have a manifest)
# holds this marker, so a later command knows it may write there again.
MARKER = ".coopsim"
# What each kind of output folder may hold when it was written before the marker existed.
KNOWN_FILES = {
    "figures": ("*.png", "*.svg"),
    "analysis": ("comparison*.csv", "comparison*.png", "sensitivity*.csv"),
    "facts": ("facts.csv", "facts.png"),
    "calibration": (
        "chosen.toml",
        "trace.csv",
        "priors.toml",
        "accepted.csv",
        "runs.csv",
        "runs_cache.csv",
        "history_matching.toml",
        "history_matching.png",
    ),
    "warmup": ("warmup.png", "warmup_series.csv", "warmup_mser.csv"),
}


def _out_kind(folder: Path) -> str | None:
    """What coopsim wrote in ``folder``: ``run``, ``experiment``, a marker's kind, or None."""
    for name in ("manifest.json", MARKER):
        path = folder / name
        if path.is_file():
            try:
                kind = json.loads(path.read_text()).get("kind")
            except (OSError, ValueError, AttributeError):
                continue
            if isinstance(kind, str):
                return kind
    if (folder / "plan.parquet").is_file() or (folder / "runs").is_dir():
        return "experiment"  # a damaged manifest: the store says what to do
    return None


def _only_known_files(folder: Path, kind: str) -> bool:
    import fnmatch

    patterns = KNOWN_FILES.get(kind, ())
    entries = list(folder.iterdir())
    return bool(patterns) and all(
        p.is_file() and any(fnmatch.fnmatch(p.name, pat) for pat in patterns) for p in entries
    )


def _aside(path: Path) -> Path:
    """A free name next to ``path`` to move it to: ``NAME.replaced-YYYYmmdd-HHMMSS``."""
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    candidate = path.with_name(f"{path.name}.replaced-{stamp}")
    n = 1
    while candidate.exists() or candidate.is_symlink():
        n += 1
        candidate = path.with_name(f"{path.name}.replaced-{stamp}-{n}")
    return candidate


def prepare_out(path: str | Path, kind: str, force: bool = False, option: str = "--out") -> Path:
    """Check that an output folder may be written, before any work starts.

    Nothing the user made is ever deleted or replaced silently: a path that is a
    file, or a non-empty folder that coopsim did not write (for this kind of
    output), is refused. With ``force`` a file (or, for a single run, whose folder
    is replaced as a whole, a foreign folder) is moved aside to
    ``NAME.replaced-<time>``, and other outputs are written into the foreign folder;
    either way a note on stderr says so.

    Args:
        path: The folder asked for.
        kind: ``run``, ``experiment``, ``figures``, ``analysis``, ``facts``, ``calibration``
            or ``warmup``.
        force: The user's ``--force``.
        option: The option that named the folder, for messages.

    Returns:
        The folder (not created here).

    Raises:
        CliError: When the folder may not be used (exit 2).
    """
    out = Path(path)
    hint = f"choose another {option}, or add --force"
    try:
        is_dir, exists = out.is_dir(), out.exists() or out.is_symlink()
        entries = [p.name for p in out.iterdir()] if is_dir else []
        parent_file = next((p for p in out.parents if p.exists() and not p.is_dir()), None)
    except OSError as exc:
        raise CliError(f"{option} {out}: cannot use this path: {exc}") from None
    if parent_file is not None:
        raise CliError(
            f"{option} {out}: {parent_file} is a file, not a folder; choose another {option}"
        )
    if not exists or (is_dir and not entries):
        return out
    if not is_dir:
        if not force:
            raise CliError(
                f"{option} {out}: is a file, not a results folder; {hint} to move the file "
                "aside first"
            )
        moved = _aside(out)
        os.replace(out, moved)
        print(f"note: --force: moved your file {out} to {moved}", file=sys.stderr)
        return out
    found = _out_kind(out)
    if found == kind or (found is None and _only_known_files(out, kind)):
        return out
    what = f"holds coopsim {found} output" if found else "a non-empty folder coopsim did not write"
    shown = ", ".join(sorted(entries)[:4]) + (", ..." if len(entries) > 4 else "")
    if not force:
        raise CliError(f"{option} {out}: {what} ({shown}); {hint}")
    if kind == "run":  # a run's folder is replaced as a whole: keep the user's one aside
        moved = _aside(out)
        os.replace(out, moved)
        print(f"note: --force: moved the folder {out} to {moved}", file=sys.stderr)
    else:
        print(
            f"note: --force: writing {kind} files into {out} ({what}); files there with the "
            "same names are replaced, others are left as they are",
            file=sys.stderr,
        )
    return out


def mark_out(folder: Path, kind: str) -> None:
    """Create ``folder`` and mark it as coopsim output of ``kind`` (see :func:`prepare_out`)."""
    from sim.store import atomic_write_json

    folder.mkdir(parents=True, exist_ok=True)
    if _out_kind(folder) != kind:
        atomic_write_json(folder / MARKER, {"kind": kind, "written_by": "coopsim"})


# ---------------------------------------------------------------------- guidance
def _did_you_mean(word: str, choices) -> str:
    from sim.experiment import did_you_mean

    return did_you_mean(word, choices)


def check_named_file(ref: str, kind: str, shipped: dict[str, Path], what: str) -> None:
    """Refuse a scenario or experiment reference that names nothing, suggesting names.

    Args:
        ref: What the user typed: a file, or the name of a shipped file.
        kind: ``scenario`` or ``experiment``.
        shipped: The shipped names and their files.
        what: Where the user typed it (``the SCENARIO argument``, ``--reference``).

    Raises:
        CliError: When ``ref`` is neither an existing file nor a shipped name.
    """
    path = Path(ref)
    try:
        if path.exists() or (not ref.endswith(".toml") and ref in shipped):
            return
    except (OSError, ValueError):
        return  # the loader reports a name the OS rejects
    names = ", ".join(shipped) or "(none)"
    if ref.endswith(".toml") or "/" in ref or os.sep in ref:
        nearby = sorted(p.name for p in path.parent.glob("*.toml")) if path.parent.is_dir() else []
        hint = _did_you_mean(path.name, nearby) if nearby else ""
        if not hint:
            hint = _did_you_mean(path.stem, shipped)
        raise CliError(f"{what}: {ref}: {kind} file not found{hint}; shipped {kind}s: {names}")
    raise CliError(
        f"{what}: {ref!r} is neither {'an' if kind[0] in 'aeiou' else 'a'} {kind} file nor a "
        f"shipped {kind}"
        f"{_did_you_mean(ref, shipped)}; shipped {kind}s: {names}"
    )


def _check_scenario_arg(ref: str, what: str) -> None:
    from sim.scenario import shipped_scenarios

    check_named_file(ref, "scenario", shipped_scenarios(), what)


def _check_experiment_arg(ref: str, what: str) -> None:
    from sim.experiment import shipped_experiments

    check_named_file(ref, "experiment", shipped_experiments(), what)


def _bounded(option: str, lo: float, hi: float, kind: type = float):
    """An argparse type: a number (``kind``) in [lo, hi], with an error naming the option."""
    noun = "an integer" if kind is int else "a number"

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{option}: expected {noun}, found {text!r}") from None
        if not lo <= value <= hi:
            allowed = f"{lo}-{hi}" if kind is int else f"{lo:g}-{hi:g}"
            raise argparse.ArgumentTypeError(f"{option}: allowed {allowed}, found {value}")
        return value

    return parse


_positive_years = _bounded("--years", 0.01, 50)
_warmup_years = _bounded("--warmup-years", 0, 20)


def _run_overrides(args: argparse.Namespace) -> dict:
    """``run.years`` and ``run.warmup_years`` from ``--years`` and ``--warmup-years``."""
    overrides = {}
    if args.years is not None:
        overrides["run.years"] = args.years
    if args.warmup_years is not None:
        overrides["run.warmup_years"] = args.warmup_years
    return overrides


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

    _check_scenario_arg(args.scenario, "run: SCENARIO")
    scenario = load_scenario(args.scenario, _run_overrides(args))
    out = prepare_out(args.out, "run", args.force) if args.out else None
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

    _check_scenario_arg(args.scenario, "describe: SCENARIO")
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


# ---------------------------------------------------------------------- experiments
_workers = _bounded("--workers", 1, 1024, int)


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

    _check_experiment_arg(args.experiment, "compare: --experiment")
    for ref in args.scenarios:
        _check_scenario_arg(ref, "compare: SCENARIO")
    if args.reference:
        _check_scenario_arg(args.reference, "compare: --reference")
    changes: dict = {}
    if args.reps is not None:
        changes["replications"] = args.reps
    if args.years is not None or args.warmup_years is not None:
        changes["overrides"] = _run_overrides(args)
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

    _check_experiment_arg(args.experiment, "robust: EXPERIMENT_FILE")
    changes: dict = {}
    if args.reps is not None:
        changes["replications"] = args.reps
    if args.seed is not None:
        changes["base_seed"] = args.seed
    if args.years is not None or args.warmup_years is not None:
        changes["overrides"] = _run_overrides(args)
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


def _threshold(text: str) -> str:
    """``--threshold``: checked here (``OUTCOME>=NUMBER``), parsed again by the loader."""
    from sim.robust import ThresholdError, parse_threshold

    try:
        parse_threshold(text)
    except ThresholdError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def cmd_sweep(args: argparse.Namespace) -> int:
    """Run an experiment file (uncertainties x levers x replications), resuming by default."""
    from sim.experiment import load_experiment, make_executor

    _check_experiment_arg(args.experiment, "sweep: EXPERIMENT")
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

    _check_scenario_arg(args.scenario, "warmup: SCENARIO")
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

    _check_scenario_arg(args.scenario, "explore: SCENARIO")
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
          coopsim calibrate --workers 2                  # 35 + 25 points x 2 seeds (120 runs)
          coopsim calibrate --wave1 35 --wave2 25 --reps 2 --workers 2 --install
        history matching against the calibrated stylized facts (priors in
        sim/data/calibration/priors.toml); writes priors.toml, accepted.csv (the
        accepted parameter vectors with their simulated facts), runs.csv,
        history_matching.toml (method, variances, waves, seeds, commit) and
        history_matching.png to results/calibration/; --install also writes the data
        files to sim/data/calibration/, where `compare --parameter-uncertainty` draws
        from. An interrupted calibration resumes when run again with the same --out.
        """,
    "warmup": """
        examples:
          coopsim warmup baseline --workers 2          # 5 replications of 10 years
          coopsim warmup scenarios/nsc_law.toml --years 15 --reps 8 --out results/wu
        prints each series' MSER-5 cut, the warm-up and the line for the scenario's
        [run] section; writes warmup.png, warmup_series.csv and warmup_mser.csv to
        results/warmup_<scenario>/. Exit 1 when a series shows no steady state.
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
          coopsim run baseline --warmup-years 1.5      # 1.5 years left out of the outcomes
          coopsim run scenarios/mutual_recognition.toml --out results/mr_seed1
        """,
    "validate": """
        examples:
          coopsim validate scenarios/*.toml
          coopsim validate experiments/*.toml     # every field, scenario and outcome name
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
          coopsim compare nsc_law --reps 20 --parameter-uncertainty   # 10 draws x 2 seeds
        the table of paired differences (95% CI, common random numbers) is printed and
        written with a forest plot to results/<name>/comparison.csv and comparison.png;
        with --parameter-uncertainty the calibrated parameters of each replication are
        drawn from the history-matching accepted set, the CI covers parameters and chance,
        and two columns say how much of it comes from each
        """,
    "robust": """
        examples:
          coopsim robust                       # experiments/robust_packages.toml
          coopsim robust --years 1 --reps 4 --worlds baseline budget_cuts
          coopsim robust --threshold "completion_rate>=0.6" --threshold "mean_trust>0.5"
          coopsim robust --calibrated-draws 3  # each world x 3 calibrated parameter draws
        runs each reform package in each world (and each world without reform) with the
        same seeds; prints the minimax-regret ranking (maximum regret, Savage) per outcome
        and satisficing (domain criterion, Starr: share of worlds meeting every
        threshold); writes robust_effects.csv (effect and 95% CI per world), robust_regret.csv,
        robust_max_regret.csv, robust_satisficing.csv, robust_satisficing_worlds.csv and
        robust_heatmap.png to results/<name>/. The same command resumes an interrupted run.
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
        writes into RESULTS/analysis/ (never over what compare or sweep wrote)
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
    parser.add_argument("--version", action="version", version=f"coopsim {package_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = _add(sub, "run", cmd_run, "Run one scenario and print its outcomes.")
    p.add_argument("scenario", help="scenario file, or the name of a shipped scenario")
    p.add_argument("--seed", type=_seed, default=1, help="random seed (default 1)")
    p.add_argument(
        "--years", type=_positive_years, help="override the measurement window (run.years)"
    )
    _add_warmup_years(p)
    p.add_argument("--out", help="folder to write outcomes, daily series, ledger and manifest")
    _add_force(p)
    p.add_argument("--json", action="store_true", help="print the outcomes as JSON")
    p.add_argument("--progress", action="store_true", help="show a progress bar")

    p = _add(
        sub, "validate", cmd_validate, "Check scenario and experiment files against their schemas."
    )
    p.add_argument(
        "files",
        nargs="+",
        help="scenario or experiment files (an experiment is recognised by its keys, or by "
        "lying in an experiments/ folder)",
    )

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
    _add_force(p)
    p.add_argument(
        "--strict", action="store_true", help="exit 1 if a calibrated fact is out of range"
    )

    p = _add(
        sub,
        "calibrate",
        cmd_calibrate,
        "History matching of the calibrated parameters against the stylized facts.",
    )
    p.add_argument(
        "--wave1", type=_wave_points, default=35, help="parameter points in wave 1 (default 35)"
    )
    p.add_argument(
        "--wave2", type=_wave_points, default=25, help="parameter points in wave 2 (default 25)"
    )
    p.add_argument(
        "--reps", type=_seeds_per_point, default=2, help="seeds per parameter point (default 2)"
    )
    p.add_argument("--workers", type=_workers, default=1, help="processes (default 1)")
    p.add_argument("--seed", type=_seed, default=20240611, help="seed of designs and runs")
    p.add_argument(
        "--years",
        type=_calibration_years,
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
    p.add_argument("--budget", type=_retired_budget, help=argparse.SUPPRESS)
    _add_force(p)

    p = _add(
        sub,
        "warmup",
        cmd_warmup,
        "Choose a scenario's warm-up (run.warmup_years) by MSER-5 on replication averages.",
    )
    p.add_argument("scenario", help="scenario file, or the name of a shipped scenario")
    p.add_argument(
        "--years",
        type=_warmup_run_years,
        default=10.0,
        help="years per replication, with no warm-up (default 10)",
    )
    p.add_argument("--reps", type=_reps, default=5, help="replications (default 5)")
    p.add_argument("--seed", type=_seed, default=1, help="first seed (default 1)")
    p.add_argument("--workers", type=_workers, default=1, help="processes (default 1)")
    p.add_argument("--out", help="output folder (default results/warmup_<scenario>)")
    p.add_argument(
        "--strict",
        action="store_true",
        help="exit 1 if a series shows no steady state (the warm-up then covers the others)",
    )
    _add_force(p)

    p = _add(sub, "plot", cmd_plot, "Draw the figures of a results folder (PNG and SVG).")
    p.add_argument("results", help="folder written by run --out, compare or sweep")
    p.add_argument("--out", help="folder for the figures (default: RESULTS/figures)")
    _add_force(p)

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


def _add_force(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--force",
        action="store_true",
        help="use an --out that is a file or a folder coopsim did not write (a file, or a "
        "run's foreign folder, is moved aside to NAME.replaced-<time>, never deleted)",
    )


def _add_warmup_years(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--warmup-years",
        type=_warmup_years,
        help="override the warm-up before the window (run.warmup_years; see coopsim warmup)",
    )


def _warmup_run_years(text: str) -> float:
    """``--years`` of ``coopsim warmup``: MSER-5 needs a few months of 5-day batches."""
    value = _positive_years(text)
    if value < 0.25:
        raise argparse.ArgumentTypeError(
            f"--years: allowed 0.25-50 for a warm-up analysis, found {value}"
        )
    return value


_wave_points = _bounded("--wave1/--wave2", 10, 10_000, int)
_seeds_per_point = _bounded("--reps", 1, 100, int)


def _calibration_years(text: str) -> float:
    """``--years`` of ``coopsim calibrate``: the facts follow each request for a year."""
    value = _positive_years(text)
    if value < 1.5:
        raise argparse.ArgumentTypeError(
            f"--years: at least 1.5 for calibration (the facts need a year of follow-up), "
            f"found {value}"
        )
    return value


def _retired_budget(text: str) -> int:
    raise argparse.ArgumentTypeError(
        "--budget belonged to the Nelder-Mead search, which history matching replaced; "
        "use --wave1 and --wave2 (parameter points per wave) and --reps (seeds per point)"
    )


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--port: expected an integer, found {text!r}") from None
    if not 1024 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"--port: allowed 1024-65535, found {value}")
    return value


_sample_size = _bounded("--sample-size", 1, 10_000_000, int)


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
    p.add_argument(
        "--years", type=_positive_years, help="override the measurement window (run.years)"
    )
    _add_warmup_years(p)
    p.add_argument("--workers", type=_workers, help="local worker processes (default: all CPUs)")
    p.add_argument("--out", help="results folder (default: results/<experiment name>)")
    _add_force(p)
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
        type=_bounded("--seeds-per-draw", 1, 100_000, int),
        help="with --parameter-uncertainty: seeds per parameter draw (default 2; "
        "--reps 20 = 10 draws x 2 seeds)",
    )
    p.add_argument(
        "--accepted",
        help="with --parameter-uncertainty: an accepted.csv of coopsim calibrate (default: "
        "the shipped one, sim/data/calibration/accepted.csv)",
    )
    _add_format(p)

    _add_robust_parser(sub)

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
    _add_force(p)
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
    p.add_argument(
        "--out", help="folder for the tables and forest plot (default: RESULTS/analysis)"
    )
    _add_force(p)
    _add_format(p)


def _add_robust_parser(sub) -> None:
    """Parser of robust."""
    p = _add(
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
    p.add_argument("--reps", type=_reps, help="replications per package and world")
    p.add_argument("--seed", type=_seed, help="base seed of the replications")
    p.add_argument(
        "--years", type=_positive_years, help="override the measurement window (run.years)"
    )
    _add_warmup_years(p)
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
        type=_threshold,
        metavar="OUTCOME>=X",
        help="satisficing criterion, repeatable (<=, >, < too); replaces the file's thresholds",
    )
    p.add_argument(
        "--calibrated-draws",
        type=_bounded("--calibrated-draws", 0, 1000, int),
        help="cross each world with N parameter vectors of the calibrated accepted set",
    )
    p.add_argument(
        "--heatmap", choices=("regret", "effect"), help="what the heat map colours (default regret)"
    )
    p.add_argument("--workers", type=_workers, help="local worker processes (default: all CPUs)")
    p.add_argument("--out", help="results folder (default: results/<name in the file>)")
    _add_force(p)
    p.add_argument(
        "--resume", action="store_true", help="keep finished runs of an earlier, identical plan"
    )


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
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except CoopsimError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except Interrupted as exc:
        print(
            f"interrupted ({signal.Signals(exc.signum).name}): {exc.kept} of {exc.planned} runs "
            f"are stored in {exc.folder}; run the same command again to resume",
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
