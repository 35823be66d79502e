"""Every parameter of the scenario schema is live: moving it moves the model.

For each parameter (enumerated from :func:`sim.scenario.parameter_table`, so a new
parameter is covered the day it is declared) two runs of a small world with common
seeds are compared: one at the low end of its range, one at the high end (a bool
flipped, each other choice of a choice parameter against the default, a share mix
with all its weight on the first key against equal weights). At least one outcome,
one value of the daily series or one ledger column must differ. A parameter of a
lever section is tried with its lever switched on from day 0 for every state.

Where a mechanism never fires in a small, short world at default settings (no
secure platform, leaks too rare), ``CONTEXT`` switches it on for that parameter,
with the reason. A parameter that still cannot matter is listed, with the reason,
in ``tests/data/inert_parameters.toml``; the table cannot rot: an entry that does
move the model fails too. ``DEAD_UNTIL_WIRED`` holds the parameters known dead in
the model code, as strict expected failures.
"""

from __future__ import annotations

import functools
import math
import tomllib
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import sim
from sim.requests import COLUMNS as LEDGER_COLUMNS
from sim.scenario import (
    ADOPTABLE_LEVERS,
    APPLIES_TO_GROUPS,
    LEVERS,
    STRESS_TESTS,
    parameter_table,
)

pytestmark = pytest.mark.slow

DATA = Path(__file__).resolve().parent / "data"
INERT_FILE = DATA / "inert_parameters.toml"
TINY_WORLD_CSV = DATA / "tiny_world_states.csv"

# The small world: 6 states, half a year; blocs big enough that every group of
# `applies_to` is a proper, non-empty subset of the states.
SMALL = {
    "world.n_states": 6,
    "run.years": 0.5,
    "run.warmup_years": 0.0,
    "world.mr_bloc_share": 0.4,
    "world.alliance_share": 0.3,
}
SEEDS = (1, 2)  # the second seed is run only when the first shows no difference
LEVER_SECTIONS = frozenset(LEVERS) | frozenset(STRESS_TESTS)

# Ends used instead of the schema's where its range is open or too wide for a short
# run (a 50-year run, 400 states, 100,000 cases a year per state).
ENDS: dict[str, tuple[Any, Any]] = {
    "run.years": (0.3, 0.9),
    # The schema allows a 20-year warm-up; one year already shifts every window outcome.
    "run.warmup_years": (0.0, 1.0),
    "world.n_states": (2, 10),
    "world.data_file": ("", str(TINY_WORLD_CSV)),
    "cases.arrivals_per_state_per_year": (0.0, 150.0),
    "electronic_evidence.investigations_per_state_per_year": (0.0, 300.0),
    "demand_surge.growth_per_year": (0.0, 3.0),
}

