"""Shared fixtures: tiny scenarios and runs that keep each test well under a second or two."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

import sim
from sim.requests import Outcome, RefusalGround, Stage

# No warm-up: invariants and mechanisms hold from day 0 (the window is the whole run).
TINY = {"world.n_states": 12, "run.years": 1.0, "run.warmup_years": 0.0}
BASELINE_FILE = Path(__file__).resolve().parent.parent / "scenarios" / "baseline.toml"


def tiny_scenario(**overrides):
    """The shipped baseline shrunk to 12 states and one year without warm-up, plus overrides.

    Keyword names use ``__`` for the dot: ``tiny_scenario(world__nsc_share=1.0)``.
    """
    values = dict(TINY)
    values.update({key.replace("__", "."): value for key, value in overrides.items()})
    return sim.load_scenario("baseline", values)


def tiny_run(seed: int = 1, **overrides):
    """Run :func:`tiny_scenario` with one seed."""
    return sim.run(tiny_scenario(**overrides), seed=seed)


@pytest.fixture(scope="session")
def tiny_result():
    """One full tiny run (baseline, 12 states, 1 year, seed 3), shared by invariant tests."""
    return tiny_run(seed=3)


@pytest.fixture
def write_toml(tmp_path):
    """Write a TOML file under tmp_path and return its path: ``write_toml("a.toml", text)``."""

    def write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    return write


def ledger_columns(model) -> dict:
    """Every filled ledger column of a run, by name."""
    return {name: model.ledger.col(name) for name in model.ledger._cols}


def assert_one_outcome_per_request(c: dict) -> None:
    """Each request has exactly one outcome, and a closed one is closed everywhere."""
    assert set(np.unique(c["outcome"])) <= {int(o) for o in Outcome}
    closed = c["outcome"] != Outcome.OPEN
    np.testing.assert_array_equal(closed, c["t_closed"] >= 0)
    np.testing.assert_array_equal(closed, c["stage"] == Stage.CLOSED)
    # A refusal ground exactly on refused requests.
    np.testing.assert_array_equal(
        c["refusal_ground"] != RefusalGround.NONE, c["outcome"] == Outcome.REFUSED
    )
    # Closed requests have left every queue.
    assert np.all(c["queue_agency"][closed] == -1)


_OK_IN_SHARD: dict[tuple, int] = {}


def ok_runs_stored(out: Path) -> int:
    """Successful run records in the readable shards of a results folder.

    Tests poll this while a sweep runs in another process, so each shard version
    (path, size, mtime) is read once: rereading every shard at each poll would take
    a core away from the sweep being watched. A shard being renamed may vanish.
    """
    n = 0
    for shard in (out / "runs").glob("shard-*.parquet") if (out / "runs").is_dir() else []:
        try:
            stat = shard.stat()
            key = (str(shard), stat.st_size, stat.st_mtime_ns)
            if key not in _OK_IN_SHARD:
                table = pq.read_table(shard, columns=["status"]).to_pandas()
                _OK_IN_SHARD[key] = int((table["status"] == "ok").sum())
        except (OSError, ValueError):
            continue
        n += _OK_IN_SHARD[key]
    return n


# The quick subset, `pytest -m "not slow"`, leaves out every test that runs the model for
# years, starts processes or a browser, or executes notebooks: one second or more on an
# idle two-core machine (measured with `pytest --durations=0`). Whole modules first, then
# single tests as "module::test" (every parametrisation of the test).
SLOW_MODULES = {
    "test_fuzz_inputs",
    "test_interrupts",
    "test_notebooks",
    "test_steady_state",
    "test_worker_failure",
}
SLOW_TESTS = {
    "test_compiling::test_the_sort_compiled_ahead_is_the_one_queue_service_calls",
    "test_calibration::test_baseline_shows_the_pattern",
    "test_calibration::test_calibrated_baseline_meets_the_fact",
    "test_calibration::test_measure_returns_every_quantity_from_a_short_run",
    "test_calibration::test_p1_a_capacity_cut_raises_response_times_for_the_same_cases",
    "test_calibration::test_p3_channels_secure_platform_is_far_faster_than_diplomatic",
    "test_cli_core::test_real_subprocess_matches_in_process",
    "test_cli_core::test_run_out_writes_the_same_outcomes",
    "test_cli_core::test_run_twice_gives_byte_identical_output",
    "test_experiment::test_a_scenario_compared_with_itself_differs_by_exactly_zero",
    "test_experiment::test_sobol_recovers_the_ishigami_indices",
    "test_experiment::test_t_intervals_cover_a_known_difference_at_the_nominal_rate",
    "test_experiment_cli::test_compare_prints_a_table_and_writes_csv_and_png",
    "test_experiment_cli::test_sweep_keeps_only_the_per_agency_series_when_asked",
    "test_experiment_cli::test_sweep_killed_midway_resumes_to_exactly_the_planned_runs",
    "test_experiment_cli::test_sweep_refuses_to_resume_into_another_experiment",
    "test_experiment_executors::test_dask_local_cluster_matches_serial",
    "test_experiment_executors::test_process_pool_matches_serial",
    "test_experiment_executors::test_real_dask_scheduler_and_worker_processes_match_serial",
    "test_experiment_executors::test_serial_run_is_complete",
    "test_explorer::test_explore_bad_input_exits_2",
    "test_explorer::test_explorer_page_in_headless_chromium",
    "test_explorer::test_explorer_steps_match_a_plain_run_and_keep_a_reference",
    "test_history_matching::test_compare_with_parameter_uncertainty_prints_the_split_and_resumes",
    "test_kernel_day::test_a_call_stopped_for_room_and_resumed_gives_the_same_run",
    "test_lever_registry::test_a_scenario_with_a_registered_lever_reaches_a_spawned_worker",
    "test_mechanisms::test_a_team_holds_its_members_capacity_until_its_case_ends",
    "test_mechanisms::test_baseline_has_every_mechanism_at_work",
    "test_mechanisms::test_capacity_building_speeds_up_recipients_after_the_lag",
    "test_mechanisms::test_cases_with_a_joint_team_resolve_faster_than_the_same_cases_by_formal_requests",
    "test_mechanisms::test_more_coordination_meetings_raise_relations_and_cut_misunderstandings",
    "test_mechanisms::test_no_item_is_shared_twice_with_the_same_partner_and_notices_never_exceed_fugitives",
    "test_mechanisms::test_non_members_of_interpol_issue_no_notices",
    "test_mechanisms::test_secure_platform_means_fewer_leaks_and_faster_intelligence",
    "test_mechanisms::test_urgent_requests_use_24_7_contact_points_and_travel_fast",
    "test_model_core::test_different_seed_gives_different_outcomes",
    "test_model_core::test_instrument_worlds_mutual_recognition_faster_than_treaty_faster_than_comity",
    "test_model_core::test_instruments_within_a_run_keep_the_same_order",
    "test_model_core::test_legal_distance_brings_more_clarification_rounds",
    "test_model_core::test_legal_distance_lengthens_drafting",
    "test_model_core::test_more_central_authority_capacity_shortens_median_response",
    "test_model_core::test_national_security_courts_shorten_the_judicial_stage_of_security_cases",
    "test_model_core::test_p1_loaded_authorities_take_longer_within_a_run",
    "test_model_core::test_p1_response_time_grows_with_load_relative_to_capacity",
    "test_model_core::test_sovereignty_sensitivity_brings_sovereignty_refusals",
    "test_plots::test_cli_plot_of_a_compare_writes_png_and_svg",
    "test_plots::test_cli_plot_of_a_run_folder",
    "test_plots::test_forest_of_an_experiment",
    "test_reforms::test_a_lever_starting_in_year_3_leaves_years_1_and_2_as_baseline",
    "test_reforms::test_each_lever_moves_its_target_outcome_the_designed_way",
    "test_reforms::test_every_shipped_scenario_validates_runs_half_a_year_and_says_what_it_is",
    "test_reforms::test_mutual_recognition_cuts_extradition_time_by_far_more_than_half",
    "test_store::test_agency_series_has_a_row_per_run_day_and_agency_equal_to_a_direct_run",
    "test_store::test_interrupted_agency_series_resume_to_the_same_consolidated_file",
    "test_tables::test_the_summary_counts_open_requests_as_the_json_does",
    "test_warmup::test_replications_in_processes_equal_serial",
    "test_world::test_real_world_size_follows_population_and_gdp",
}


def pytest_sessionstart(session):
    """Compile the model's kernels once, before the xdist workers start.

    numba caches compiled kernels next to their modules (:mod:`sim.kernel_state`);
    on a fresh clone every worker would otherwise compile them at the same time. The
    kernels only some scenarios call (e-evidence's) too: several test modules run it.
    """
    if hasattr(session.config, "workerinput"):
        return  # a worker: the controller has warmed the cache
    from sim.compiling import cold_optional_parts, compile_kernels, compile_optional

    compile_kernels()
    compile_optional(cold_optional_parts())


# Modules whose tests take 10-25 s each (processes, a browser, notebooks, long runs) run
# first: with two xdist workers the suite then ends on short tests, and the worker that
# finishes early steals short tests instead of idling while a long one runs alone.
START_FIRST = (
    "test_notebooks",
    "test_cli_signals",
    "test_steady_state",
    "test_worker_failure",
    "test_interrupts",
    "test_experiment_executors",
    "test_explorer",
    "test_experiment_cli",
)


def pytest_collection_modifyitems(config, items):
    """Mark the tests of SLOW_MODULES and SLOW_TESTS as slow; long modules first."""
    seen = set()
    for item in items:
        module = item.module.__name__.rsplit(".", 1)[-1]
        name = f"{module}::{item.originalname}"
        if module in SLOW_MODULES or name in SLOW_TESTS:
            item.add_marker(pytest.mark.slow)
            seen.add(name)
    # A renamed or deleted test must leave this list too, or the list rots.
    collected_modules = {item.module.__name__.rsplit(".", 1)[-1] for item in items}
    stale = {n for n in SLOW_TESTS if n.split("::")[0] in collected_modules} - seen
    if stale and not config.getoption("keyword") and not config.getoption("markexpr"):
        raise pytest.UsageError(f"tests/conftest.py SLOW_TESTS names no collected test: {stale}")
    position = {module: i for i, module in enumerate(START_FIRST)}
    items.sort(key=lambda item: position.get(item.module.__name__.rsplit(".", 1)[-1], 99))
