"""An experiment's results as tables: the plan joined with the shards, and reading them back.

:func:`load_results` (and :func:`consolidate`, which the store calls when a session
ends) read a results folder, complete or interrupted, into a :class:`Results` of
pandas DataFrames. The per-agency series can be large, so it is read lazily and in
parts, straight from the shards when the folder has not been consolidated.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from sim.store_files import (
    AGENCY_SERIES,
    MANIFEST,
    META_COLUMNS,
    PLAN,
    StoreError,
    _temp_sibling,
)
from sim.store_shards import _canonical_agency_table, scan_shards


@dataclass
class Results:
    """The results of an experiment as pandas DataFrames.

    Attributes:
        outcomes: One row per successful run: run_id, policy, design point,
            replication, seed, the uncertain and lever inputs, then every outcome.
        runs: One row per attempt: run_id, attempt, status, error, timing, worker.
        failures: Planned runs without a successful attempt, with their last error.
        plan: Every planned run.
        series: Daily series (column ``run_id`` plus the model's counters), if kept.
        manifest: Provenance (experiment, parameters, seeds, versions, sessions).
        folder: Where the results live.
        agency_series: Every queueing agency's daily backlog (columns run_id, day,
            agency, state, role, backlog; one row per run, day and agency), if kept;
            read from disk on first use. For large sweeps read only what you need
            with :meth:`read_agency_series`.
    """

    outcomes: pd.DataFrame
    runs: pd.DataFrame
    failures: pd.DataFrame
    plan: pd.DataFrame
    series: pd.DataFrame
    manifest: dict[str, Any]
    folder: Path
    agency_series_files: list[Path] = field(default_factory=list, repr=False)
    _agency_series: pd.DataFrame | None = field(default=None, repr=False, compare=False)

    @property
    def agency_series(self) -> pd.DataFrame:
        """Every queueing agency's daily backlog (empty if the experiment did not keep it)."""
        if self._agency_series is None:
            self._agency_series = self.read_agency_series()
        return self._agency_series

    def read_agency_series(
        self, run_ids: list[str] | None = None, columns: list[str] | None = None
    ) -> pd.DataFrame:
        """Read (part of) the per-agency daily backlog from disk.

        Args:
            run_ids: Only these runs (default: every successful run).
            columns: Only these columns (default: all).

        Returns:
            One row per run, day and queueing agency, ordered as stored.
        """
        done = set(self.outcomes["run_id"])
        keep = done if run_ids is None else done & set(run_ids)
        consolidated = self.folder / AGENCY_SERIES
        current = self.manifest.get("status") in ("complete", "incomplete")
        if current and consolidated.is_file():
            tables = [_read_filtered(consolidated, keep, columns)]
        else:  # an interrupted (or running) experiment: straight from the shards
            tables = list(_agency_tables(self.agency_series_files, keep, columns))
        tables = [t for t in tables if t.num_rows]
        if not tables:
            return pd.DataFrame()
        return pa.concat_tables(tables).to_pandas()


def consolidate(folder: Path) -> Results:
    """Join the plan with the shards of a folder into result tables.

    Args:
        folder: The experiment's results folder.

    Returns:
        The results; a run with several ok records (which resume prevents) is kept once.
    """
    folder = Path(folder)
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError) as exc:
        raise StoreError(f"{folder / MANIFEST}: unreadable manifest ({exc})") from None
    try:
        plan = pq.read_table(folder / PLAN).to_pandas()
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise StoreError(f"{folder / PLAN}: unreadable plan ({exc})") from None
    scan = scan_shards(folder)
    records = scan.records
    meta_cols = [c for c in META_COLUMNS if c in records.columns]
    runs = records[meta_cols].reset_index(drop=True)
    ok = records[records["status"] == "ok"].drop_duplicates("run_id", keep="first")
    outcome_cols = [c for c in ok.columns if c not in META_COLUMNS]
    outcomes = plan.merge(ok[["run_id", *outcome_cols]], on="run_id", how="inner")
    outcomes = outcomes.sort_values(["policy_index", "point", "replication"]).reset_index(drop=True)
    done = set(ok["run_id"])
    failed = records[(records["status"] != "ok") & ~records["run_id"].isin(done)]
    failures = failed.drop_duplicates("run_id", keep="last")[
        [c for c in ("run_id", "attempt", "error", "finished_at") if c in failed.columns]
    ]
    failures = plan.merge(failures, on="run_id", how="inner").reset_index(drop=True)
    series = _read_series(scan.series_files, done)
    return Results(
        outcomes=outcomes,
        runs=runs,
        failures=failures,
        plan=plan,
        series=series,
        manifest=manifest,
        folder=folder,
        agency_series_files=scan.agency_series_files,
    )