# Extra settings that make a mechanism reachable in the small world, by parameter or by
# whole section (the parameter's own value is set last, so it wins).
CONTEXT: dict[str, dict[str, Any]] = {
    # Domestic investigations and their requests to providers are off in the baseline.
    "electronic_evidence": {"electronic_evidence.enabled": True},
    "e_evidence": {"electronic_evidence.enabled": True},
    # Legal representatives matter only for providers based outside the regime.
    "e_evidence.legal_representative_share": {"e_evidence.applies_to": "mr_bloc"},
    # The default lag (a year) is longer than the run: no capacity would arrive.
    "capacity_building": {"capacity_building.lag_days": 0.0},
    # The baseline world has no secure platform; connect every state.
    "transmission.secure_platform_days": {"world.platform_share": 1.0},
    "intelligence.platform_days": {"world.platform_share": 1.0},
    # Urgent requests need 24/7 contact points at both ends and a severe case.
    "communication.rapid_days": {
        "world.contact_point_share": 1.0,
        "communication.urgent_severity": 0.3,
    },
    # A data-protection refusal is rare at the default chance (0.06 per unit of gap).
    "world.data_protection_mean": {"review.data_protection_base": 1.0},
    # Technology only moves data security (leaks), and leaks are rare at the default
    # chance (0.02 an item): make every share risky.
    "world.technology_mean": {"intelligence.leak_base": 1.0},
    "world.technology_capacity_slope": {"intelligence.leak_base": 1.0},
    "world.technology_sigma": {"intelligence.leak_base": 1.0},
    "capacity_building.technology_gain": {"intelligence.leak_base": 1.0},
    "secure_platform.data_security_gain": {
        "intelligence.leak_base": 1.0,
        "intelligence.platform_leak_factor": 1.0,
    },
    "intelligence.platform_leak_factor": {
        "world.platform_share": 1.0,
        "intelligence.leak_base": 1.0,
    },
    "intelligence.leak_trust_loss": {"intelligence.leak_base": 1.0},
    "intelligence.technology_security_weight": {"intelligence.leak_base": 1.0},
    # Who is on the platform matters only when some states are and some are not.
    "world.platform_bloc_weight": {"world.platform_share": 0.5},
    "intelligence.confidentiality_leak_cut": {"intelligence.leak_base": 1.0},
    "world.technology_floor": {"intelligence.leak_base": 1.0},
    "world.confidentiality_sigma": {"intelligence.leak_base": 1.0},
    "world.data_protection_sigma": {"review.data_protection_base": 1.0},
    # Bloc shifts that apply to worlds read from a data file only (the tiny world file).
    "world.bloc_data_protection_bonus": {
        "world.data_file": str(TINY_WORLD_CSV),
        "review.data_protection_base": 1.0,
    },
    "world.data_file_data_protection_sigma": {
        "world.data_file": str(TINY_WORLD_CSV),
        "review.data_protection_base": 1.0,
    },
    "world.bloc_sovereignty_discount": {
        "world.data_file": str(TINY_WORLD_CSV),
        "world.sovereignty_sensitivity_mean": 1.0,
    },
    "intelligence.lead_days": {"cases.deadline_days_mean": 60.0},
    # A lapse (a case gone cold) is rare in half a year; so is a lead that delays one.
    "trust.loss_on_lapse": {"cases.deadline_days_mean": 60.0},
    # One round of meetings in half a year leaves no request drafted after it to matter.
    "diplomacy.familiarity_gain": {"diplomacy.interval_days": 30.0},
    "communication.familiarity_effect": {"diplomacy.interval_days": 30.0},
    # Few extraditions reach the end of a hearing (347 days) in half a year.
    "execution.surrender_days": {"judicial.extradition_days": 30.0},
    # Rights grounds need extraditions to states with lower rights standards.
    "judicial.human_rights_refusal": {
        "cases.extradition_share": 1.0,
        "judicial.extradition_days": 30.0,
    },
    "review.rights_gap_tolerance": {
        "cases.extradition_share": 1.0,
        "review.human_rights_base": 1.0,
    },
    # Sovereignty refusals are rare at the default sensitivity in six states.
    "review.sovereignty_refusal": {"world.sovereignty_sensitivity_mean": 1.0},
    # The nationality grounds need extraditions of nationals; few in a small world.
    "review.nationality_bar": {"cases.extradition_share": 1.0, "cases.national_share": 1.0},
    "mutual_recognition.nationality_residence_refusal": {
        "cases.extradition_share": 1.0,
        "cases.national_share": 1.0,
    },
    # 15% of six states is no national security court at all: give every state one.
    "agencies.nsc_capacity": {"world.nsc_share": 1.0},
    "judicial.nsc_speed_factor": {"world.nsc_share": 1.0},
    "judicial.nsc_noise_factor": {"world.nsc_share": 1.0},
    # Adoption drivers act only on a lever adopted by choice; monthly reviews, so that
    # several decisions fall in half a year.
    "adoption": {
        "nsc_law.enabled": True,
        "nsc_law.adoption": "endogenous",
        "adoption.review_days": 30.0,
    },
    **{
        f"{lever}.adoption_cost": {
            f"{lever}.adoption": "endogenous",
            "adoption.review_days": 30.0,
        }
        for lever in ADOPTABLE_LEVERS
    },
    # Monthly rounds and no negotiation time: agreements are decided and ratified in the run;
    # few requests are answered in half a year, so a wait over two months counts as unmet.
    "bilateral_agreements": {
        "trust.expected_response_days": 60.0,
        "bilateral_agreements.review_days": 30.0,
        "bilateral_agreements.negotiation_days": 0.0,
        "bilateral_agreements.ratification_days": 30.0,
    },
    # UNODC's joint work: the operation's coordinator must be UNODC (INTERPOL searches).
    "coordinated_operation.team_min_states": {"coordinated_operation.coordinator": "unodc"},
    "coordinated_operation.team_threshold_reduction": {
        "coordinated_operation.coordinator": "unodc"
    },
    "coordinated_operation.team_trust_reduction": {"coordinated_operation.coordinator": "unodc"},
}

