"""coopsim as a library: overrides from other tools, integer-like seeds, flat outcomes."""

import numpy as np
import pytest

import sim
from sim.scenario import ScenarioError

SMALL = {"world.n_states": 10, "run.years": 0.25, "run.warmup_years": 0.0}


def test_run_with_overrides_takes_numpy_values_and_exact_numbers():
    result = sim.run(
        "baseline",
        seed=np.int64(5),
        overrides={
            "world.n_states": np.int64(11),
            "run.years": np.float64(0.2),
            "run.warmup_years": 0.0,
            "nsc_law.enabled": np.True_,
            "rapid_channels.enabled": 1,
            "world.n_language_groups": 3.0,
            "world.initial_trust": np.float32(0.25),
        },
    )
    config = result.model.config
    assert config.world.n_states == 11 and type(config.world.n_states) is int
    assert config.nsc_law.enabled is True and config.rapid_channels.enabled is True
    assert config.world.n_language_groups == 3 and type(config.world.n_language_groups) is int
    assert config.run.years == pytest.approx(0.2)
    assert result.outcomes["states"] == 11
    assert result.outcomes["days"] == 73


def test_years_argument_and_scenario_object():
    base = sim.load_scenario("baseline", {"world.n_states": 10})
    result = sim.run(base, seed=1, years=0.1, overrides={"nsc_law.enabled": 0})
    assert result.outcomes["days"] == 36
    assert result.model.config.nsc_law.enabled is False


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("world.n_states", "12", "valid integer"),
        ("world.n_states", 12.5, "valid integer"),
        ("nsc_law.enabled", 2, "valid boolean"),
        ("nsc_law.enabled", 0.5, "valid boolean"),
        ("world.initial_trust", "0.4", "valid number"),
        ("world.initial_trust", np.float64(1.5), "less than or equal to 1"),
        ("world.n_statez", 3, "unknown key"),
    ],
)
def test_inexact_overrides_are_refused_naming_the_override(key, value, expected):
    for call in (
        lambda: sim.run("baseline", overrides={key: value}),
        lambda: sim.load_scenario("baseline").with_overrides({key: value}),
    ):
        with pytest.raises(ScenarioError) as info:
            call()
        message = str(info.value)
        assert message.startswith(f"override {key} (applied to "), message
        assert expected in message


def test_a_scenario_file_error_still_names_the_file(write_toml):
    path = write_toml("bad.toml", 'extends = "baseline"\n[world]\nn_states = "x"\n')
    with pytest.raises(ScenarioError) as info:
        sim.run(path, overrides={"run.years": 0.1, "run.warmup_years": 0.0})
    assert str(info.value).startswith(f"{path.resolve()}: world.n_states:")


def test_integer_like_seeds_give_the_same_run():
    runs = [
        sim.metrics.to_jsonable(sim.run("baseline", seed=s, overrides=SMALL).outcomes)
        for s in (7, np.int64(7), np.uint32(7), 7.0)
    ]
    assert all(r == runs[0] for r in runs[1:])
    other = sim.metrics.to_jsonable(sim.run("baseline", seed=8, overrides=SMALL).outcomes)
    assert other != runs[0]


@pytest.mark.parametrize("seed", [-1, 1.5, "7", None, True, float("nan")])
def test_bad_seeds_are_refused(seed):
    with pytest.raises(ScenarioError, match="seed: expected a whole number"):
        sim.run("baseline", seed=seed, overrides=SMALL)


def test_flat_outcomes_are_identifiers_with_registered_units():
    result = sim.run("baseline", seed=2, overrides=SMALL)
    flat = result.flat_outcomes
    assert all(name.isidentifier() for name in flat)
    assert flat["median_response_days__mla_evidence"] == pytest.approx(
        result.outcomes["median_response_days"]["mla_evidence"], nan_ok=True
    )
    assert sim.outcomes.unit("median_response_days__mla_evidence") == "days"
    assert not any(isinstance(v, dict) for v in flat.values())


def test_parameters_table_lists_every_parameter_with_ranges():
    table = sim.parameters()
    assert list(table.columns) == [
        "key",
        "section",
        "type",
        "unit",
        "default",
        "min",
        "max",
        "meaning",
    ]
    row = table.loc["world.n_states"]
    assert (row["type"], row["unit"], row["default"], row["min"], row["max"]) == (
        "int",
        "states",
        40,
        1,
        400,
    )
    assert table.loc["nsc_law.enabled", "type"] == "bool"
    numeric = table[table["type"].isin(["int", "float"])]
    assert numeric["min"].notna().all() and numeric["max"].notna().all()
    assert (numeric["min"] <= numeric["max"]).all()
    # Every key is one an override accepts: its default round-trips.
    sample = dict(zip(numeric["key"][:5], numeric["default"][:5], strict=True))
    sim.load_scenario("baseline").with_overrides(sample)


def test_every_deliberate_error_is_a_coopsim_error():
    from sim.analysis import AnalysisError
    from sim.cli_common import CliError
    from sim.explorer import ExplorerError
    from sim.outcomes import UnregisteredOutcomeError
    from sim.plots import PlotError
    from sim.store import StoreError

    for error in (
        sim.ScenarioError,
        AnalysisError,
        CliError,
        ExplorerError,
        UnregisteredOutcomeError,
        PlotError,
        StoreError,
    ):
        assert issubclass(error, sim.CoopsimError), error
    with pytest.raises(sim.CoopsimError):
        sim.outcomes.info("no_such_outcome")
