"""World generation: the states, their attributes and the relations between them.

A :class:`World` is plain data (numpy arrays and a networkx treaty graph) built
from scenario parameters and a random generator, either synthetically or from a
CSV of real states. The model turns it into Mesa agents. The data type is
:mod:`sim.world_state` (re-exported here); this module builds one.
"""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd

from sim.frictions import legal_family_distance_matrix
from sim.scenario import LEGAL_FAMILIES, Scenario, ScenarioError
from sim.world_state import (  # re-exported: the World is imported from here
    CAPACITY_GROUPS,
    World,
    capacity_groups,
)

__all__ = [
    "CAPACITY_GROUPS",
    "DATA_DIR",
    "REQUIRED_COLUMNS",
    "World",
    "build_world",
    "capacity_groups",
    "resolve_data_file",
    "synthetic_world",
    "world_from_data",
]

DATA_DIR = Path(__file__).resolve().parent / "data"


def _shares(mix: dict[str, float], names: tuple[str, ...]) -> np.ndarray:
    weights = np.array([mix.get(name, 0.0) for name in names], dtype=float)
    return weights / weights.sum()


def _pick_share(rng: np.random.Generator, n: int, share: float, score: np.ndarray) -> np.ndarray:
    """Choose round(share * n) states, favouring those with a high score."""
    k = int(round(share * n))
    mask = np.zeros(n, dtype=bool)
    if k > 0:
        noisy = score + rng.gumbel(size=n)
        mask[np.argsort(-noisy, kind="stable")[:k]] = True
    return mask


def _relations_and_trust(rng, scenario: Scenario, mr_bloc, alliance, legal_distance):
    w = scenario.world
    n = len(mr_bloc)
    same_bloc = (mr_bloc[:, None] & mr_bloc[None, :]) | (alliance[:, None] & alliance[None, :])
    noise = rng.normal(0.0, w.relations_sigma, size=(n, n))
    relations = np.clip(
        w.initial_relations
        + 0.5 * (noise + noise.T)  # mutual: the mean of the pair's two draws (sd / sqrt 2)
        + w.relations_bloc_bonus * same_bloc
        - w.relations_legal_distance_penalty * legal_distance,
        0.0,
        1.0,
    )
    np.fill_diagonal(relations, 1.0)
    trust = np.clip(
        w.initial_trust
        + rng.normal(0.0, w.initial_trust_spread, size=(n, n))
        + w.bloc_trust_bonus * same_bloc,
        0.0,
        1.0,
    )
    np.fill_diagonal(trust, 1.0)
    return relations, trust


def _treaty_graph(rng, scenario: Scenario, capacity: np.ndarray) -> nx.Graph:
    """Bilateral treaties: each pair with a probability that favours richer partners."""
    n = len(capacity)
    graph = nx.Graph()
    graph.add_nodes_from(range(n))
    if n < 2:
        return graph
    w = scenario.world
    attraction = (capacity / np.median(capacity)) ** w.treaty_capacity_bias
    pair = np.sqrt(attraction[:, None] * attraction[None, :])
    p = np.clip(w.bilateral_treaty_density * pair / pair[np.triu_indices(n, 1)].mean(), 0, 1)
    draws = rng.random((n, n))
    rows, cols = np.nonzero(np.triu(draws < p, k=1))
    graph.add_edges_from(zip(rows.tolist(), cols.tolist(), strict=True), instrument="bilateral")
    return graph