# applies_to: every group is tried on one lever (the group -> states rule is shared by
# all levers); every other lever is tried with one group and with a list of states.
APPLIES_TO_EVERY_GROUP = "budget_cuts"
APPLIES_TO_SOME = ("low_capacity",)

# Parameters known dead in the model code (name -> why), until they are wired in. Strict
# xfail: the day one is wired its test passes unexpectedly and fails the run, and its name
# comes out of this set. (The six found dead on 2026-11-29 - nsc_law.clarity,
# nsc_law.formal_channels, rapid_channels.urgent_severity,
# joint_task_forces.agreement_trust_reduction, transmission.interpol_days and
# mutual_recognition.nationality_residence_refusal - are wired.)
DEAD_UNTIL_WIRED: dict[str, str] = {}


def load_inert() -> dict[str, str]:
    """The inert-parameter table: dotted name -> why it cannot matter in the small world."""
    with INERT_FILE.open("rb") as handle:
        return dict(tomllib.load(handle).get("parameters", {}))


INERT = load_inert()


def _ends(row: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """The pairs of values to compare for one parameter: (label, low, high)."""
    name = f"{row['section']}.{row['key']}"
    default = row["default"]
    if name in ENDS:
        lo, hi = ENDS[name]
        return [("", lo, hi)]
    if row["key"] == "applies_to":
        # Groups against "all"; one list of state codes stands for the list form.
        groups = APPLIES_TO_GROUPS if row["section"] == APPLIES_TO_EVERY_GROUP else APPLIES_TO_SOME
        return [(f"={g}", "all", g) for g in groups if g != "all"] + [("=[S001]", "all", ["S001"])]
    if isinstance(default, bool):
        return [("", default, not default)]
    if isinstance(default, list):
        # A list of choices (case types): the default against every choice.
        return [("", default, _list_choices(row))]
    if isinstance(default, dict):
        # All the weight on the first key against the same weight on every key.
        keys = list(default)
        return [("", {k: float(k == keys[0]) for k in keys}, dict.fromkeys(keys, 1.0))]
    if row["type"] == "Literal" or row["unit"] == "choice":
        choices = _choices(row)
        return [(f"={c}", default, c) for c in choices if c != default]
    if isinstance(default, int | float):
        lo = row["min"] if row["min"] is not None else 0
        hi = row["max"] if row["max"] is not None else max(10 * abs(default), 1)
        if isinstance(default, int):
            return [("", int(lo), int(hi))]
        return [("", float(lo), float(hi))]
    raise AssertionError(f"{name}: no rule for moving a {type(default).__name__} parameter")


def _choices(row: dict[str, Any]) -> list[str]:
    from sim.scenario import Scenario

    section = Scenario.model_fields[row["section"]].annotation
    annotation = section.model_fields[row["key"]].annotation
    return list(getattr(annotation, "__args__", ()))


def _list_choices(row: dict[str, Any]) -> list[str]:
    from typing import get_args

    from sim.scenario import Scenario

    section = Scenario.model_fields[row["section"]].annotation
    (item,) = get_args(section.model_fields[row["key"]].annotation)
    return list(get_args(item))


def _cases() -> list[Any]:
    params = []
    for row in parameter_table():
        name = f"{row['section']}.{row['key']}"
        for label, lo, hi in _ends(row):
            marks = []
            if name in DEAD_UNTIL_WIRED:
                marks.append(pytest.mark.xfail(strict=True, reason=DEAD_UNTIL_WIRED[name]))
            params.append(pytest.param(name + label, lo, hi, id=name + label, marks=marks))
    return params


def _base(name: str) -> dict[str, Any]:
    section = name.split(".")[0]
    base = dict(SMALL)
    if section in LEVER_SECTIONS:
        base[f"{section}.enabled"] = True
        base[f"{section}.start_year"] = 0.0
        base[f"{section}.applies_to"] = "all"
    base.update(CONTEXT.get(section, {}))
    base.update(CONTEXT.get(name, {}))
    return base


def _freeze(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    return value


@functools.lru_cache(maxsize=64)
def _signature(overrides: tuple[tuple[str, Any], ...], seed: int) -> dict[str, Any]:
    """Everything a run produces that a parameter could move, as comparable arrays."""
    values = {k: _thaw(v) for k, v in overrides}
    if values.get("world.data_file"):  # the file's rows are the states: no count
        values.pop("world.n_states", None)
    scenario = sim.load_scenario("baseline", values)
    result = sim.run(scenario, seed=seed)
    flat = flatten(result.outcomes)
    ledger = result.model.ledger
    sig = {f"outcome:{k}": np.asarray(v, dtype=float) for k, v in flat.items()}
    sig.update({f"series:{c}": result.series[c].to_numpy() for c in result.series.columns})
    # Every stored column of every request, as stored (the data frame's are made from them).
    sig.update({f"ledger:{c}": ledger.col(c).copy() for c in LEDGER_COLUMNS})
    return sig


def _thaw(value: Any) -> Any:
    if isinstance(value, tuple) and value and isinstance(value[0], tuple):
        return {k: _thaw(v) for k, v in value}
    if isinstance(value, tuple):
        return list(value)
    return value


def flatten(outcomes: dict[str, Any], prefix: str = "") -> dict[str, float]:
    """Nested outcome dicts as one level of dotted names with float values."""
    flat: dict[str, float] = {}
    for key, value in outcomes.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, name + "."))
        elif isinstance(value, int | float | bool | np.number) or value is None:
            flat[name] = math.nan if value is None else float(value)
    return flat


