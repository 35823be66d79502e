"""The scenario schema: loading, `extends`, overrides and one error test per kind of bad input."""

from __future__ import annotations

import math

import pytest
from conftest import BASELINE_FILE

import sim
from sim.model import CooperationModel
from sim.scenario import (
    Scenario,
    ScenarioError,
    load_scenario,
    parameter_table,
    shipped_scenarios,
)
from sim.schema_base import CASE_TYPES


def _error(path, overrides=None) -> str:
    with pytest.raises(ScenarioError) as info:
        load_scenario(path, overrides)
    return str(info.value)


def _assert_names(message: str, path, key: str) -> None:
    assert str(path) in message, f"file not named in: {message}"
    assert key in message, f"key {key!r} not named in: {message}"


# ---------------------------------------------------------------- good input


def test_baseline_loads_by_name_and_by_path():
    by_name = load_scenario("baseline")
    by_path = load_scenario(BASELINE_FILE)
    assert by_name == by_path
    assert by_name.name == "baseline"
    assert by_name.world.n_states == 40
    assert by_name.run.years == 5.0
    assert by_name.source == str(BASELINE_FILE)
    assert "baseline" in shipped_scenarios()


def test_every_default_lies_in_its_range_and_is_documented():
    rows = parameter_table()
    assert len(rows) > 50
    for row in rows:
        assert row["description"], f"{row['section']}.{row['key']} has no description"
        value = row["default"]
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue
        assert math.isfinite(value)
        if row["min"] is not None:
            assert value >= row["min"], row
        if row["max"] is not None:
            assert value <= row["max"], row
    # A scenario with nothing stated validates with all defaults.
    Scenario()


def test_overrides_change_only_the_named_keys():
    base = load_scenario("baseline")
    tiny = load_scenario(
        "baseline", {"world.n_states": 12, "run.years": 1.0, "run.warmup_years": 0.0}
    )
    assert tiny.world.n_states == 12 and tiny.run.years == 1.0
    assert tiny.world.model_dump(exclude={"n_states"}) == base.world.model_dump(
        exclude={"n_states"}
    )
    assert tiny.review == base.review


def test_with_overrides_returns_a_validated_copy_and_scenarios_are_frozen():
    base = load_scenario("baseline")
    other = base.with_overrides({"review.service_days": 10.0})
    assert other.review.service_days == 10.0
    assert base.review.service_days != 10.0
    assert other.source == base.source
    with pytest.raises(ScenarioError, match="review.service_days"):
        base.with_overrides({"review.service_days": -5.0})
    with pytest.raises(Exception):  # noqa: B017 - pydantic's frozen-instance error
        base.run.years = 2.0  # type: ignore[misc]


def test_extends_baseline_resolves_the_shipped_scenario(write_toml):
    path = write_toml(
        "reform.toml", 'extends = "baseline"\nname = "reform"\n[world]\nnsc_share = 1.0\n'
    )
    scenario = load_scenario(path)
    base = load_scenario("baseline")
    assert scenario.name == "reform"
    assert scenario.world.nsc_share == 1.0
    # Everything the child does not state comes from the baseline file, not the defaults.
    assert scenario.world.n_states == base.world.n_states == 40
    assert scenario.run.years == base.run.years
    assert scenario.source == str(path)


