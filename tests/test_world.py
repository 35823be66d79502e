"""The world's size attributes: who generates demand, who has capacity, who is a hub."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import sim
from sim.scenario import ScenarioError
from sim.world import DATA_DIR, build_world


def world(overrides: dict, seed: int = 1):
    return build_world(sim.load_scenario("baseline", overrides), np.random.default_rng(seed))


def test_population_and_economic_size_are_relative_to_the_median_state():
    w = world({"world.n_states": 41})
    assert np.median(w.population) == pytest.approx(1.0)
    assert np.median(w.economic_size) == pytest.approx(1.0)
    # Capacity is the budget: economic size to the configured power, nothing else.
    np.testing.assert_allclose(w.capacity, w.economic_size**0.5 * np.median(w.capacity))


def test_income_spread_separates_population_from_economic_size():
    same = world({"world.n_states": 30, "world.income_sigma": 0.0})
    np.testing.assert_allclose(same.population, same.economic_size)
    apart = world({"world.n_states": 30, "world.income_sigma": 1.5})
    assert not np.allclose(apart.population, apart.economic_size)


def test_cultural_distance_is_symmetric_zero_on_the_diagonal_and_follows_language():
    w = world({"world.n_states": 40, "world.culture_spread": 0.0})
    d = w.cultural_distance
    np.testing.assert_allclose(d, d.T)
    assert np.all(np.diag(d) == 0.0)
    same_language = w.language[:, None] == w.language[None, :]
    assert np.all(d[same_language] == 0.0)  # no spread: a language group shares a culture


def test_rights_standards_are_higher_in_the_bloc():
    w = world({"world.n_states": 200, "world.mr_bloc_share": 0.3})
    assert w.rights_standard[w.mr_bloc].mean() > w.rights_standard[~w.mr_bloc].mean() + 0.1


def test_real_world_size_follows_population_and_gdp():
    w = world({"world.data_file": "real_world_states.csv"})
    codes = {c: i for i, c in enumerate(w.codes)}
    assert w.population[codes["DEU"]] > 10 * w.population[codes["SVN"]]
    assert w.capacity[codes["USA"]] > w.capacity[codes["CHE"]] > w.capacity[codes["SVN"]]
    # More cases open where more people live (same threat level for the comparison).
    run = sim.run(
        sim.load_scenario(
            "real_world",
            {"run.years": 0.5, "run.warmup_years": 0.0, "cases.threat_level_sigma": 0.0},
        ),
        seed=1,
    )
    issued = run.model.ledger_frame().groupby("requesting_state").size()
    assert issued["DEU"] > issued["SVN"]
    assert issued["FRA"] > issued["CHE"]


def test_a_data_file_without_population_is_refused_with_the_column_named(tmp_path):
    df = pd.read_csv(DATA_DIR / "real_world_states.csv", comment="#", skipinitialspace=True)
    df.drop(columns=["population_m"]).to_csv(tmp_path / "states.csv", index=False)
    scenario_file = tmp_path / "mine.toml"
    scenario_file.write_text('extends = "real_world"\n[world]\ndata_file = "states.csv"\n')
    with pytest.raises(ScenarioError, match="population_m"):
        build_world(sim.load_scenario(scenario_file), np.random.default_rng(1))
    df.assign(gdp_usd_bn=-1.0).to_csv(tmp_path / "states.csv", index=False)
    with pytest.raises(ScenarioError, match="gdp_usd_bn"):
        build_world(sim.load_scenario(scenario_file), np.random.default_rng(1))


def test_a_pairs_initial_relations_are_the_mean_of_two_draws_of_relations_sigma():
    # Without blocs or legal distance, relations are the mean plus the average of the
    # pair's two draws: symmetric, with spread relations_sigma / sqrt(2).
    w = world(
        {
            "world.n_states": 195,
            "world.initial_relations": 0.5,
            "world.relations_sigma": 0.1,
            "world.relations_bloc_bonus": 0.0,
            "world.relations_legal_distance_penalty": 0.0,
        }
    )
    np.testing.assert_array_equal(w.relations, w.relations.T)
    pairs = w.relations[np.triu_indices(195, k=1)]  # 18,915 pairs
    assert pairs.mean() == pytest.approx(0.5, abs=0.002)
    assert pairs.std() == pytest.approx(0.1 / np.sqrt(2), rel=0.02)


def test_the_membership_weights_pull_the_states_the_design_says_into_each_bloc():
    def pooled(weight: float) -> dict[str, np.ndarray]:
        # Three worlds of 195 states, pooled: the weights' pull, not one draw's.
        names = ("mr_bloc_sovereignty", "alliance_capacity", "convention_bloc", "platform_bloc")
        weights = {f"world.{name}_weight": weight for name in names}
        settings = {"world.n_states": 195, "world.platform_share": 0.3, **weights}
        worlds = [world(settings, seed) for seed in (1, 2, 3)]
        fields = ("sovereignty", "capacity", "mr_bloc", "alliance", "convention", "platform")
        return {f: np.concatenate([getattr(w, f) for w in worlds]) for f in fields}

    loose, strict = pooled(0.0), pooled(10.0)
    # Sovereignty sensitivity keeps states out of the bloc; capacity draws them into the
    # alliance; bloc members join the convention and the platform first.
    bloc0, bloc1 = loose["mr_bloc"], strict["mr_bloc"]
    assert strict["sovereignty"][bloc1].mean() < loose["sovereignty"][bloc0].mean() - 0.05
    assert np.median(strict["capacity"][strict["alliance"]]) > np.median(
        loose["capacity"][loose["alliance"]]
    )
    assert strict["convention"][bloc1].mean() == 1.0 > loose["convention"][bloc0].mean()
    assert strict["platform"][bloc1].mean() > loose["platform"][bloc0].mean()
