"""Regenerate the README figure (docs/img/comparison.png) and the data it is drawn from.

Runs the shipped comparison (experiments/compare_packages.toml: the baseline and
the reform packages, paired by seed) and writes, next to the figure:

- ``comparison_runs.csv``: every run's outcomes (policy, replication, seed, outcomes);
- ``comparison.csv``: the paired comparison table the figure shows.

The PNG carries the SHA-256 of ``comparison.csv`` in its metadata, so
``tests/test_readme_figure.py`` can tell that figure, table and runs belong
together, and that a fresh run of the current model still gives the stored runs.
When the model changes, rerun::

    uv run python docs/make_figures.py --workers 2
"""

from __future__ import annotations

import argparse
import hashlib
import io
import sys
import tempfile
from pathlib import Path

import pandas as pd

IMG = Path(__file__).resolve().parent / "img"
EXPERIMENT = "compare_packages"
FIGURE = IMG / "comparison.png"
TABLE = IMG / "comparison.csv"
RUNS = IMG / "comparison_runs.csv"
DATA_KEY = "coopsim-data-sha256"
COMMAND = "uv run python docs/make_figures.py --workers 2"


def sha256_text(text: str) -> str:
    """SHA-256 of a text (UTF-8)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def runs_frame(outcomes: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    """The stored per-run table: policy, its index, replication, seed and the outcomes."""
    cols = ["policy", "policy_index", "point", "replication", "seed", *names]
    return outcomes[cols].sort_values(["policy_index", "point", "replication"], ignore_index=True)


def to_csv(frame: pd.DataFrame) -> str:
    """CSV with floats written exactly (they read back to the same values)."""
    return frame.to_csv(index=False, float_format="%.17g", lineterminator="\n")


def comparison_from_runs(runs: pd.DataFrame, manifest_like: dict) -> pd.DataFrame:
    """The comparison table computed from the per-run table."""
    from sim.analysis import compare_policies

    names = [
        c
        for c in runs.columns
        if c not in ("policy", "policy_index", "point", "replication", "seed")
    ]
    return compare_policies(
        runs,
        manifest_like["reference"],
        names,
        manifest_like.get("confidence", 0.95),
        manifest_like.get("ci_method", "t"),
        manifest_like.get("base_seed", 0),
    )


def figure_png(table: pd.DataFrame, title: str, data_hash: str) -> bytes:
    """The forest plot as PNG bytes, with the data's hash in its metadata."""
    from sim.plots import forest

    fig = forest(table, title=title)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=150, metadata={DATA_KEY: data_hash})
    return buffer.getvalue()


def png_metadata(path: Path) -> dict[str, str]:
    """Text metadata of a PNG file."""
    from PIL import Image

    with Image.open(path) as image:
        return dict(image.text)


def main(argv: list[str] | None = None) -> int:
    """Run the comparison and write the figure, its table and its runs atomically."""
    from sim.experiment import load_experiment, make_executor, run_experiment
    from sim.store import atomic_write_bytes, atomic_write_text

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=None, help="processes (default: all)")
    args = parser.parse_args(argv)
    experiment = load_experiment(EXPERIMENT)
    names = list(experiment.spec.outcomes)
    with tempfile.TemporaryDirectory() as tmp:
        with make_executor(args.workers) as executor:
            results = run_experiment(experiment, Path(tmp) / EXPERIMENT, executor=executor)
        if not results.failures.empty:
            print(f"error: {len(results.failures)} runs failed; nothing written", file=sys.stderr)
            return 1
        runs = runs_frame(results.outcomes, names)
    spec = experiment.spec.model_dump()
    table = comparison_from_runs(runs, {**spec, "reference": experiment.reference})
    table_csv = to_csv(table)
    title = f"{experiment.name}: {experiment.spec.description}"[:90]
    png = figure_png(table, title, sha256_text(table_csv))
    atomic_write_text(RUNS, to_csv(runs))
    atomic_write_text(TABLE, table_csv)
    atomic_write_bytes(FIGURE, png)
    for path in (FIGURE, TABLE, RUNS):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
