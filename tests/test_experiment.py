"""Experiment layer: files, common random numbers, confidence intervals, sensitivity."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from scipy import stats

import sim
from sim.analysis import analyze, compare_policies, paired_difference, sensitivity
from sim.cli import main
from sim.errors import CoopsimError
from sim.experiment import (
    experiment_from_dict,
    is_robustness_file,
    load_experiment,
    read_experiment_file,
    replication_seeds,
    run_experiment,
    shipped_experiments_dir,
)
from sim.scenario import ScenarioError

SMALL = {"world.n_states": 12, "run.years": 0.5, "run.warmup_years": 0.0}


@pytest.fixture
def scenarios(tmp_path):
    """Small scenarios extending the baseline: a reference, a copy and a reform."""
    small = tmp_path / "small.toml"
    small.write_text('extends = "baseline"\nname = "small"\n')
    copy = tmp_path / "small_copy.toml"
    copy.write_text('extends = "baseline"\nname = "small_copy"\n')
    reform = tmp_path / "reform.toml"
    reform.write_text(
        'extends = "baseline"\nname = "reform"\n[agencies]\ncentral_authority_capacity = 8.0\n'
    )
    return {"small": str(small), "copy": str(copy), "reform": str(reform)}


def compare_dict(scenarios, names, reps=3):
    return {
        "name": "t",
        "replications": reps,
        "base_seed": 5,
        "levers": {"scenarios": [scenarios[n] for n in names]},
        "overrides": SMALL,
        "outcomes": ["completion_rate", "case_resolution_rate", "median_response_days.*"],
    }


# ----------------------------------------------------------------------------- files
def test_shipped_experiment_files_parse():
    files = sorted(shipped_experiments_dir().glob("*.toml"))
    names = {f.stem for f in files}
    assert {"compare_packages", "sweep_capacity", "sobol_baseline", "morris_baseline"} <= names
    for f in files:
        if is_robustness_file(read_experiment_file(f)):
            continue  # coopsim robust's file: tests/test_robust.py
        exp = load_experiment(f)
        assert len(exp.run_specs()) == len(exp.plan_frame())


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('name = "x"\nreplicatons = 3\n', "replicatons: unknown key"),
        ('name = "x"\nreplications = 0\n', "replications"),
        ('name = "x"\ndesign = "fancy"\n', "design"),
        ('name = "x"\n[uncertainties]\n"agencies.nope" = [1, 2]\n', "uncertainties.agencies.nope"),
        (
            'name = "x"\n[uncertainties]\n"agencies.central_authority_capacity" = [5, 1]\n',
            "low < high",
        ),
        (
            'name = "x"\n[uncertainties]\n"world.initial_trust" = [0.5, 2.0]\n',
            "leaves the allowed range",
        ),
        (
            'name = "x"\n[uncertainties]\n'
            '"world.legal_family_distance.common-civil" = [0.2, 1.5]\n',
            "leaves the allowed range",
        ),
        (
            'name = "x"\n[uncertainties]\n'
            '"world.legal_family_distance.civil-common" = [0.2, 0.5]\n',
            "uncertainties.world.legal_family_distance.civil-common: unknown parameter",
        ),
        (
            'name = "x"\ndesign = "sobol"\nsample_size = 10\n[uncertainties]\n'
            '"world.initial_trust" = [0.2, 0.4]\n',
            "power of 2",
        ),
        (
            'name = "x"\n[levers]\nscenarios = ["baseline", "no_such_reform"]\n',
            "levers.scenarios[1]",
        ),
        (
            'name = "x"\n[levers]\n"agencies.queue_discipline" = ["fifo", "random"]\n',
            "levers.agencies.queue_discipline",
        ),
        ('name = "x"\nreference = "other"\n', "reference"),
        (
            'name = "x"\n[uncertainties]\n"world.initial_trust" = [0.2, 0.4]\n'
            '[levers]\n"world.initial_trust" = [0.3]\n',
            "also an uncertainty",
        ),
        (
            'name = "x"\n[uncertainties]\n"world.initial_trust" = [0.2, 0.4]\n'
            '[overrides]\n"world.initial_trust" = 0.3\n',
            "overrides.world.initial_trust: also an uncertainty",
        ),
        ('name = "x"\nbroken = [\n', "not valid TOML"),
        ('name = "x"\nseries = ["model", "queues"]\n', "series: expected true, false, or a list"),
        ('name = "x"\nseries = 3\n', "series: expected true, false, or a list"),
        ('name = "x"\nseries = "all"\n', "'all' is not one of them"),
    ],
)
def test_bad_experiment_files_are_rejected_by_name_and_key(tmp_path, capsys, content, expected):
    path = tmp_path / "bad.toml"
    path.write_text(content)
    with pytest.raises(ScenarioError, match=str(path)) as info:
        load_experiment(path)
    assert expected in str(info.value)
    out = tmp_path / "out"
    assert main(["sweep", str(path), "--out", str(out), "--workers", "1"]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and expected in err
    assert not out.exists()


def test_an_integer_uncertainty_is_planned_as_the_runs_apply_it():
    # The model rounds an integer parameter; the plan (and so the outcomes table and
    # its figures) shows the value that ran, not the sampled one.
    exp = experiment_from_dict(
        {
            "name": "ints",
            "design": "lhs",
            "sample_size": 8,
            "uncertainties": {"world.n_states": [5, 20], "world.initial_trust": [0.3, 0.7]},
        }
    )
    plan = exp.plan_frame()
    states = plan["world.n_states"].to_numpy()
    assert np.array_equal(states, np.round(states)) and np.unique(states).size > 3
    trust = plan["world.initial_trust"].to_numpy()
    assert not np.array_equal(trust, np.round(trust))  # floats stay as sampled


@pytest.mark.parametrize("value", ["2", True])
def test_a_count_given_as_text_or_a_switch_is_refused(value):
    with pytest.raises(ScenarioError, match="replications: expected a whole number"):
        experiment_from_dict({"name": "x", "replications": value})


@pytest.mark.parametrize("data", [None, [1, 2], "name = 'x'"])
def test_an_experiment_that_is_not_a_table_is_refused(data):
    with pytest.raises(ScenarioError, match="an experiment is a table of keys"):
        experiment_from_dict(data)


def test_nested_tables_equal_dotted_keys(scenarios):
    flat = experiment_from_dict({"name": "a", "uncertainties": {"world.initial_trust": [0.2, 0.4]}})
    nested = experiment_from_dict(
        {"name": "a", "uncertainties": {"world": {"initial_trust": [0.2, 0.4]}}}
    )
    assert flat.plan_hash() == nested.plan_hash()


@pytest.mark.parametrize(
    ("value", "kinds"),
    [
        (True, ("model",)),
        (["model"], ("model",)),
        (False, ()),
        ([], ()),
        ("agencies", ("agencies",)),
        (["agencies"], ("agencies",)),
        (["agencies", "model", "agencies"], ("model", "agencies")),
    ],
)
def test_series_spellings_and_their_plans(value, kinds):
    exp = experiment_from_dict({"name": "s", "series": value})
    assert exp.spec.series_kinds == kinds
    assert exp.target.keep_series == ("model" in kinds)
    assert exp.target.keep_agency_series == ("agencies" in kinds)
    # series = true / false keep their meaning and their plan (older results resume).
    legacy = experiment_from_dict({"name": "s", "series": kinds == ("model",)})
    assert (exp.plan_hash() == legacy.plan_hash()) == (kinds in ((), ("model",)))


def test_designs_have_the_expected_size():
    base = {"name": "d", "uncertainties": {"x": [0, 1], "z": [2, 3]}, "replications": 2}
    sizes = {"grid": 9, "lhs": 7, "sobol": 8 * 4, "morris": 5 * 3}
    for design, n in sizes.items():
        size = 8 if design == "sobol" else (5 if design == "morris" else 7)
        exp = experiment_from_dict(
            {**base, "design": design, "sample_size": size}, target=lambda p, s: 0.0
        )
        assert exp.design.shape == (n, 2)
        assert (exp.design[:, 0] >= 0).all() and (exp.design[:, 0] <= 1).all()
        assert len(exp.run_specs()) == 2 * n


# ----------------------------------------------------------------------------- CRN
def test_replication_seeds_are_deterministic_and_prefix_stable():
    assert replication_seeds(3, 5) == replication_seeds(3, 5)
    assert replication_seeds(3, 8)[:5] == replication_seeds(3, 5)
    assert len(set(replication_seeds(3, 100))) == 100
    assert replication_seeds(3, 5) != replication_seeds(4, 5)


def test_every_scenario_gets_the_same_seeds(scenarios):
    exp = experiment_from_dict(compare_dict(scenarios, ["small", "reform"], reps=4))
    plan = exp.plan_frame()
    by_policy = plan.pivot(index="replication", columns="policy", values="seed")
    assert (by_policy["small"] == by_policy["reform"]).all()
    assert by_policy["small"].nunique() == 4


def test_a_scenario_compared_with_itself_differs_by_exactly_zero(scenarios, tmp_path):
    exp = experiment_from_dict(compare_dict(scenarios, ["small", "copy", "reform"]))
    results = run_experiment(exp, tmp_path / "res", progress=False)
    table = analyze(results)["comparison"]
    same = table[table["policy"] == "small_copy"]
    assert len(same) >= 3
    assert (same["difference"] == 0).all()
    assert (same["ci_low"] == 0).all() and (same["ci_high"] == 0).all()
    assert (same["effect_size"] == 0).all()
    reform = table[(table["policy"] == "reform") & (table["outcome"] == "completion_rate")]
    assert reform["n"].iloc[0] == 3 and reform["difference"].iloc[0] != 0


# ----------------------------------------------------------------------------- intervals
def noisy_outcome(params, seed):
    """y = effect + noise shared by seed (CRN) + noise of the policy alone."""
    common = np.random.default_rng(seed).normal(0.0, 1.0)
    own = np.random.default_rng([seed, int(1000 * params["effect"])]).normal(0.0, 0.5)
    return {"y": 10.0 + params["effect"] + common + own}


def _coverage_bounds(n, level=0.95, alpha=0.001):
    return stats.binom.ppf(alpha / 2, n, level), stats.binom.isf(alpha / 2, n, level)


def test_t_intervals_cover_a_known_difference_at_the_nominal_rate(tmp_path):
    groups, size, truth = 200, 10, 0.3
    exp = experiment_from_dict(
        {
            "name": "cov",
            "replications": groups * size,
            "base_seed": 1,
            "levers": {"effect": [0.0, truth]},
        },
        target=noisy_outcome,
    )
    results = run_experiment(exp, tmp_path / "cov", progress=False)
    df = results.outcomes
    assert len(df) == 2 * groups * size
    covered = 0
    for g in range(groups):
        part = df[df["replication"] // size == g]
        row = compare_policies(part, "effect=0.0", ["y"]).iloc[0]
        assert row["n"] == size
        covered += row["ci_low"] <= truth <= row["ci_high"]
    lo, hi = _coverage_bounds(groups)
    assert lo <= covered <= hi, covered


def test_bootstrap_intervals_cover_a_known_difference():
    rng = np.random.default_rng(2)
    groups, size, truth = 200, 30, 0.3
    covered = 0
    for g in range(groups):
        a = rng.normal(0, 1, size)
        b = a + truth + rng.normal(0, 0.5, size)
        row = paired_difference(a, b, method="bootstrap", seed=g)
        covered += row["ci_low"] <= truth <= row["ci_high"]
    assert 0.88 * groups <= covered <= groups


def test_paired_difference_handles_nan_and_tiny_samples():
    row = paired_difference(np.array([1.0, np.nan, 3.0]), np.array([2.0, 5.0, np.nan]))
    assert row["n"] == 1 and row["difference"] == 1.0 and math.isnan(row["ci_low"])
    assert paired_difference(np.array([]), np.array([]))["n"] == 0


# ----------------------------------------------------------------------------- sensitivity
def ishigami(params, seed):
    x1, x2, x3 = params["x1"], params["x2"], params["x3"]
    return {"y": math.sin(x1) + 7 * math.sin(x2) ** 2 + 0.1 * x3**4 * math.sin(x1)}


ISHIGAMI = {f"x{i}": [-math.pi, math.pi] for i in (1, 2, 3)}


def _sobol_of(target, sample_size, out):
    """A one-replication Sobol study of the Ishigami inputs, run into ``out``."""
    spec = {"name": "ishigami", "design": "sobol", "sample_size": sample_size}
    exp = experiment_from_dict(
        {**spec, "replications": 1, "uncertainties": ISHIGAMI}, target=target
    )
    return run_experiment(exp, out, progress=False)


def test_sobol_recovers_the_ishigami_indices(tmp_path):
    results = _sobol_of(ishigami, 4096, tmp_path / "ish")
    assert len(results.outcomes) == 4096 * 5
    table = analyze(results)["sensitivity"].set_index("parameter")
    s1 = table["S1"].to_numpy()
    st = table["ST"].to_numpy()
    np.testing.assert_allclose(s1, [0.314, 0.442, 0.0], atol=0.04)
    np.testing.assert_allclose(st, [0.558, 0.442, 0.244], atol=0.04)
    assert (table["S1_conf"] > 0).all() and (table["ST_conf"] > 0).all()


def ishigami_and_a_constant(params, seed):
    return {**ishigami(params, seed), "c": 1.0}


def test_an_outcome_the_same_everywhere_gets_a_note_not_indices(tmp_path):
    results = _sobol_of(ishigami_and_a_constant, 64, tmp_path / "c")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy's 0/0 no longer leaks out
        table = analyze(results)["sensitivity"]
    constant = table[table["outcome"] == "c"]
    assert (constant["note"] == "the outcome is the same at every point").all()
    assert len(constant) == 3 and table[table["outcome"] == "y"]["S1"].notna().all()


def test_morris_ranks_the_ishigami_inputs(tmp_path):
    exp = experiment_from_dict(
        {
            "name": "m",
            "design": "morris",
            "sample_size": 40,
            "replications": 1,
            "uncertainties": ISHIGAMI,
        },
        target=ishigami,
    )
    results = run_experiment(exp, tmp_path / "m", progress=False)
    table = sensitivity(results.outcomes, results.plan, results.manifest, ["y"])
    # The same analysis done by hand with SALib on the same design gives the same indices.
    from SALib.analyze import morris

    y = np.array([ishigami(dict(zip(ISHIGAMI, row, strict=True)), 0)["y"] for row in exp.design])
    problem = {"num_vars": 3, "names": list(ISHIGAMI), "bounds": list(ISHIGAMI.values())}
    direct = morris.analyze(problem, exp.design, y, num_levels=4, num_resamples=200, seed=1)
    np.testing.assert_allclose(table["mu_star"], direct["mu_star"])
    np.testing.assert_allclose(table["sigma"], direct["sigma"])
    assert (table["mu_star"] > 0).all()


def test_unknown_outcome_is_a_clear_error(tmp_path):
    exp = experiment_from_dict(
        {"name": "u", "outcomes": ["nope"], "levers": {"a": [1, 2]}}, target=lambda p, s: 1.0
    )
    results = run_experiment(exp, tmp_path / "u", progress=False)
    with pytest.raises(CoopsimError, match="'nope' matches no outcome"):
        analyze(results)


def test_one_value_of_a_table_can_be_uncertain(tmp_path):
    # A legal distance or a type's mean sensitivity is sampled alone, through its dotted
    # name, within the table's range; the run's scenario carries the drawn value.
    path = tmp_path / "table.toml"
    path.write_text(
        'name = "t"\nreplications = 1\ndesign = "lhs"\nsample_size = 3\n[uncertainties]\n'
        '"world.legal_family_distance.common-civil" = [0.1, 0.2]\n'
        '"cases.political_sensitivity_by_type.espionage" = [0.3, 0.4]\n'
    )
    exp = load_experiment(path)
    specs = exp.run_specs()
    assert len(specs) == 3
    for spec in specs:
        scenario = sim.load_scenario("baseline").with_overrides(spec.params)
        distance = scenario.world.legal_family_distance["common-civil"]
        assert (
            0.1 <= distance <= 0.2
            and distance == spec.params["world.legal_family_distance.common-civil"]
        )
        assert 0.3 <= scenario.cases.political_sensitivity_by_type["espionage"] <= 0.4
