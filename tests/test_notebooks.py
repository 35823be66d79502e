"""The analyst notebooks run top to bottom (executed with nbclient in a temporary folder).

With ``COOPSIM_NOTEBOOK_SMALL=1`` the notebooks that run experiments use their small size.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import nbformat
import pytest
from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import run_sync
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


@pytest.fixture(scope="module")
def kernel(tmp_path_factory):
    """One Jupyter kernel for the notebooks this test worker runs.

    Starting a kernel and importing the model, numba and the explorer costs 4-8 s a
    notebook; each notebook still starts from an empty namespace (``%reset -f``), so a
    notebook relying on another's variables or imports fails as it would alone.
    """
    folder = tmp_path_factory.mktemp("notebooks")
    env = dict(os.environ, MPLBACKEND="Agg", TMPDIR=str(folder))
    # Notebooks with experiments read this in their first cell and run fewer, shorter runs:
    # the test checks that every cell runs and draws, not the numbers.
    env["COOPSIM_NOTEBOOK_SMALL"] = "1"
    manager = AsyncKernelManager(kernel_name="python3")
    run_sync(manager.start_kernel)(cwd=str(folder), env=env)
    yield manager
    run_sync(manager.shutdown_kernel)(now=True)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path, tmp_path, kernel):
    book = nbformat.read(path, as_version=4)
    # The notebooks write to the working folder: a fresh one each, and a fresh namespace.
    fresh = f"%reset -f\nimport os\nos.chdir({str(tmp_path)!r})"
    book.cells.insert(0, nbformat.v4.new_code_cell(fresh))
    client = NotebookClient(book, km=kernel, timeout=300)
    started = time.perf_counter()
    try:
        client.execute()
    finally:
        client.kc.stop_channels()
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
