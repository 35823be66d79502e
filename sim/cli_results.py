"""Running an experiment from the command line, and writing and printing its tables.

Shared by the experiment commands (:mod:`sim.cli_experiments`: compare, sweep,
analyze) and ``coopsim robust`` (:mod:`sim.cli_robust`): resume only the very same
plan, turn a store error into exit code 2, write the comparison and sensitivity
tables with their forest plot pages, and report how many runs finished.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from sim.cli_common import EXIT_FAILED, EXIT_OK, CliError

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
