"""The lever registry: a lever is its section, its effect and a scenario that enables it.

A lever registered by a fixture is validated like a built-in one (same TOML layout,
unknown keys and out-of-range values refused with the file and key), is scheduled
and applied from its start day, and leaves no trace once the fixture ends.
"""

from __future__ import annotations

import pickle
import sys
from pathlib import Path

import numpy as np
import pytest

import sim
import sim.scenario
from sim import levers
from sim.docs import parameter_tables_markdown
from sim.levers import EFFECTS, register_lever, temporary_lever, unregister_lever
from sim.scenario import (
    ADOPTABLE_LEVERS,
    LEVERS,
    STRESS_TESTS,
    BuiltinScenario,
    Scenario,
    ScenarioError,
    load_scenario,
    parameter_table,
)
from sim.schema_base import AdoptableLeverSection, LeverSection, P

START_YEAR = 0.2
START_DAY = round(START_YEAR * 365)  # no warm-up: the window starts on day 0
SEED = 4
SMALL = 'extends = "baseline"\n[world]\nn_states = 15\n[run]\nyears = 0.5\nwarmup_years = 0.0\n'
LEVER_TABLE = f'[test_lever]\nenabled = true\nstart_year = {START_YEAR}\napplies_to = "all"\n'

BUILTIN_LEVERS = (
    "nsc_law",
    "legal_harmonization",
    "treaty_expansion",
    "mutual_recognition",
    "secure_platform",
    "rapid_channels",
    "joint_task_forces",
    "capacity_building",
    "diplomatic_engagement",
    "confidentiality_standards",
    "bilateral_agreements",
    "e_evidence",
    "coordinated_operation",
    "counterterrorism_agreement",
)
BUILTIN_STRESS_TESTS = ("geopolitical_tension", "demand_surge", "budget_cuts")


class ClaritySection(LeverSection):
    """Lever (tests only): clear procedures in the target states."""

    clarity: float = P(
        0.9, 0.0, 1.0, "share", "Share of clarification rounds that clear procedures avoid."
    )


class AdoptableClaritySection(AdoptableLeverSection):
    """Lever (tests only): clear procedures, adopted by choice."""

    clarity: float = P(0.9, 0.0, 1.0, "share", "Share of clarification rounds avoided.")


def apply_clarity(model, targets, p):
    """Clarification rounds of requests involving the targets fall (as under nsc_law)."""
    policy = model.policy
    policy.procedure_clarity[targets] = np.maximum(policy.procedure_clarity[targets], p.clarity)


@pytest.fixture
def test_lever():
    """Register ``test_lever`` for one test; yields the (day, targets) of each application."""
    applied = []

    def effect(model, targets, p):
        applied.append((model.day, targets.tolist()))
        apply_clarity(model, targets, p)

    with temporary_lever("test_lever", ClaritySection, effect):
        yield applied


def test_the_builtin_levers_keep_their_order():
    assert LEVERS == BUILTIN_LEVERS
    assert STRESS_TESTS == BUILTIN_STRESS_TESTS
    assert ADOPTABLE_LEVERS == (
        "nsc_law",
        "treaty_expansion",
        "mutual_recognition",
        "secure_platform",
        "joint_task_forces",
    )
    assert tuple(EFFECTS) == BUILTIN_LEVERS + BUILTIN_STRESS_TESTS
    assert Scenario is BuiltinScenario


def test_a_registered_lever_is_validated_and_scheduled_like_a_builtin(test_lever):
    assert levers.LEVERS == (*BUILTIN_LEVERS, "test_lever")  # reforms, then stress tests
    assert sim.scenario.STRESS_TESTS == BUILTIN_STRESS_TESTS
    assert "test_lever" in EFFECTS and "test_lever" not in levers.ADOPTABLE_LEVERS
    scenario = load_scenario("baseline", {"test_lever.enabled": True, "test_lever.clarity": 0.5})
    assert scenario.test_lever.enabled and scenario.test_lever.clarity == 0.5
    assert isinstance(scenario, Scenario)  # the class imported before the lever existed
    assert sim.Scenario is sim.scenario.Scenario is type(scenario)
    assert pickle.loads(pickle.dumps(scenario)) == scenario  # as sent to worker processes
    # A scenario made before comes back as one of today's class, its content unchanged.
    restored = pickle.loads(pickle.dumps(Scenario()))
    assert restored.model_dump(exclude={"test_lever"}) == Scenario().model_dump()
    assert not restored.test_lever.enabled
    again = scenario.with_overrides({"test_lever.clarity": 1})  # an exact int, as ever
    assert again.test_lever.clarity == 1.0
    rows = [r for r in parameter_table() if r["section"] == "test_lever"]
    assert [r["key"] for r in rows] == ["enabled", "start_year", "applies_to", "clarity"]
    assert "#### `[test_lever]`: Lever (tests only): clear procedures" in (
        parameter_tables_markdown()
    )


def test_a_lever_from_a_fixture_applies_from_its_start_day(test_lever, write_toml):
    path = write_toml("with_lever.toml", SMALL + LEVER_TABLE)
    without = sim.run(load_scenario(write_toml("without.toml", SMALL)), seed=SEED)
    with_lever = sim.run(load_scenario(path), seed=SEED)

    (reform,) = with_lever.model.reforms
    assert reform.name == "test_lever" and reform.applied_day == START_DAY
    assert test_lever == [(START_DAY, list(range(15)))]
    assert (with_lever.model.policy.procedure_clarity == 0.9).all()
    assert (without.model.policy.procedure_clarity == 0.0).all()
    # Identical until the start day, different afterwards.
    before, after = without.series.iloc[:START_DAY], with_lever.series.iloc[:START_DAY]
    assert before.equals(after)
    key = "clarification_rounds_per_request"
    assert with_lever.outcomes[key] < without.outcomes[key]


