"""What every coopsim command shares.

Exit codes, the command's error, the --out safety rules and the argument types (help
for mistyped names is :mod:`sim.cli_guidance`).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import textwrap
from pathlib import Path

from sim.cli_examples import EXAMPLES
from sim.errors import CoopsimError

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
    from sim.store_files import aside_path

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
        moved = aside_path(out)
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
        moved = aside_path(out)
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


def bounded(lo: float, hi: float, kind: type = float):
    """An argparse type: a number (``kind``) in [lo, hi] (argparse names the option in errors)."""
    noun = "an integer" if kind is int else "a number"

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {noun}, found {text!r}") from None
        if not lo <= value <= hi:
            allowed = f"{lo}-{hi}" if kind is int else f"{lo:g}-{hi:g}"
            raise argparse.ArgumentTypeError(f"allowed {allowed}, found {value}")
        return value

    return parse


arg_positive_years = bounded(0.01, 50)
arg_warmup_years = bounded(0, 20)


def run_overrides(args: argparse.Namespace) -> dict:
    """``run.years`` and ``run.warmup_years`` from ``--years`` and ``--warmup-years``."""
    overrides = {}
    if args.years is not None:
        overrides["run.years"] = args.years
    if args.warmup_years is not None:
        overrides["run.warmup_years"] = args.warmup_years
    return overrides


def arg_seed(text: str) -> int:
    """``--seed``: a non-negative integer."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, found {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, found {value}")
    return value


# ---------------------------------------------------------------------- experiments
arg_workers = bounded(1, 1024, int)


def arg_reps(text: str) -> int:
    """``--reps``: replications, at least 2 for an interval."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, found {text!r}") from None
    if not 2 <= value <= 100000:
        raise argparse.ArgumentTypeError(f"allowed 2-100000, found {value}")
    return value


def arg_scheduler(text: str) -> str:
    """``--scheduler``: a Dask scheduler address."""
    if "://" not in text or not text.split("://", 1)[1]:
        raise argparse.ArgumentTypeError(
            f"expected an address like tcp://127.0.0.1:8786, found {text!r}"
        )
    return text


def arg_threshold(text: str) -> str:
    """``--threshold``: checked here (``OUTCOME>=NUMBER``), parsed again by the loader."""
    from sim.robust import ThresholdError, parse_threshold

    try:
        parse_threshold(text)
    except ThresholdError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def add_force(parser: argparse.ArgumentParser) -> None:
    """Add ``--force`` (replace an --out folder the command did not write)."""
    parser.add_argument(
        "--force",
        action="store_true",
        help="use an --out that is a file or a folder coopsim did not write (a file, or a "
        "run's foreign folder, is moved aside to NAME.replaced-<time>, never deleted)",
    )


def add_warmup_years(parser: argparse.ArgumentParser) -> None:
    """Add ``--warmup-years`` (run.warmup_years)."""
    parser.add_argument(
        "--warmup-years",
        type=arg_warmup_years,
        help="override the warm-up before the window (run.warmup_years; see coopsim warmup)",
    )


def arg_warmup_run_years(text: str) -> float:
    """``--years`` of ``coopsim warmup``: MSER-5 needs a few months of 5-day batches."""
    value = arg_positive_years(text)
    if value < 0.25:
        raise argparse.ArgumentTypeError(f"allowed 0.25-50 for a warm-up analysis, found {value}")
    return value


arg_wave_points = bounded(10, 10_000, int)
arg_seeds_per_point = bounded(1, 100, int)


def arg_calibration_years(text: str) -> float:
    """``--years`` of ``coopsim calibrate``: the facts follow each request for a year."""
    value = arg_positive_years(text)
    if value < 1.5:
        raise argparse.ArgumentTypeError(
            f"at least 1.5 for calibration (the facts need a year of follow-up), found {value}"
        )
    return value


def arg_retired_budget(text: str) -> int:
    """A retired option: refused with what replaced it."""
    raise argparse.ArgumentTypeError(
        "--budget belonged to the Nelder-Mead search, which history matching replaced; "
        "use --wave1 and --wave2 (parameter points per wave) and --reps (seeds per point)"
    )


def arg_port(text: str) -> int:
    """``--port``: a TCP port."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, found {text!r}") from None
    if not 1024 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"allowed 1024-65535, found {value}")
    return value


arg_sample_size = bounded(1, 10_000_000, int)


def add_format(p: argparse.ArgumentParser) -> None:
    """Add ``--format`` (how tables are printed)."""
    from sim.outcomes import TABLE_FORMATS

    p.add_argument(
        "--format",
        choices=TABLE_FORMATS,
        default="text",
        help="how to print the tables: text (default), markdown, csv or latex (for papers)",
    )


def add_command(sub, name: str, func, help_text: str) -> argparse.ArgumentParser:
    """Add a subcommand whose --help ends with its examples."""
    parser = sub.add_parser(
        name,
        help=help_text,
        description=help_text,
        epilog=textwrap.dedent(EXAMPLES.get(name, "")),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    # The command's own parser, to report an unknown option with its usage (sim.cli.main).
    parser.set_defaults(func=func, command_parser=parser)
    return parser