def synthetic_world(scenario: Scenario, rng: np.random.Generator) -> World:
    """Generate a world of ``scenario.world.n_states`` states from scenario parameters only.

    Args:
        scenario: Validated scenario.
        rng: Random generator (the model's).

    Returns:
        The generated World.
    """
    w = scenario.world
    n = w.n_states
    economic_size = np.exp(rng.normal(0.0, w.economic_size_sigma, n))
    income = np.exp(rng.normal(0.0, w.income_sigma, n))
    capacity = w.capacity_median * economic_size**w.capacity_size_exponent
    rel_cap = np.log(capacity / w.capacity_median)
    legal_family = rng.choice(
        len(LEGAL_FAMILIES), size=n, p=_shares(w.legal_family_shares, LEGAL_FAMILIES)
    )
    language = rng.integers(0, w.n_language_groups, size=n)
    size = _size_attributes(rng, scenario, economic_size, economic_size / income, language)
    technology = _technology(rng, w, rel_cap)
    skill = _skill(rng, scenario.agencies, rel_cap)
    sovereignty = np.clip(
        rng.normal(w.sovereignty_sensitivity_mean, w.sovereignty_sensitivity_sigma, n), 0.0, 1.0
    )
    death_penalty = rng.random(n) < w.death_penalty_share
    data_protection = np.clip(
        rng.normal(w.data_protection_mean, w.data_protection_sigma, n), 0.0, 1.0
    )
    # Blocs gather richer states with low sovereignty sensitivity (EU-like); the
    # convention attracts many, bloc members first; national security courts fall at random.
    mr_bloc = _pick_share(
        rng, n, w.mr_bloc_share, rel_cap - w.mr_bloc_sovereignty_weight * sovereignty
    )
    # Membership of the bloc requires abolition (as the EU's does: Protocol 13 ECHR).
    death_penalty &= ~mr_bloc
    alliance = _pick_share(rng, n, w.alliance_share, w.alliance_capacity_weight * rel_cap)
    convention = _pick_share(
        rng, n, w.convention_share, rel_cap + w.convention_bloc_weight * mr_bloc
    )
    nsc = _pick_share(rng, n, w.nsc_share, np.zeros(n))
    threat = np.exp(rng.normal(0.0, scenario.cases.threat_level_sigma, n))
    family_distance = legal_family_distance_matrix(w.legal_family_distance)
    legal_distance = family_distance[np.ix_(legal_family, legal_family)]
    relations, trust = _relations_and_trust(rng, scenario, mr_bloc, alliance, legal_distance)
    return World(
        codes=[f"S{i:03d}" for i in range(n)],
        legal_family=legal_family,
        language=language,
        **size,
        rights_standard=_rights_standard(rng, w, mr_bloc, death_penalty),
        capacity=capacity,
        technology=technology,
        skill=skill,
        sovereignty=sovereignty,
        death_penalty=death_penalty,
        data_protection=data_protection,
        mr_bloc=mr_bloc,
        alliance=alliance,
        convention=convention,
        nsc=nsc,
        interpol_member=_pick_share(rng, n, w.interpol_member_share, rel_cap),
        threat_level=threat,
        platform=_pick_share(rng, n, w.platform_share, rel_cap + w.platform_bloc_weight * mr_bloc),
        contact_point=_pick_share(rng, n, w.contact_point_share, rel_cap),
        confidentiality=_confidentiality(rng, w, alliance),
        treaties=_treaty_graph(rng, scenario, capacity),
        initial_trust=trust,
        relations=relations,
        family_distance=family_distance,
    )


def _size_attributes(
    rng: np.random.Generator,
    scenario: Scenario,
    economic_size: np.ndarray,
    population: np.ndarray,
    language: np.ndarray,
) -> dict[str, np.ndarray]:
    """Population and economic size relative to the median state, openness and culture.

    Openness is drawn independently of size, so that a hub (a trade, travel or
    finance centre) draws more foreign links than its budget would suggest.
    Culture is a position on a 0-1 scale around a centre shared by the states of a
    language group.
    """
    w = scenario.world
    n = len(economic_size)
    centre = rng.random(int(language.max(initial=0)) + 1)
    return {
        "population": population / np.median(population),
        "economic_size": economic_size / np.median(economic_size),
        "openness": np.exp(rng.normal(0.0, w.openness_sigma, n)),
        "culture": np.clip(centre[language] + rng.normal(0.0, w.culture_spread, n), 0.0, 1.0),
    }


def _technology(rng, w, rel_cap: np.ndarray) -> np.ndarray:
    """Technology level (floor-1): rises with capacity (log over the median), with noise."""
    noise = rng.normal(0, w.technology_sigma, rel_cap.size)
    level = w.technology_mean + w.technology_capacity_slope * rel_cap + noise
    return np.clip(level, w.technology_floor, 1.0)


def _skill(rng, agencies, rel_cap: np.ndarray) -> np.ndarray:
    """Staff skill (floor-1): rises with capacity (log over the median), with noise."""
    noise = rng.normal(0, agencies.skill_sigma, rel_cap.size)
    level = agencies.skill_mean + agencies.skill_capacity_slope * rel_cap + noise
    return np.clip(level, agencies.skill_floor, 1.0)


def _confidentiality(rng, w, alliance: np.ndarray) -> np.ndarray:
    """Confidentiality standards (0-1): around the mean, stronger in the intelligence alliance."""
    noise = rng.normal(w.confidentiality_mean, w.confidentiality_sigma, alliance.size)
    return np.clip(noise + w.alliance_confidentiality_bonus * alliance, 0.0, 1.0)


def _rights_standard(rng, w, mr_bloc: np.ndarray, death_penalty: np.ndarray):
    """Human-rights and fair-trial protections: higher in the bloc, lower where executions are.

    Args:
        rng: The world's random generator.
        w: The scenario's world section (``rights_standard_*``).
        mr_bloc: Membership of the mutual-recognition bloc.
        death_penalty: Whether each state retains the death penalty.
    """
    n = len(mr_bloc)
    value = (
        rng.normal(w.rights_standard_mean, w.rights_standard_sigma, n)
        + w.rights_standard_bloc_bonus * mr_bloc
        - w.rights_standard_death_penalty_gap * death_penalty
    )
    return np.clip(value, 0.0, 1.0)


REQUIRED_COLUMNS = (
    "iso3",
    "name",
    "legal_family",
    "language_group",
    "eu",
    "five_eyes",
    "budapest_party",
    "coe_member",
    "interpol_member",
    "death_penalty",
    "population_m",
    "gdp_usd_bn",
)


