"""Results on disk with provenance: single runs, streaming experiment stores, resume.

Layout of an experiment folder (``results/<name>/``)::

    manifest.json      provenance: experiment, resolved parameters, seeds, versions, sessions
    plan.parquet       every planned run: run_id, policy, design point, replication, seed, inputs
    runs/              shards, each written atomically as runs finish (a batch of records)
      shard-*.parquet  one row per finished attempt: run_id, status, error, timing, outcomes
      series-*.parquet daily series of the runs in the shard of the same id (optional)
      agency_series-*.parquet
                       daily backlog of every queueing agency of those runs (optional)
    outcomes.parquet   consolidated: one row per successful run (plan columns + outcomes)
    runs.parquet       consolidated log of every attempt (status, error, timing, worker)
    series.parquet     consolidated daily series (when the experiment keeps them)
    agency_series.parquet
                       consolidated per-agency daily backlog: run_id, day, agency, state,
                       role, backlog (when the experiment keeps them; written shard by
                       shard, so consolidating never holds more than one shard's rows)

Every file is written to a temporary name and moved into place with ``os.replace``,
so a crash (even SIGKILL) leaves either the whole file or nothing. A shard's series
files are written before the shard, and the shard lists them in its Parquet
metadata: a shard on disk implies its series files are too. A shard that cannot be
read, or one of whose series files is missing or unreadable, is set aside (renamed
``*.corrupt``, with its series files) and its runs are redone.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import io
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from sim.errors import CoopsimError

if TYPE_CHECKING:
    from sim.model import RunResult

MANIFEST = "manifest.json"
PLAN = "plan.parquet"
RUNS_DIR = "runs"
OUTCOMES = "outcomes.parquet"
RUN_LOG = "runs.parquet"
SERIES = "series.parquet"
AGENCY_SERIES = "agency_series.parquet"
# The series files that may accompany a shard, by record attribute: the file prefix
# (``shard-<id>`` -> ``<prefix><id>``). A shard lists the ones it has in its metadata.
COMPANIONS = {"series": "series-", "agency_series": "agency_series-"}
COMPANIONS_KEY = b"coopsim.companions"

# Columns every shard row carries besides the outcomes; outcome names may not use them.
META_COLUMNS = ("run_id", "status", "attempt", "error", "elapsed_s", "finished_at", "worker")
# Files a fresh start (``--no-resume``) removes; anything else in the folder is left alone.
OWNED_FILES = (MANIFEST, PLAN, OUTCOMES, RUN_LOG, SERIES, AGENCY_SERIES)


class StoreError(CoopsimError, ValueError):
    """A results folder that cannot be used as asked (e.g. it holds another experiment)."""


# ------------------------------------------------------------------------ atomic writes
def _temp_sibling(path: Path) -> Path:
    return path.with_name(f".{path.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}")


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically: a temporary sibling, fsync, then rename.

    Args:
        path: Destination file.
        data: Content.
    """
    path = Path(path)
    tmp = _temp_sibling(path)
    try:
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def atomic_write_text(path: Path, text: str) -> None:
    """Write UTF-8 text atomically (see :func:`atomic_write_bytes`)."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: Path, data: Any) -> None:
    """Write standard JSON (NaN as null) atomically."""
    from sim.metrics import to_jsonable

    atomic_write_text(path, json.dumps(to_jsonable(data), indent=2, sort_keys=True) + "\n")


def frame_to_parquet_bytes(df: pd.DataFrame) -> bytes:
    """Serialise a DataFrame to Parquet bytes (no index)."""
    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_pandas(df, preserve_index=False), buffer)
    return buffer.getvalue()


def atomic_write_parquet(path: Path, df: pd.DataFrame) -> None:
    """Write a DataFrame as Parquet atomically."""
    atomic_write_bytes(path, frame_to_parquet_bytes(df))


# ------------------------------------------------------------------------ provenance
def git_commit(folder: Path | None = None) -> str | None:
    """The git commit of the source tree (with ``-dirty`` if modified), or None."""
    folder = folder or Path(__file__).resolve().parent
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=folder, capture_output=True, text=True, timeout=5
        )
        if commit.returncode != 0:
            return None
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=5,
        )
        suffix = "-dirty" if dirty.returncode == 0 and dirty.stdout.strip() else ""
        return commit.stdout.strip() + suffix
    except (OSError, subprocess.SubprocessError):
        return None


def now_iso() -> str:
    """The current UTC time as an ISO 8601 string."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def environment() -> dict[str, Any]:
    """Package and library versions, git commit and platform, for manifests."""
    import sim

    versions = {}
    for name in ("mesa", "numpy", "pandas", "pyarrow", "scipy", "SALib", "distributed"):
        try:
            from importlib.metadata import version

            versions[name] = version(name)
        except Exception:  # noqa: BLE001 - a missing optional library is not an error here
            versions[name] = None
    return {
        "package": "coopsim",
        "package_version": sim.__version__,
        "git_commit": git_commit(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "machine": platform.machine(),
        "hostname": socket.gethostname(),
        "libraries": versions,
    }


def sha256_file(path: Path) -> str:
    """SHA-256 hex digest of a file's bytes."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def stable_hash(data: Any) -> str:
    """SHA-256 of the canonical JSON form of ``data`` (sorted keys, NaN as null)."""
    from sim.metrics import to_jsonable

    text = json.dumps(to_jsonable(data), sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# ------------------------------------------------------------------------ single runs
def write_run(out_dir: Path, result: RunResult, seed: int) -> Path:
    """Write one run's outcomes, daily series, ledger, durations and manifest, atomically.

    A run with endogenous adoption also gets ``adoption.csv`` (who adopted which
    lever, when) and one with negotiated agreements ``agreements.csv``.

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
        # Who adopted which lever when, and the agreements negotiated: only when on.
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


# ------------------------------------------------------------------------ experiment store
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
        self._last_flush = time.monotonic()

    # ---------------------------------------------------------------- start / resume
    def start(self, manifest: dict[str, Any], plan: pd.DataFrame, resume: bool) -> set[str]:
        """Prepare the folder for a session and return the run ids already done.

        Args:
            manifest: Provenance; must hold ``plan_hash`` identifying the plan.
            plan: The planned runs (one row per run, column ``run_id``).
            resume: Keep the finished runs of an earlier session of the same plan.
                Without it, earlier results in the folder are removed first.

        Returns:
            The ids of planned runs that already have a successful record.

        Raises:
            StoreError: When resuming into a folder that holds a different plan.
        """
        old = self.read_manifest() if resume else None
        if old is not None and old.get("plan_hash") != manifest["plan_hash"]:
            raise StoreError(
                f"{self.folder}: holds results of a different experiment plan "
                f"({old.get('name')!r}, plan {str(old.get('plan_hash'))[:12]}; this one "
                f"{manifest['plan_hash'][:12]}). Use --no-resume to start over, or another --out."
            )
        if resume and old is None and any(self.runs_dir.glob("shard-*.parquet")):
            raise StoreError(
                f"{self.folder}: holds run shards but no {MANIFEST}, so they cannot be matched "
                "to this experiment. Use --no-resume to start over, or another --out."
            )
        if not resume:
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
            raise StoreError(f"{path}: unreadable manifest ({exc}); use --no-resume") from None

    # ---------------------------------------------------------------- streaming
    def add(self, record: RunRecord) -> None:
        """Buffer a finished attempt; write a shard when the buffer is due."""
        self._buffer.append(record)
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


# ------------------------------------------------------------------------ loading
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
    manifest = json.loads((folder / MANIFEST).read_text())
    plan = pq.read_table(folder / PLAN).to_pandas()
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
    if not (folder / MANIFEST).is_file() or not (folder / PLAN).is_file():
        raise StoreError(f"{folder}: no experiment results here (no {MANIFEST} and {PLAN})")
    return consolidate(folder)