def test_extends_relative_file_resolves_next_to_the_extending_file(
    write_toml, tmp_path, monkeypatch
):
    write_toml(
        "pkg/parent.toml",
        'extends = "baseline"\nname = "parent"\n[world]\nn_states = 20\nnsc_share = 0.5\n'
        "[review]\nservice_days = 33.0\n",
    )
    child = write_toml(
        "pkg/child.toml", 'extends = "parent.toml"\nname = "child"\n[world]\nnsc_share = 0.9\n'
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # resolution must not depend on the working directory
    scenario = load_scenario(child)
    assert scenario.name == "child"
    assert scenario.world.nsc_share == 0.9  # the child's own value
    assert scenario.world.n_states == 20  # the parent's, kept although [world] is restated
    assert scenario.review.service_days == 33.0  # the parent's section, untouched
    assert scenario.run.years == 5.0  # the grandparent (baseline)


def test_extends_chain_through_subfolders(write_toml):
    write_toml("a/base.toml", "[world]\nn_states = 7\n")
    child = write_toml(
        "a/b/child.toml", 'extends = "../base.toml"\n[run]\nyears = 0.5\nwarmup_years = 0.0\n'
    )
    scenario = load_scenario(child)
    assert scenario.world.n_states == 7 and scenario.run.years == 0.5
    assert scenario.name == "child"  # the name defaults to the file's stem


def test_overrides_apply_after_the_extends_chain(write_toml):
    path = write_toml("r.toml", 'extends = "baseline"\n[world]\nn_states = 30\n')
    assert load_scenario(path, {"world.n_states": 9}).world.n_states == 9


# ---------------------------------------------------------------- bad input: one test per kind


def test_unknown_top_level_key(write_toml):
    path = write_toml("bad.toml", 'extends = "baseline"\nyeras = 2\n')
    message = _error(path)
    _assert_names(message, path, "yeras")
    assert "unknown key" in message


def test_unknown_section(write_toml):
    path = write_toml("bad.toml", 'extends = "baseline"\n[wrld]\nn_states = 3\n')
    _assert_names(_error(path), path, "wrld")


def test_unknown_key_inside_a_section_lists_allowed_keys(write_toml):
    path = write_toml("bad.toml", 'extends = "baseline"\n[world]\nn_state = 3\n')
    message = _error(path)
    _assert_names(message, path, "world.n_state")
    assert "n_states" in message  # the allowed keys are listed


def test_wrong_type(write_toml):
    path = write_toml("bad.toml", '[world]\nn_states = "many"\n')
    _assert_names(_error(path), path, "world.n_states")


def test_section_given_as_a_value(write_toml):
    path = write_toml("bad.toml", "run = 5\n")
    _assert_names(_error(path), path, "run")


@pytest.mark.parametrize("text", ["[run]\nyears = true\n", '[world]\nn_states = "12"\n'])
def test_wrong_type_is_not_coerced(write_toml, text):
    path = write_toml("bad.toml", text)
    with pytest.raises(ScenarioError):
        load_scenario(path)


def test_a_child_scenario_is_named_after_its_own_file(write_toml):
    path = write_toml(
        "my_variant.toml", 'extends = "baseline"\n[run]\nyears = 1.0\nwarmup_years = 0.0\n'
    )
    assert load_scenario(path).name == "my_variant"
    named = write_toml("named.toml", 'extends = "baseline"\nname = "custom"\n')
    assert load_scenario(named).name == "custom"


def test_source_is_not_a_scenario_key(write_toml):
    path = write_toml("bad.toml", 'source = "elsewhere"\n')
    _assert_names(_error(path), path, "source")


def test_negative_capacity_is_out_of_range(write_toml):
    path = write_toml(
        "bad.toml", 'extends = "baseline"\n[agencies]\ncentral_authority_capacity = -1.0\n'
    )
    message = _error(path)
    _assert_names(message, path, "agencies.central_authority_capacity")
    assert "greater than or equal to 0" in message
    assert "range [0.0" in message  # says what is allowed


def test_above_maximum_is_out_of_range(write_toml):
    path = write_toml("bad.toml", "[world]\nmr_bloc_share = 1.5\n")
    _assert_names(_error(path), path, "world.mr_bloc_share")


def test_overrides_are_validated_too():
    message = _error("baseline", {"world.n_states": 0})
    _assert_names(message, BASELINE_FILE, "world.n_states")
    _assert_names(_error("baseline", {"world.no_such_key": 1}), BASELINE_FILE, "world.no_such_key")


def test_an_override_does_not_hide_a_bad_value_in_the_file(write_toml):
    """`--years 1` on a file that says `years = nan` still names the file's key."""
    path = write_toml("bad.toml", "[run]\nyears = nan\n")
    _assert_names(_error(path, {"run.years": 1.0}), path, "run.years")
    good = write_toml("good.toml", "[run]\nyears = 2.0\n")
    assert load_scenario(good, {"run.years": 1.0}).run.years == 1.0


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("[world]\ncapacity_median = nan\n", "world.capacity_median"),
        ("[run]\nyears = inf\n", "run.years"),
        ("[drafting]\nbase_days = -inf\n", "drafting.base_days"),
        ("[world]\nlegal_family_shares = {civil = nan}\n", "world.legal_family_shares.civil"),
        ("[cases]\ntype_shares = {terrorism = inf}\n", "cases.type_shares.terrorism"),
    ],
    ids=["nan", "inf", "-inf", "nan-in-share-mix", "inf-in-share-mix"],
)
def test_nan_and_infinity_are_rejected(write_toml, text, key):
    path = write_toml("bad.toml", text)
    message = _error(path)
    _assert_names(message, path, key)
    assert "finite" in message or "greater" in message or "less" in message