def resolve_data_file(name: str, scenario_source: str) -> Path:
    """Find a world data file: relative to the scenario file, else a shipped data file."""
    candidates = []
    if scenario_source and not scenario_source.startswith("<"):
        candidates.append(Path(scenario_source).resolve().parent / name)
    candidates.append(DATA_DIR / name)
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise ScenarioError(
        f"{scenario_source}: world.data_file: file {name!r} not found; looked in "
        + ", ".join(str(c.parent) for c in candidates)
    )


def world_from_data(scenario: Scenario, rng: np.random.Generator) -> World:
    """Build a world from a CSV of real states; what the file lacks is drawn as in synthetic.

    Population and GDP come from the file (World Bank): population drives case
    volume, GDP the agencies' budgets and the gravity of foreign links.
    Sovereignty, technology, skill, threat, openness, culture, trust and relations
    are stated assumptions drawn from scenario parameters.
    """
    path = resolve_data_file(scenario.world.data_file, scenario.source)
    try:
        df = pd.read_csv(path, comment="#", skipinitialspace=True)
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"{path}: cannot read world data: {exc}") from None
    missing = [c for c in REQUIRED_COLUMNS if c not in df.columns]
    if missing:
        raise ScenarioError(
            f"{path}: missing columns {missing}; required: {list(REQUIRED_COLUMNS)}"
        )
    bad_family = sorted(set(df["legal_family"]) - set(LEGAL_FAMILIES))
    if bad_family:
        raise ScenarioError(f"{path}: legal_family: unknown {bad_family}; allowed {LEGAL_FAMILIES}")
    for column in ("population_m", "gdp_usd_bn"):
        values = pd.to_numeric(df[column], errors="coerce").to_numpy(float)
        if not (np.isfinite(values) & (values > 0)).all():
            raise ScenarioError(f"{path}: {column}: every value must be a positive number")
    n = len(df)
    w = scenario.world
    gdp = df["gdp_usd_bn"].to_numpy(float)
    economic_size = gdp / np.median(gdp)
    capacity = w.capacity_median * economic_size**w.capacity_size_exponent
    rel_cap = np.log(capacity / np.median(capacity))
    legal_family = np.array([LEGAL_FAMILIES.index(f) for f in df["legal_family"]])
    languages = {g: k for k, g in enumerate(sorted(df["language_group"].unique()))}
    language = df["language_group"].map(languages).to_numpy(int)
    population = df["population_m"].to_numpy(float)
    size = _size_attributes(rng, scenario, economic_size, population, language)
    death_penalty = df["death_penalty"].to_numpy(bool)
    mr_bloc = df["eu"].to_numpy(bool)
    alliance = df["five_eyes"].to_numpy(bool)
    sovereignty = np.clip(
        rng.normal(w.sovereignty_sensitivity_mean, w.sovereignty_sensitivity_sigma, n)
        - w.bloc_sovereignty_discount * mr_bloc,
        0.0,
        1.0,
    )
    family_distance = legal_family_distance_matrix(w.legal_family_distance)
    legal_distance = family_distance[np.ix_(legal_family, legal_family)]
    relations, trust = _relations_and_trust(rng, scenario, mr_bloc, alliance, legal_distance)
    return World(
        codes=df["iso3"].astype(str).tolist(),
        legal_family=legal_family,
        language=language,
        **size,
        rights_standard=_rights_standard(rng, w, mr_bloc, death_penalty),
        capacity=capacity,
        technology=_technology(rng, w, rel_cap),
        skill=_skill(rng, scenario.agencies, rel_cap),
        sovereignty=sovereignty,
        death_penalty=death_penalty,
        data_protection=np.clip(
            w.data_protection_mean
            + w.bloc_data_protection_bonus * mr_bloc
            + rng.normal(0, w.data_file_data_protection_sigma, n),
            0,
            1,
        ),
        mr_bloc=mr_bloc,
        alliance=alliance,
        # The Budapest Convention stands in for a multilateral MLA convention.
        convention=df["budapest_party"].to_numpy(bool) | df["coe_member"].to_numpy(bool),
        nsc=_pick_share(rng, n, w.nsc_share, np.zeros(n)),
        interpol_member=df["interpol_member"].to_numpy(bool),
        threat_level=np.exp(rng.normal(0.0, scenario.cases.threat_level_sigma, n)),
        platform=_pick_share(rng, n, w.platform_share, rel_cap + w.platform_bloc_weight * mr_bloc),
        contact_point=_pick_share(rng, n, w.contact_point_share, rel_cap),
        confidentiality=_confidentiality(rng, w, alliance),
        treaties=_treaty_graph(rng, scenario, capacity),
        initial_trust=trust,
        relations=relations,
        family_distance=family_distance,
    )


def build_world(scenario: Scenario, rng: np.random.Generator) -> World:
    """Build the world a scenario asks for (synthetic, or from its data file)."""
    if scenario.world.data_file:
        return world_from_data(scenario, rng)
    return synthetic_world(scenario, rng)
