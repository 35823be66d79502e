"""Run records and the shards they are written in: one shard per flush, checked on reading.

A shard is one Parquet file of run records (one row per finished attempt), with
the daily series of its runs in companion files written before it; a shard lists
its companions in its metadata, so a shard on disk implies they are there too.
:func:`scan_shards` reads every shard of a folder and sets aside the corrupt ones
(renamed ``*.corrupt``) so that their runs are redone. Writing shards is
:class:`sim.store.ExperimentStore`; joining them into tables :mod:`sim.store_results`.
"""

from __future__ import annotations

import contextlib
import io
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from sim.store_files import COMPANIONS, COMPANIONS_KEY, META_COLUMNS, RUNS_DIR, StoreError


@dataclass
class RunRecord:
    """What one attempt at one planned run produced (built by the executing worker)."""

    run_id: str
    status: str  # "ok" or "failed"
    attempt: int
    outcomes: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    elapsed_s: float = 0.0
    finished_at: str = ""
    worker: str = ""
    series: pd.DataFrame | None = None
    agency_series: pd.DataFrame | None = None

    def row(self) -> dict[str, Any]:
        """The record as one flat shard row (meta columns, then outcomes)."""
        clash = sorted(set(self.outcomes) & set(META_COLUMNS))
        if clash:
            raise StoreError(f"outcome names {clash} clash with reserved columns {META_COLUMNS}")
        meta = {
            "run_id": self.run_id,
            "status": self.status,
            "attempt": self.attempt,
            "error": self.error,
            "elapsed_s": self.elapsed_s,
            "finished_at": self.finished_at,
            "worker": self.worker,
        }
        return {**meta, **self.outcomes}


def _rows_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Rows to a frame whose object columns Parquet can store (mixed types become text)."""
    df = pd.DataFrame(rows)
    for col in df.columns:
        if df[col].dtype == object:
            kinds = {type(v) for v in df[col] if v is not None and v == v}
            if len(kinds) > 1:
                df[col] = df[col].map(lambda v: None if v is None else str(v))
    return df


def _companion(shard: Path, kind: str) -> Path:
    """The series file of kind ``kind`` (a :data:`COMPANIONS` key) that goes with a shard."""
    return shard.with_name(shard.name.replace("shard-", COMPANIONS[kind], 1))


def _canonical_agency_table(table: pa.Table) -> pa.Table:
    """One schema for every agency-series file: text columns dictionary-encoded (int32).

    Shards concatenate runs whose categoricals differ (and may have more than 127
    categories), so their Arrow types differ; a single schema lets them be written
    into one Parquet file and read back as categoricals.
    """
    text = (pa.string(), pa.large_string())
    fields = []
    for f in table.schema:
        is_text = f.type in text or (pa.types.is_dictionary(f.type) and f.type.value_type in text)
        fields.append(pa.field(f.name, pa.dictionary(pa.int32(), pa.string())) if is_text else f)
    return table.replace_schema_metadata(None).cast(pa.schema(fields))


def _agency_table(records: list[RunRecord]) -> pa.Table | None:
    """The agency series of some records as one table, ``run_id`` first."""
    tables = []
    for r in records:
        if r.agency_series is None:
            continue
        table = pa.Table.from_pandas(r.agency_series, preserve_index=False)
        run = pa.DictionaryArray.from_arrays(
            pa.array([0] * table.num_rows, pa.int32()), pa.array([r.run_id], pa.string())
        )
        tables.append(_canonical_agency_table(table.add_column(0, "run_id", run)))
    return pa.concat_tables(tables) if tables else None


def _table_bytes(table: pa.Table) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return buffer.getvalue()


@dataclass
class ShardScan:
    """What the shards of a results folder hold."""

    records: pd.DataFrame  # every attempt, in shard order
    series_files: list[Path]
    corrupt: list[Path]
    agency_series_files: list[Path] = field(default_factory=list)


def _check_shard(shard: Path) -> tuple[pd.DataFrame, dict[str, Path]]:
    """Read a shard and check its series files; raise if any of it is unusable."""
    table = pq.read_table(shard)
    df = table.to_pandas()
    missing = [c for c in ("run_id", "status") if c not in df.columns]
    if missing:
        raise ValueError(f"missing columns {missing}")
    listed = (table.schema.metadata or {}).get(COMPANIONS_KEY)
    if listed is None:  # a shard from before shards listed their series files
        found = {k: _companion(shard, k) for k in COMPANIONS}
        return df, {k: p for k, p in found.items() if p.is_file()}
    companions = {k: _companion(shard, k) for k in listed.decode().split(",") if k}
    for path in companions.values():
        pq.read_metadata(path)  # missing or truncated: the shard is unusable
    return df, companions


def scan_shards(folder: Path, set_aside_corrupt: bool = False) -> ShardScan:
    """Read every shard of an experiment folder, detecting corrupt or truncated ones.

    A shard is corrupt when it cannot be read, or when a series file it lists is
    missing or unreadable.

    Args:
        folder: The experiment's results folder.
        set_aside_corrupt: Rename corrupt shards (and their series files) to
            ``*.corrupt`` so their runs are redone.

    Returns:
        The attempt records, the series files that belong to valid shards, and the
        corrupt shards found.
    """
    runs = Path(folder) / RUNS_DIR
    frames, corrupt = [], []
    files: dict[str, list[Path]] = {k: [] for k in COMPANIONS}
    for shard in sorted(runs.glob("shard-*.parquet")) if runs.is_dir() else []:
        try:
            df, companions = _check_shard(shard)
        except Exception:  # noqa: BLE001 - any unreadable shard is treated the same way
            corrupt.append(shard)
            if set_aside_corrupt:
                for path in [shard, *(_companion(shard, k) for k in COMPANIONS)]:
                    with contextlib.suppress(FileNotFoundError):
                        os.replace(path, path.with_suffix(".corrupt"))
            continue
        frames.append(df)
        for kind, path in companions.items():
            files[kind].append(path)
    records = (
        pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=list(META_COLUMNS))
    )
    return ShardScan(
        records=records,
        series_files=files["series"],
        corrupt=corrupt,
        agency_series_files=files["agency_series"],
    )