def test_an_unknown_or_out_of_range_key_of_the_lever_names_file_and_key(test_lever, write_toml):
    path = write_toml("typo.toml", SMALL + LEVER_TABLE + "clarty = 0.5\n")
    with pytest.raises(ScenarioError, match=r"typo\.toml: test_lever\.clarty: unknown key") as exc:
        load_scenario(path)
    assert "clarity" in str(exc.value)  # the allowed keys are listed
    path = write_toml("range.toml", SMALL + LEVER_TABLE + "clarity = 1.5\n")
    with pytest.raises(ScenarioError, match=r"range\.toml: test_lever\.clarity: .*range \[0"):
        load_scenario(path)


def test_the_lever_is_gone_when_its_registration_ends(write_toml):
    path = write_toml("lever.toml", SMALL + LEVER_TABLE)
    with temporary_lever("test_lever", ClaritySection, apply_clarity):
        assert load_scenario(path).test_lever.enabled
    with pytest.raises(ScenarioError, match=r"lever\.toml: test_lever: unknown key"):
        load_scenario(path)
    assert "test_lever" not in EFFECTS and "test_lever" not in levers.LEVERS
    assert sim.scenario.Scenario is BuiltinScenario
    assert "test_lever" not in {r["section"] for r in parameter_table()}
    # The model takes a scenario of the built-in class again, whichever class was
    # current when its module was imported.
    model = sim.CooperationModel(load_scenario(write_toml("plain.toml", SMALL)), rng=1)
    assert model.reforms == []


def test_adoptability_follows_from_the_section():
    from sim.experiment_spec import model_outcome_names

    assert "adoption_share.test_adoptable" not in model_outcome_names()
    with temporary_lever("test_adoptable", AdoptableClaritySection, apply_clarity):
        assert levers.ADOPTABLE_LEVERS[-1] == "test_adoptable"
        scenario = load_scenario("baseline", {"test_adoptable.adoption": "endogenous"})
        assert scenario.test_adoptable.adoption == "endogenous"
        # Experiment files may name its adoption outcomes (the outcome list follows).
        assert "adoption_share.test_adoptable" in model_outcome_names()
    assert "adoption_share.test_adoptable" not in model_outcome_names()
    with temporary_lever("test_stress", ClaritySection, apply_clarity, stress_test=True):
        assert levers.STRESS_TESTS == (*BUILTIN_STRESS_TESTS, "test_stress")
        assert tuple(EFFECTS)[-1] == "test_stress"


@pytest.mark.parametrize(
    ("name", "section", "error"),
    [
        ("nsc_law", ClaritySection, "already registered"),
        ("run", ClaritySection, "another kind"),  # a section of the schema, not a lever
        ("Bad-Name", ClaritySection, "identifier"),
        ("plain", object, "LeverSection subclass"),
    ],
)
def test_a_lever_the_schema_cannot_hold_is_refused_and_leaves_no_trace(name, section, error):
    with pytest.raises((ValueError, TypeError), match=error):
        register_lever(name, section, apply_clarity)
    assert tuple(EFFECTS) == BUILTIN_LEVERS + BUILTIN_STRESS_TESTS
    assert sim.scenario.Scenario is BuiltinScenario


def test_a_builtin_lever_cannot_be_unregistered():
    with pytest.raises(ValueError, match="built in"):
        unregister_lever("nsc_law")


def _reforms_in_a_fresh_process(scenario):
    """What a spawned worker (as sweeps start them) makes of a pickled scenario."""
    model = sim.CooperationModel(scenario, rng=SEED)
    return scenario.liaison_lever.clarity, [reform.name for reform in model.reforms]


def test_a_scenario_with_a_registered_lever_reaches_a_spawned_worker(monkeypatch):
    import multiprocessing

    plugins = str(Path(__file__).parent / "data" / "plugins")
    monkeypatch.syspath_prepend(plugins)  # a spawned worker starts with the parent's path
    import liaison_lever

    try:
        scenario = load_scenario(
            "baseline", {"liaison_lever.enabled": True, "liaison_lever.clarity": 0.7}
        )
        changed = scenario.with_overrides({"liaison_lever.clarity": 0.2})
        with multiprocessing.get_context("spawn").Pool(1) as pool:
            assert pool.apply(_reforms_in_a_fresh_process, (changed,)) == (0.2, ["liaison_lever"])
        # Another lever registered meanwhile: the scenario still pickles, and comes back whole.
        with levers.temporary_lever("other_lever", liaison_lever.LiaisonSection, print):
            restored = pickle.loads(pickle.dumps(changed))
        assert restored.model_dump(exclude={"other_lever"}) == changed.model_dump()
    finally:
        levers.unregister_lever("liaison_lever")
        sys.modules.pop("liaison_lever", None)


def test_a_lever_may_not_shadow_what_a_scenario_offers():
    class Section(LeverSection):
        """Lever (tests only)."""

    for name in ("with_overrides", "model_dump", "copy"):
        with pytest.raises(ValueError, match="attribute of that name"):
            levers.register_lever(name, Section, print)
        assert name not in levers.lever_names()
