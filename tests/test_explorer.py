"""The interactive explorer: parameter mapping, stepping, the command, and the page in a browser."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest

import sim
from sim import explorer
from sim.cli import main
from sim.explorer import (
    ExplorerModel,
    lever_names,
    model_params,
    overrides_from_params,
    params_from_scenario,
)

ROOT = Path(__file__).resolve().parent.parent
TINY = (
    'extends = "baseline"\nname = "tiny"\n[world]\nn_states = 12\n'
    "[run]\nyears = 1.0\nwarmup_years = 0.0\n"
)


@pytest.fixture
def tiny_file(write_toml):
    return str(write_toml("tiny.toml", TINY))


def test_every_lever_has_a_switch_and_a_start_year():
    levers = lever_names()
    assert {"nsc_law", "mutual_recognition", "treaty_expansion", "budget_cuts"} <= set(levers)
    params = model_params("baseline")
    for lever in levers:
        assert params[f"{lever}_enabled"]["type"] == "Checkbox"
        assert params[f"{lever}_start_year"]["type"] == "SliderFloat"
    for name in explorer.FRICTIONS:
        assert params[name]["type"] == "SliderFloat"
        assert params[name]["min"] <= params[name]["value"] <= params[name]["max"]
    assert params["days_per_step"]["value"] == 30


def test_flat_parameters_map_to_dotted_overrides():
    overrides = overrides_from_params(
        {
            "legal_distance_days": 40,
            "sovereignty_sensitivity_mean": np.float64(0.7),
            "nsc_law_enabled": 1,
            "nsc_law_start_year": 2,
        }
    )
    assert overrides == {
        "drafting.legal_distance_days": 40.0,
        "world.sovereignty_sensitivity_mean": 0.7,
        "nsc_law.enabled": True,
        "nsc_law.start_year": 2.0,
    }
    assert all(type(v) in (float, bool) for v in overrides.values())
    with pytest.raises(ValueError, match="unknown explorer parameters"):
        overrides_from_params({"legal_distance": 1.0})


def test_controls_start_from_the_scenario_file():
    scenario = sim.load_scenario("nsc_law")
    values = params_from_scenario(scenario)
    assert values["nsc_law_enabled"] is True
    assert values["nsc_law_start_year"] == scenario.nsc_law.start_year
    assert values["central_authority_capacity"] == scenario.agencies.central_authority_capacity
    assert model_params("nsc_law")["nsc_law_enabled"]["value"] is True


def test_explorer_steps_match_a_plain_run_and_keep_a_reference(tiny_file):
    model = ExplorerModel(tiny_file, seed=2, days_per_step=30, nsc_law_enabled=True)
    assert model.config.nsc_law.enabled
    assert model.changes == [("nsc_law_enabled", False, True)]
    # SolaraViz's Reset passes Mesa's own scenario object; it is ignored.
    assert ExplorerModel(tiny_file, scenario=object()).reference is None
    for _ in range(3):
        model.step()
    assert model.day == model.reference.day == 90
    plain = sim.CooperationModel(sim.load_scenario(tiny_file, {"nsc_law.enabled": True}), rng=2)
    for _ in range(90):
        plain.step()
    for name, values in plain.series.items():
        np.testing.assert_array_equal(model.series[name][:90], values[:90], err_msg=name)
    reference = sim.CooperationModel(sim.load_scenario(tiny_file), rng=2)
    reference.run_for(90)
    np.testing.assert_array_equal(
        model.reference.series["executed"][:90], reference.series["executed"][:90]
    )
    # The last step stops at the horizon.
    model.days_per_step = 400
    model.step()
    assert model.day == model.horizon_days and not model.running


def test_page_pieces_render(tiny_file):
    model = ExplorerModel(tiny_file, days_per_step=20, legal_distance_days=60.0)
    status, table = explorer.summary_html(model)
    assert "Day 0 of 365" in status and table == ""
    model.step()
    status, table = explorer.summary_html(model)
    assert "legal_distance_days 20 → 60" in status
    assert "starting scenario" in table and "Completion rate" in table
    for figure in (explorer.series_figure(model), explorer.network_figure(model)):
        assert explorer._png(figure).startswith(b"\x89PNG")


def test_explore_bad_input_exits_2(tmp_path, capsys):
    assert main(["explore", str(tmp_path / "missing.toml")]) == 2
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        if port < 1024:
            pytest.skip("ephemeral port below 1024")
        assert main(["explore", "baseline", "--port", str(port)]) == 2
    assert "in use" in capsys.readouterr().err


def test_explore_without_the_viz_extra_says_how_to_install_it(monkeypatch, capsys):
    monkeypatch.setattr(explorer, "viz_available", lambda: False)
    assert main(["explore", "baseline"]) == 2
    assert "uv sync --extra viz" in capsys.readouterr().err


# --------------------------------------------------------------------------------------
# The page in a headless browser
# --------------------------------------------------------------------------------------

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return "/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def served():
    """``coopsim explore scenarios/baseline.toml`` on a free port; yields the URL."""
    if not explorer.viz_available():
        pytest.skip("the viz extra is not installed (uv sync --extra viz)")
    port = _free_port()
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sim.cli",
            "explore",
            "scenarios/baseline.toml",
            "--port",
            str(port),
        ],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 90
        while True:
            log.seek(0)
            if b"explorer ready" in log.read():
                break
            if proc.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                pytest.fail(f"explorer did not start:\n{log.read().decode(errors='replace')}")
            time.sleep(0.3)
        yield f"http://127.0.0.1:{port}/"
    finally:
        proc.send_signal(signal.SIGTERM)  # serve() stops its solara server, then exits
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


def test_explorer_page_in_headless_chromium(served, tmp_path):
    chromium = _chromium()
    if chromium is None:
        pytest.skip("no chromium on PATH (.ci/run installs it with apt-get where it can)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    artifacts = ROOT / "results" / "test_artifacts"
    artifacts.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path / "profile"),
            executable_path=chromium,
            args=CHROMIUM_ARGS,
            headless=True,
            viewport={"width": 1600, "height": 1000},
        )
        try:
            page = context.new_page()
            page.set_default_timeout(60_000)
            page.goto(served)
            horizon = ExplorerModel("baseline").horizon_days  # warm-up and window
            page.get_by_text(f"Day 0 of {horizon}").wait_for()
            page.get_by_role("button", name="Step").wait_for()
            images = page.locator("img")
            assert images.count() >= 2  # the series and the network
            before = images.first.get_attribute("src")

            # A lever change, then Reset rebuilds the run with it, then a few steps.
            page.get_by_text("NSC law: on", exact=True).click()
            page.get_by_role("button", name="Reset").click()
            page.get_by_text("Changed from the file").wait_for()
            for _ in range(3):
                page.get_by_role("button", name="Step").click()
                time.sleep(0.5)
            page.get_by_text(f"Day 90 of {horizon}").wait_for()
            page.get_by_text("starting scenario", exact=True).wait_for()
            assert "NSC law (from year 0" in page.inner_text("body")
            assert images.first.get_attribute("src") != before  # the plots moved
            shot = artifacts / "explorer.png"
            page.screenshot(path=str(shot))
        finally:
            context.close()
    assert shot.stat().st_size > 20_000
    print(f"explorer screenshot: {shot}")
