"""Running an experiment from the command line, and writing and printing its tables.

Shared by the experiment commands (:mod:`sim.cli_experiments`: compare, sweep,
analyze) and ``coopsim robust`` (:mod:`sim.cli_robust`): resume only the very same
plan, turn a store error into exit code 2, write the comparison and sensitivity
tables with their forest plot pages, and report how many runs finished.
"""

from __future__ import annotations

import contextlib
import json
import signal
import sys
from collections.abc import Iterator
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


def set_aside_results(out: Path) -> Path | None:
    """Move an earlier plan's results out of ``out`` before a run that starts over, and say so.

    :func:`sim.store_files.set_aside`, with signals held off while it moves (a sub-second
    move, never half done). The store would move them too; done here, the note comes
    before the runs.

    Returns:
        The folder they went to, or None when ``out`` held no experiment's results.
    """
    from sim.experiment_run import shielded
    from sim.store_files import MANIFEST, set_aside

    try:
        old = json.loads((out / MANIFEST).read_text())
        what = f" (experiment {old['name']!r})"
    except (OSError, ValueError, KeyError, TypeError):
        what = ""
    with shielded():
        moved = set_aside(out)
    if moved is not None:
        print(
            f"note: starting over in {out}: its earlier results{what} are moved to {moved}",
            file=sys.stderr,
        )
    return moved


def _execute(experiment, out: Path, executor, resume: bool, start_over: str):
    """Run (or resume) an experiment into ``out``; StoreError -> exit 2.

    Not resuming, an earlier plan's results are moved aside first; ``start_over`` says
    how this command starts over, for the message when resuming finds another plan's.
    """
    from sim.experiment import run_experiment
    from sim.experiment_run import shielded
    from sim.store import StoreError

    try:
        executor.__enter__()
    except OSError as exc:  # e.g. no Dask scheduler at the address
        raise CliError(f"executor {executor.name}: {exc}") from None
    try:
        if not resume:
            set_aside_results(out)
        results = run_experiment(experiment, out, executor=executor, resume=resume)
    except StoreError as exc:
        executor.close()
        raise CliError(
            f"{exc.problem} To start over, {start_over} (the earlier results are moved "
            "aside, not deleted), or choose another --out."
        ) from None
    except BaseException:
        executor.close()
        raise
    with shielded():  # every run is stored: an interrupt would only break the workers' exit
        executor.close()
    return results


@contextlib.contextmanager
def interrupts_after_the_runs(results) -> Iterator[None]:
    """Ctrl-C or SIGTERM while the tables are computed and written: every run is stored.

    Raised as :class:`sim.experiment.Interrupted` (all runs kept), so the command says
    where they are and that the same command writes the tables again, not a bare
    "interrupted".
    """
    from sim.experiment import Interrupted
    from sim.experiment_run import stop_on_signals

    try:
        with stop_on_signals():
            yield
    except KeyboardInterrupt as exc:
        signum = getattr(exc, "signum", signal.SIGINT)
        kept, planned = len(results.outcomes), len(results.plan)
        raise Interrupted(Path(results.folder), kept, planned, signum) from None


def _run_and_analyze(
    experiment, out: Path, executor, resume: bool, start_over: str
) -> tuple[object, dict, list]:
    """Run (or resume) an experiment, then analyse and write its tables; StoreError -> exit 2."""
    from sim.analysis import analyze

    results = _execute(experiment, out, executor, resume, start_over)
    with interrupts_after_the_runs(results):
        tables = analyze(results)
        title = f"{experiment.name}: {experiment.spec.description}"
        every = bool(experiment.spec.outcomes)
        written = write_tables(tables, out, title, every_outcome=every)
    return results, tables, written


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
    kept = results.manifest.get("sessions", [{}])[-1].get("kept", 0) if data_files else 0
    done = f"{n_ok} of {n_plan} runs done" + (f" ({kept} kept from before)" if kept else "")
    where = f"results in {out}/ ({', '.join(files)})" if files else f"in {folder}"
    print(f"\n{done}; {where}", file=status)
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
