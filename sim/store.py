"""Results on disk with provenance: single runs, streaming experiment stores, resume.

A single run is written by :func:`write_run`; an experiment's runs are streamed
into shards by :class:`ExperimentStore` as they finish, and consolidated into
tables when the session ends. Every file is written to a temporary name and moved
into place with ``os.replace``, so a crash (even SIGKILL) leaves either the whole
file or nothing. A shard's series files are written before the shard, and the
shard lists them in its Parquet metadata: a shard on disk implies its series files
are too. A shard that cannot be read, or one of whose series files is missing or
unreadable, is set aside (renamed ``*.corrupt``, with its series files) and its
runs are redone.

The pieces live by subject: the folder's file names, atomic writes and provenance
in :mod:`sim.store_files` (the folder layout is described there), run records and
shards in :mod:`sim.store_shards`, consolidated tables and reading them in
:mod:`sim.store_results`. This module re-exports their names, so
``from sim.store import load_results`` works.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import pyarrow as pa

# The writers are looked up in this module's namespace when called, so a test that
# replaces sim.store.atomic_write_bytes or sim.store.frame_to_parquet_bytes reaches
# the shard and single-run writes below (not the plan, series companions and
# consolidated files, which sim.store_files writes with its own copies).
from sim.held_signals import held_signals
from sim.store_files import (
    AGENCY_SERIES,
    COMPANIONS,
    COMPANIONS_KEY,
    MANIFEST,
    META_COLUMNS,
    OUTCOMES,
    OWNED_FILES,
    PLAN,
    RUN_LOG,
    RUNS_DIR,
    SERIES,
    StoreError,
    _temp_sibling,
    atomic_write_bytes,
    atomic_write_json,
    atomic_write_parquet,
    atomic_write_text,
    environment,
    frame_to_parquet_bytes,
    git_commit,
    now_iso,
    set_aside,
    sha256_file,
    stable_hash,
)
from sim.store_results import Results, _write_agency_series, consolidate, load_results
from sim.store_shards import (
    RunRecord,
    ShardScan,
    _agency_table,
    _companion,
    _rows_frame,
    _table_bytes,
    scan_shards,
)

if TYPE_CHECKING:
    from sim.model import RunResult

__all__ = [
    "AGENCY_SERIES",
    "COMPANIONS",
    "COMPANIONS_KEY",
    "MANIFEST",
    "META_COLUMNS",
    "OUTCOMES",
    "OWNED_FILES",
    "PLAN",
    "RUNS_DIR",
    "RUN_LOG",
    "SERIES",
    "ExperimentStore",
    "Results",
    "RunRecord",
    "ShardScan",
    "StoreError",
    "atomic_write_bytes",
    "atomic_write_json",
    "atomic_write_parquet",
    "atomic_write_text",
    "consolidate",
    "environment",
    "frame_to_parquet_bytes",
    "git_commit",
    "load_results",
    "now_iso",
    "scan_shards",
    "sha256_file",
    "stable_hash",
    "write_run",
]


# ------------------------------------------------------------------------ single runs
def write_run(out_dir: Path, result: RunResult, seed: int) -> Path:
    """Write one run's outcomes, daily series, ledger, durations and manifest, atomically.

    A run in which a lever took effect also gets ``levers.csv`` (which lever reached
    which state, on which day), one with endogenous adoption ``adoption.csv`` (who
    decided on which lever, when) and one with negotiated agreements ``agreements.csv``.

    The files go to a temporary sibling folder that is renamed into place at the
    end, so a failure leaves no partial output (and an older folder is replaced
    only once the new one is complete).

    Args:
        out_dir: Destination folder (created, or replaced if it exists).
        result: The run's result.
        seed: The seed the run used.

    Returns:
        The destination folder.
    """
    from sim.metrics import flatten, to_jsonable

    started = now_iso()
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temp_sibling(out_dir)
    tmp.mkdir()
    try:
        (tmp / "outcomes.json").write_text(
            json.dumps(to_jsonable(result.outcomes), indent=2, sort_keys=True) + "\n"
        )
        flat = pd.DataFrame([flatten(result.outcomes)])
        flat.insert(0, "seed", seed)
        (tmp / "outcomes.parquet").write_bytes(frame_to_parquet_bytes(flat))
        (tmp / "series.parquet").write_bytes(frame_to_parquet_bytes(result.series))
        (tmp / "ledger.parquet").write_bytes(frame_to_parquet_bytes(result.model.ledger_frame()))
        (tmp / "durations.csv").write_text(result.durations.to_csv(index=False))
        # When each lever reached each state, who adopted which lever when, and the
        # agreements negotiated: only when there are any.
        levers = result.model.levers_frame()
        if len(levers):
            (tmp / "levers.csv").write_text(levers.to_csv(index=False))
        if result.model.adoption.levers:
            (tmp / "adoption.csv").write_text(result.model.adoption.frame().to_csv(index=False))
        if result.model.negotiation.negotiations:
            agreements = result.model.negotiation.frame().to_csv(index=False)
            (tmp / "agreements.csv").write_text(agreements)
        config = result.model.config
        manifest = {
            "kind": "run",
            "scenario": config.model_dump(mode="json"),
            "scenario_source": config.source,
            "seed": seed,
            "started": started,
            "finished": now_iso(),
            **environment(),
        }
        (tmp / MANIFEST).write_text(
            json.dumps(to_jsonable(manifest), indent=2, sort_keys=True) + "\n"
        )
        old = None
        if out_dir.exists():
            old = _temp_sibling(out_dir)
            os.replace(out_dir, old)
        os.replace(tmp, out_dir)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return out_dir


# What a Python caller can do about a folder it cannot resume into.
START_OVER = (
    "run_experiment(..., resume=False) starts over (the earlier results are moved aside, "
    "not deleted), or use another folder."
)


class ExperimentStore:
    """Streams run records of one experiment to disk and consolidates them at the end.

    Records are buffered briefly and written as a shard when ``flush_seconds`` have
    passed since the last write (so slow model runs get one shard each, and a
    million cheap function evaluations do not make a million files); a kill loses
    at most that much work, which resume then redoes. Use as a context manager:
    leaving the block (also by an exception or Ctrl-C) flushes what is buffered.

    Args:
        folder: The results folder.
        flush_seconds: Longest time a finished run waits in memory before it is written.
    """

    def __init__(self, folder: Path, flush_seconds: float = 0.5):
        self.folder = Path(folder)
        self.runs_dir = self.folder / RUNS_DIR
        self.flush_seconds = flush_seconds
        self._buffer: list[RunRecord] = []
        self.replaced: Path | None = None  # where start() moved earlier results, if it did
        self.stored_ok: set[str] = set()  # runs this session stored (or buffered) as ok
        self._last_flush = time.monotonic()

    # ---------------------------------------------------------------- start / resume
    def start(self, manifest: dict[str, Any], plan: pd.DataFrame, resume: bool) -> set[str]:
        """Prepare the folder for a session and return the run ids already done.

        Args:
            manifest: Provenance; must hold ``plan_hash`` identifying the plan.
            plan: The planned runs (one row per run, column ``run_id``).
            resume: Keep the finished runs of an earlier session of the same plan.
                Without it, an experiment's earlier results in the folder are moved to a
                folder next to it first (``NAME.replaced-<time>``, :attr:`replaced`).

        Returns:
            The ids of planned runs that already have a successful record.

        Raises:
            StoreError: When resuming into a folder that holds a different plan.
        """
        if self.folder.exists() and not self.folder.is_dir():
            raise StoreError(f"{self.folder}: a file, not a results folder")
        old = self.read_manifest() if resume else None
        if old is not None and old.get("kind") == "run":
            raise StoreError(
                f"{self.folder}: a single run's folder (coopsim run --out), not an "
                "experiment's results."
            )
        if old is not None and old.get("plan_hash") != manifest["plan_hash"]:
            raise StoreError(
                f"{self.folder}: holds results of a different experiment plan "
                f"({old.get('name')!r}, plan {str(old.get('plan_hash'))[:12]}; this one "
                f"{manifest['plan_hash'][:12]}).",
                START_OVER,
            )
        if resume and old is None and any(self.runs_dir.glob("shard-*.parquet")):
            raise StoreError(
                f"{self.folder}: holds run shards but no {MANIFEST}, so they cannot be matched "
                "to this experiment.",
                START_OVER,
            )
        if not resume:
            # An experiment's earlier results are moved aside whole, never deleted (signals
            # wait: a half-moved folder would load as neither); a run's files are replaced.
            with held_signals():
                self.replaced = set_aside(self.folder)
            self.clear()
        self.folder.mkdir(parents=True, exist_ok=True)
        self.runs_dir.mkdir(exist_ok=True)
        sessions = list(old.get("sessions", [])) if old else []
        sessions.append({"started": now_iso(), **manifest.pop("session", {})})
        self.manifest = {**manifest, "sessions": sessions, "status": "running"}
        if old is not None:
            self.manifest["created"] = old.get("created", self.manifest.get("created"))
        atomic_write_parquet(self.folder / PLAN, plan)
        atomic_write_json(self.folder / MANIFEST, self.manifest)
        scan = scan_shards(self.folder, set_aside_corrupt=True)
        done = scan.records.loc[scan.records["status"] == "ok", "run_id"]
        return set(done) & set(plan["run_id"])

    def clear(self) -> None:
        """Remove the files this store owns (never anything else in the folder)."""
        if self.runs_dir.is_dir():
            shutil.rmtree(self.runs_dir)
        for name in OWNED_FILES:
            with contextlib.suppress(FileNotFoundError):
                (self.folder / name).unlink()

    def read_manifest(self) -> dict[str, Any] | None:
        """The folder's manifest, or None when there is none."""
        path = self.folder / MANIFEST
        if not path.is_file():
            return None
        try:
            return json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise StoreError(f"{path}: unreadable manifest ({exc}).", START_OVER) from None

    # ---------------------------------------------------------------- streaming
    def add(self, record: RunRecord) -> None:
        """Buffer a finished attempt; write a shard when the buffer is due."""
        self._buffer.append(record)
        if record.status == "ok":
            self.stored_ok.add(record.run_id)
        if time.monotonic() - self._last_flush >= self.flush_seconds:
            self.flush()

    def flush(self) -> None:
        """Write the buffered records as one shard (series files first, then the records)."""
        if not self._buffer:
            return
        records, self._buffer = self._buffer, []
        shard = self.runs_dir / f"shard-{time.time_ns():020d}-{uuid.uuid4().hex[:8]}.parquet"
        written = []
        # Written before its records: a shard on disk implies its series are too.
        series = [r.series.assign(run_id=r.run_id) for r in records if r.series is not None]
        if series:
            atomic_write_parquet(_companion(shard, "series"), pd.concat(series, ignore_index=True))
            written.append("series")
        agency = _agency_table(records)
        if agency is not None:
            atomic_write_bytes(_companion(shard, "agency_series"), _table_bytes(agency))
            written.append("agency_series")
        del series, agency
        table = pa.Table.from_pandas(_rows_frame([r.row() for r in records]), preserve_index=False)
        meta = {**(table.schema.metadata or {}), COMPANIONS_KEY: ",".join(written).encode()}
        atomic_write_bytes(shard, _table_bytes(table.replace_schema_metadata(meta)))
        self._last_flush = time.monotonic()

    def __enter__(self) -> ExperimentStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.flush()

    # ---------------------------------------------------------------- finishing
    def interrupt(self, summary: Mapping[str, Any]) -> None:
        """Flush what is buffered and mark the manifest ``"interrupted"`` (resume continues).

        Args:
            summary: Counts and timings of the session, stored in the manifest.
        """
        self.flush()
        self.manifest["status"] = "interrupted"
        self.manifest["sessions"][-1].update({"interrupted": now_iso(), **summary})
        atomic_write_json(self.folder / MANIFEST, self.manifest)

    def finish(self, summary: Mapping[str, Any]) -> Results:
        """Flush, consolidate the shards into tables and mark the manifest.

        Args:
            summary: Counts and timings of the session, stored in the manifest.

        Returns:
            The consolidated results.
        """
        self.flush()
        results = consolidate(self.folder)
        complete = results.failures.empty and len(results.outcomes) == len(results.plan)
        atomic_write_parquet(self.folder / OUTCOMES, results.outcomes)
        atomic_write_parquet(self.folder / RUN_LOG, results.runs)
        if not results.series.empty:
            atomic_write_parquet(self.folder / SERIES, results.series)
        if results.agency_series_files:
            _write_agency_series(
                self.folder / AGENCY_SERIES,
                results.agency_series_files,
                set(results.outcomes["run_id"]),
            )
        # The manifest last: "complete" means the consolidated files above are current.
        self.manifest["status"] = "complete" if complete else "incomplete"
        self.manifest["sessions"][-1].update({"finished": now_iso(), **summary})
        self.manifest["finished"] = now_iso()
        atomic_write_json(self.folder / MANIFEST, self.manifest)
        results.manifest = self.manifest
        return results
