"""The files of a results folder: their names, atomic writes, and provenance.

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

Every file is written to a temporary name and moved into place with ``os.replace``
(:func:`atomic_write_bytes`), so a crash (even SIGKILL) leaves either the whole file
or nothing.

This module is the bottom of the store: names, writes that a crash cannot leave half
done, and what a manifest records about the machine and the source tree. Reading the
shards is :mod:`sim.store_shards`, consolidating them :mod:`sim.store_results`,
streaming runs into them :mod:`sim.store`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import io
import json
import os
import platform
import socket
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from sim.errors import CoopsimError

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
# The store's own files: a fresh start (``resume=False``) moves an experiment's aside
# (:func:`set_aside`) and removes what is left of them (a run's); nothing else is touched.
OWNED_FILES = (MANIFEST, PLAN, OUTCOMES, RUN_LOG, SERIES, AGENCY_SERIES)


#: What an experiment folder holds of its plan besides the store's own files (its
#: ``OWNED_FILES`` and runs folder): the tables, figures and analysis written from them.
DERIVED_OUTPUTS = (
    "comparison.csv",
    "comparison*.png",
    "sensitivity.csv",
    "robust_*.csv",
    "robust_*.png",
    "analysis",
    "figures",
)


def aside_path(path: Path) -> Path:
    """A free name next to ``path`` to move it to: ``NAME.replaced-YYYYmmdd-HHMMSS``."""
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    candidate = path.with_name(f"{path.name}.replaced-{stamp}")
    n = 1
    while candidate.exists() or candidate.is_symlink():
        n += 1
        candidate = path.with_name(f"{path.name}.replaced-{stamp}-{n}")
    return candidate


def set_aside(folder: Path) -> Path | None:
    """Move an experiment's results out of ``folder``, into a new folder next to it.

    Nothing is deleted: the store's files, with the tables, figures and analysis written
    from them, go to ``NAME.replaced-<time>``, which loads as results. The manifest goes
    last, so a folder that has one is whole (the callers hold signals meanwhile).

    Returns:
        The folder they went to, or None when ``folder`` held no experiment's results
        (a single run's folder is not one).
    """
    import shutil

    folder = Path(folder).resolve()  # "." or a link: the folder itself, and a sibling
    if not ((folder / PLAN).is_file() or (folder / RUNS_DIR).is_dir()):
        return None
    moved = aside_path(folder)
    patterns = (*OWNED_FILES, RUNS_DIR, *DERIVED_OUTPUTS)
    names = {path.name for pattern in patterns for path in folder.glob(pattern)}
    moved.mkdir()
    for name in sorted(names - {MANIFEST}) + ([MANIFEST] if MANIFEST in names else []):
        # shutil.move renames, or copies then removes across file systems.
        shutil.move(str(folder / name), str(moved / name))
    return moved


class StoreError(CoopsimError, ValueError):
    """A results folder that cannot be used as asked (e.g. it holds another experiment).

    Args:
        problem: What is wrong with the folder.
        remedy: What to do about it from Python (the command line says its own).
    """

    def __init__(self, problem: str, remedy: str = ""):
        super().__init__(f"{problem} {remedy}".strip())
        self.problem = problem


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