def differences(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> list[str]:
    """Names of the outputs that differ between two run signatures (NaN equals NaN)."""
    changed = [k for k in a.keys() ^ b.keys()]
    for key in a.keys() & b.keys():
        x, y = a[key], b[key]
        if x.shape != y.shape:
            changed.append(key)
        elif x.dtype.kind in "fc":
            if not np.array_equal(x, y, equal_nan=True):
                changed.append(key)
        elif not np.array_equal(x, y):
            changed.append(key)
    return sorted(changed)


def moved(name: str, lo: Any, hi: Any) -> tuple[list[str], int]:
    """What moving ``name`` from ``lo`` to ``hi`` changes, and over how many outputs."""
    base = _base(name)
    changed: list[str] = []
    sig = {}
    for seed in SEEDS:
        runs = [_signature(_key({**base, name: v}), seed) for v in (lo, hi)]
        sig = runs[0]
        changed = differences(*runs)
        if changed:
            break
    return changed, len(sig)


def _key(overrides: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
    return tuple(sorted((k, _freeze(v)) for k, v in overrides.items()))


@pytest.mark.parametrize(("case", "lo", "hi"), _cases())
def test_parameter_moves_the_model(case, lo, hi):
    name = case.split("=")[0]
    changed, total = moved(name, lo, hi)
    if case in INERT:
        assert not changed, (
            f"{case} is listed as inert ({INERT[case]}) but it moves outcomes: remove it "
            f"from {INERT_FILE.name}. Moved from {lo!r} to {hi!r} it changes {changed[:8]}"
        )
    else:
        assert changed, (
            f"{case}: moved from {lo!r} to {hi!r} it changes none of {total} outcomes, "
            f"daily series and ledger columns (seeds {SEEDS}); wire it in, or list it with "
            f"the reason in {INERT_FILE.name}"
        )


def test_inert_table_names_real_cases():
    known = {p.values[0] for p in _cases()}
    assert set(INERT) <= known, f"unknown names in {INERT_FILE.name}: {set(INERT) - known}"
    assert not set(INERT) & set(DEAD_UNTIL_WIRED), "a parameter is both inert and being wired"
    assert all(reason.strip() for reason in INERT.values()), "every inert entry needs a reason"


def test_every_schema_parameter_has_a_case():
    ids = {p.values[0].split("=")[0] for p in _cases()}
    assert ids == {f"{r['section']}.{r['key']}" for r in parameter_table()}