def test_negative_share_in_a_mix_is_rejected(write_toml):
    path = write_toml("bad.toml", "[world]\nlegal_family_shares = {civil = -0.5, common = 1}\n")
    _assert_names(_error(path), path, "world.legal_family_shares.civil")


def test_unknown_legal_family_in_share_mix(write_toml):
    path = write_toml("bad.toml", "[world]\nlegal_family_shares = {civil = 1, klingon = 2}\n")
    message = _error(path)
    _assert_names(message, path, "world.legal_family_shares")
    assert "klingon" in message and "common" in message  # what was wrong, what is allowed


def test_all_zero_share_mix_is_rejected(write_toml):
    path = write_toml("bad.toml", "[world]\nlegal_family_shares = {civil = 0, common = 0}\n")
    _assert_names(_error(path), path, "world.legal_family_shares")


@pytest.mark.parametrize("key", ["type_shares", "political_sensitivity_by_type"])
def test_unknown_case_type_in_share_mix(write_toml, key):
    path = write_toml("bad.toml", f"[cases]\n{key} = {{piracy = 1.0}}\n")
    message = _error(path)
    _assert_names(message, path, f"cases.{key}")
    assert "piracy" in message and "terrorism" in message


def test_a_type_left_out_of_the_sensitivities_keeps_its_default(write_toml):
    # Setting one type's mean sensitivity must not silently change the others'.
    path = write_toml("one.toml", "[cases]\npolitical_sensitivity_by_type = {terrorism = 0.5}\n")
    means = load_scenario(path).cases.political_sensitivity_by_type
    defaults = load_scenario("baseline").cases.political_sensitivity_by_type
    assert means == {**defaults, "terrorism": 0.5}
    model = CooperationModel(load_scenario(path), rng=1)
    assert model._type_sensitivity.tolist() == [means[t] for t in CASE_TYPES]
    high = write_toml("high.toml", "[cases]\npolitical_sensitivity_by_type = {espionage = 1.5}\n")
    message = _error(high)
    _assert_names(message, high, "cases.political_sensitivity_by_type")
    assert "less than or equal to 1" in message and "espionage" in message


def test_missing_extends_target_file(write_toml):
    path = write_toml("child.toml", 'extends = "missing_parent.toml"\n')
    message = _error(path)
    assert str(path.parent / "missing_parent.toml") in message  # the file that is missing
    assert str(path.resolve()) in message  # and the file that names it
    assert "extends" in message


def test_missing_shipped_scenario_in_extends(write_toml):
    path = write_toml("child.toml", 'extends = "no_such_shipped_scenario"\n')
    message = _error(path)
    assert "no_such_shipped_scenario.toml" in message
    assert str(path.resolve()) in message and "extends" in message


