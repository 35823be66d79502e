"""Scenarios and experiments ship inside the package, so an installed wheel runs them."""

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import sim.kernel_cache as kernel_cache
from sim.experiment import shipped_experiments_dir
from sim.scenario import shipped_dir, shipped_scenarios, shipped_scenarios_dir

REPO = Path(__file__).resolve().parent.parent


def test_a_clone_finds_the_files_next_to_the_package():
    assert shipped_scenarios_dir() == REPO / "scenarios"
    assert shipped_experiments_dir() == REPO / "experiments"
    assert "baseline" in shipped_scenarios()


def test_an_installed_layout_finds_the_files_inside_the_package(tmp_path):
    site = tmp_path / "site-packages"
    package = site / "sim"
    (package / "_scenarios").mkdir(parents=True)
    (package / "_experiments").mkdir()
    # An unrelated folder beside the installed package must not be taken for ours.
    (site / "scenarios").mkdir()
    assert shipped_dir("scenarios", package) == package / "_scenarios"
    assert shipped_dir("experiments", package) == package / "_experiments"
    # Without the in-package copies (a clone), the folders beside the package.
    assert shipped_dir("scenarios", REPO / "sim") == REPO / "scenarios"


@pytest.mark.slow
def test_a_built_wheel_installed_in_a_fresh_environment_runs_baseline(tmp_path):
    uv = shutil.which("uv")
    if uv is None:
        pytest.skip("uv is not installed")
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    subprocess.run(
        [uv, "build", "--wheel", "-o", str(tmp_path / "dist")],
        cwd=REPO,
        env=env,
        check=True,
        capture_output=True,
    )
    wheel = next((tmp_path / "dist").glob("coopsim-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "sim/_scenarios/baseline.toml" in names
    assert "sim/_experiments/compare_packages.toml" in names
    venv = tmp_path / "venv"
    subprocess.run(
        [uv, "venv", "-q", "-p", sys.executable, str(venv)], cwd=REPO, env=env, check=True
    )
    python = venv / "bin" / "python"
    subprocess.run(
        [uv, "pip", "install", "-q", "--python", str(python), str(wheel)],
        cwd=REPO,
        env=env,
        check=True,
        capture_output=True,
    )
    # The clone's compiled kernels (the test session compiled them) serve the installed
    # wheel too: the cache does not depend on where the package lives, so the fresh
    # environment loads them instead of compiling for a minute, and writes nothing new.
    # A copy, so that other tests compiling kernels for new argument types meanwhile
    # cannot touch what is compared.
    session_cache = kernel_cache.active_cache_dir()
    cache = tmp_path / "numba-cache" / session_cache.name
    shutil.copytree(session_cache, cache)
    before = {path.name: path.stat().st_mtime_ns for path in cache.iterdir()}
    env["NUMBA_CACHE_DIR"] = str(cache.parent)
    code = (
        "import sim, sim.experiment as e\n"
        "r = sim.run('baseline', seed=1, years=0.05, overrides={'world.n_states': 6})\n"
        "print(r.outcomes['days'], sim.scenario.shipped_scenarios_dir().name,"
        " e.load_experiment('compare_packages').name)\n"
    )
    out = subprocess.run(
        [str(python), "-c", code], cwd=tmp_path, env=env, check=True, capture_output=True, text=True
    )
    assert out.stdout.split() == ["18", "_scenarios", "compare_packages"]
    assert {path.name: path.stat().st_mtime_ns for path in cache.iterdir()} == before
