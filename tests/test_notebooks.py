"""The analyst notebooks run top to bottom (executed with nbclient in a temporary folder).

With ``COOPSIM_NOTEBOOK_SMALL=1`` the notebooks that run experiments use their small size.
"""

from __future__ import annotations

import time
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))


def test_the_four_notebooks_exist_and_are_committed_without_outputs():
    names = [p.stem for p in NOTEBOOKS]
    for expected in (
        "01_quickstart",
        "02_compare_reforms",
        "03_sensitivity",
        "04_real_world",
        "06_robustness",
    ):
        assert expected in names
    for path in NOTEBOOKS:
        book = nbformat.read(path, as_version=4)
        for cell in book.cells:
            if cell.cell_type == "code":
                assert not cell.outputs and cell.execution_count is None, f"{path.name}: outputs"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path, tmp_path, monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("TMPDIR", str(tmp_path))  # the notebooks write to a temporary folder
    # Notebooks with experiments read this in their first cell and run fewer, shorter runs:
    # the test checks that every cell runs and draws, not the numbers.
    monkeypatch.setenv("COOPSIM_NOTEBOOK_SMALL", "1")
    book = nbformat.read(path, as_version=4)
    client = NotebookClient(
        book,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    )
    started = time.perf_counter()
    client.execute()
    elapsed = time.perf_counter() - started
    errors = [
        out
        for cell in book.cells
        if cell.cell_type == "code"
        for out in cell.outputs
        if out.get("output_type") == "error"
    ]
    assert not errors
    images = sum(
        "image/png" in out.get("data", {})
        for cell in book.cells
        if cell.cell_type == "code"
        for out in cell.outputs
    )
    assert images >= 1, f"{path.name}: no figure displayed"
    print(f"{path.name}: {elapsed:.1f} s")