def test_cyclic_extends(write_toml):
    a = write_toml("a.toml", 'extends = "b.toml"\n')
    b = write_toml("b.toml", 'extends = "a.toml"\n')
    message = _error(a)
    assert "cycle" in message and "extends" in message
    assert str(a.resolve()) in message and str(b.resolve()) in message


def test_self_extends_is_a_cycle(write_toml):
    path = write_toml("self.toml", 'extends = "self.toml"\n')
    assert "cycle" in _error(path)


def test_extends_must_be_a_name(write_toml):
    path = write_toml("bad.toml", "extends = 3\n")
    _assert_names(_error(path), path, "extends")


def test_not_toml_at_all(write_toml):
    path = write_toml("bad.toml", "this is not = = toml [\n")
    message = _error(path)
    assert str(path.resolve()) in message and "TOML" in message


def test_binary_file_is_not_toml(tmp_path):
    path = tmp_path / "binary.toml"
    path.write_bytes(b"\xff\xfe\x00\x00garbage")
    message = _error(path)
    assert str(path.resolve()) in message


def test_missing_scenario_file(tmp_path):
    path = tmp_path / "nowhere.toml"
    message = _error(path)
    assert str(path) in message and "not found" in message


def test_every_error_is_reported_at_once(write_toml):
    path = write_toml(
        "bad.toml", "[world]\nn_states = -3\n[run]\nyears = 0\nwarmup_years = 0.0\nfoo = 1\n"
    )
    message = _error(path)
    for key in ("world.n_states", "run.years", "run.foo"):
        _assert_names(message, path, key)
    assert len(message.splitlines()) == 3


def test_scenario_error_is_a_value_error():
    assert issubclass(sim.ScenarioError, ValueError)


def test_an_error_names_the_file_of_the_chain_that_set_the_key(write_toml):
    parent = write_toml("parent.toml", 'extends = "baseline"\n[world]\nn_statez = 3\n')
    child = write_toml(
        "child.toml", 'extends = "parent.toml"\n[world]\nn_states = 0\n[run]\nyears = 1.0\n'
    )
    with pytest.raises(ScenarioError) as info:
        load_scenario(child)
    lines = str(info.value).splitlines()
    assert any(line.startswith(f"{parent}: world.n_statez: unknown key") for line in lines)
    assert any(line.startswith(f"{child}: world.n_states: ") for line in lines)
    # An override is named as the override, whichever file it lands in.
    with pytest.raises(ScenarioError, match="override run.years"):
        load_scenario(write_toml("fine.toml", 'extends = "baseline"\n'), {"run.years": -1.0})
    # A value inside a list or a union is the file's that set the key; a table filled by
    # two files names both.
    write_toml(
        "p2.toml",
        'extends = "baseline"\n[budget_cuts]\napplies_to = 5\n'
        "[world.legal_family_shares]\nmartian = 0.1\n",
    )
    c2 = write_toml("c2.toml", 'extends = "p2.toml"\n[world.legal_family_shares]\ncommon = 0.5\n')
    with pytest.raises(ScenarioError) as info:
        load_scenario(c2)
    lines = str(info.value).splitlines()
    p2 = c2.parent / "p2.toml"
    assert any(line.startswith(f"{p2}: budget_cuts.applies_to") for line in lines)
    assert any(line.startswith(f"{c2} and {p2}: world.legal_family_shares") for line in lines)


def test_a_state_count_is_said_to_be_ignored_where_a_data_file_makes_the_states():
    # real_world's 69 states are the rows of its data file: a count is ignored, not silently.
    with pytest.warns(UserWarning, match="override world.n_states is ignored"):
        load_scenario("real_world", {"world.n_states": 10})
    with pytest.warns(UserWarning, match="rows of world.data_file"):
        load_scenario("real_world").with_overrides({"world.n_states": 10})


def test_a_misspelt_shipped_scenario_gets_a_suggestion():
    with pytest.raises(ScenarioError, match="did you mean 'baseline'"):
        load_scenario("baselin")