def _read_series(files: list[Path], done: set[str]) -> pd.DataFrame:
    """Concatenate series shards, keeping each successful run's series once."""
    frames, seen = [], set()
    for path in files:
        df = pq.read_table(path).to_pandas()
        keep = df["run_id"].isin(done - seen)
        seen |= set(df.loc[keep, "run_id"])
        frames.append(df[keep])
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _read_filtered(path: Path, run_ids: set[str], columns: list[str] | None) -> pa.Table:
    """The rows of an agency-series file whose run is in ``run_ids``."""
    wanted = None if columns is None else list(dict.fromkeys(["run_id", *columns]))
    table = _canonical_agency_table(pq.read_table(path, columns=wanted))
    runs = table["run_id"].cast(pa.string())
    table = table.filter(pc.is_in(runs, value_set=pa.array(sorted(run_ids), pa.string())))
    if columns is not None and "run_id" not in columns:
        table = table.drop_columns(["run_id"])
    return table


def _agency_tables(
    files: list[Path], done: set[str], columns: list[str] | None = None
) -> Iterator[pa.Table]:
    """Agency-series shards one at a time, keeping each successful run's rows once."""
    seen: set[str] = set()
    for path in files:
        table = _read_filtered(path, done - seen, None)
        if table.num_rows:
            seen |= set(pc.unique(table["run_id"].cast(pa.string())).to_pylist())
        if columns is not None:
            table = table.select(columns)
        yield table


def _write_agency_series(dest: Path, files: list[Path], done: set[str]) -> None:
    """Consolidate agency-series shards into one Parquet file, a shard at a time."""
    tmp = _temp_sibling(dest)
    writer = None
    try:
        for table in _agency_tables(files, done):
            if writer is None:
                writer = pq.ParquetWriter(tmp, table.schema)
            writer.write_table(table)
        if writer is None:
            return
        writer.close()
        writer = None
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, dest)
    finally:
        if writer is not None:
            writer.close()
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def load_results(path: str | Path) -> Results:
    """Load an experiment's results folder (complete or interrupted) as DataFrames.

    Args:
        path: The folder written by ``coopsim sweep`` / ``coopsim compare``
            (or :func:`sim.experiment.run_experiment`).

    Returns:
        A :class:`Results` with ``outcomes``, ``runs``, ``failures``, ``plan``,
        ``series``, ``manifest`` and ``agency_series`` (read on first use).

    Raises:
        StoreError: When the folder holds no experiment results.
    """
    folder = Path(path)
    if not folder.is_dir():
        raise StoreError(f"{folder}: no such folder")
    missing = [name for name in (MANIFEST, PLAN) if not (folder / name).is_file()]
    if missing:
        kind = _manifest_kind(folder / MANIFEST)
        if kind == "run":
            raise StoreError(
                f"{folder}: a single run's folder (coopsim run --out), not an experiment's "
                "results; its tables are files there (outcomes.json, series.parquet, "
                "ledger.parquet)"
            )
        raise StoreError(f"{folder}: no experiment results here (no {' and no '.join(missing)})")
    results = consolidate(folder)
    if results.runs.empty and results.manifest.get("status") == "complete" and len(results.plan):
        # A finished sweep whose run files went missing is not a sweep that ran nothing.
        raise StoreError(
            f"{folder}: the manifest says complete, but runs/ holds none of its "
            f"{len(results.plan)} runs (moved or deleted?)"
        )
    return results


def _manifest_kind(path: Path) -> str | None:
    """The ``kind`` a manifest records, or None when there is no readable one."""
    try:
        kind = json.loads(path.read_text()).get("kind")
    except (OSError, ValueError, AttributeError):
        return None
    return kind if isinstance(kind, str) else None
