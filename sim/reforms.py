"""Reform levers (and stress tests): each a named, dated change to the world.

A lever is a scenario section with ``enabled``, ``start_year`` and
``applies_to``. At ``start_year`` it takes effect for its target states through
one small function below, which changes the model's state in the way the
lever's docstring in :mod:`sim.scenario` says. Requests already under way keep
the instrument and channel they were drafted with; new ones use the new world.
A lever with ``adoption = "endogenous"`` is not applied to every target at once:
its targets decide one by one (:mod:`sim.adoption`), each adopter getting the
same function on the day it adopts.

| lever | acts on |
|---|---|
| nsc_law | security courts; clear procedures; formal channels; transparency, safeguards |
| legal_harmonization | legal distance (drafting, clarification, dual criminality) |
| treaty_expansion | treaty network (instrument choice) |
| mutual_recognition | bloc membership (instrument: no political review, deadlines) |
| secure_platform | platform membership (transmission, intelligence delay and leaks) |
| rapid_channels | 24/7 contact points and urgency threshold (channel, queue priority) |
| joint_task_forces | team severity threshold, agreement trust and cost |
| capacity_building | coordinating body's budget and recipients |
| diplomatic_engagement | meetings (relations, familiarity, trust decay); liaison officers |
| confidentiality_standards | confidentiality (sharing, leaks, data-protection gaps) |
| bilateral_agreements | negotiations between target pairs (treaty network, after ratification) |
| e_evidence | the e-evidence regime (route of requests to service providers: production orders) |
| coordinated_operation | for a time: queue priority, shared intelligence, searches, teams |
| counterterrorism_agreement | treaty, sharing commitment, joint teams between the parties |
| geopolitical_tension | relations, sovereignty sensitivity (stress test) |
| demand_surge | case arrivals (stress test) |
| budget_cuts | agency capacity (stress test) |
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from sim.scenario import (
    DAYS_PER_YEAR,
    LEVERS,
    STRESS_TESTS,
    Scenario,
    ScenarioError,
    warmup_days,
)
from sim.world import CAPACITY_GROUPS, World

if TYPE_CHECKING:
    from sim.model import CooperationModel


def resolve_targets(applies_to: str | list[str], world: World, key: str, source: str) -> np.ndarray:
    """State indices a lever applies to.

    Args:
        applies_to: ``"all"``, a bloc or capacity-group name, or a list of state codes.
        world: The world (codes, blocs, capacity groups).
        key: Scenario key, for error messages (e.g. ``"nsc_law.applies_to"``).
        source: Scenario file, for error messages.

    Returns:
        Sorted array of state indices.

    Raises:
        ScenarioError: If a listed state code is not in the world.
    """
    n = world.n_states
    if isinstance(applies_to, list):
        index = {code: i for i, code in enumerate(world.codes)}
        unknown = [code for code in applies_to if code not in index]
        if unknown:
            sample = ", ".join(world.codes[:5])
            raise ScenarioError(
                f"{source}: {key}: unknown state code(s) {unknown}; this world's states are "
                f"codes like {sample} (see `coopsim describe` or the world data file)"
            )
        return np.array(sorted({index[c] for c in applies_to}), dtype=np.int64)
    masks = {
        "all": np.ones(n, dtype=bool),
        "mr_bloc": world.mr_bloc,
        "non_mr_bloc": ~world.mr_bloc,
        "alliance": world.alliance,
        "non_alliance": ~world.alliance,
    }
    for g, name in enumerate(CAPACITY_GROUPS):
        masks[f"{name}_capacity"] = world.capacity_group == g
    return np.flatnonzero(masks[applies_to])


def apply_nsc_law(model: CooperationModel, targets: np.ndarray, p) -> None:
    """Courts, clear procedures, formal channels, transparency and safeguards.

    Partners' trust is not touched: it follows from what they then experience
    (faster and steadier answers, fewer misunderstandings), and the courts'
    transparency and safeguards decide how often partners with strong rights
    standards refuse to send evidence or a person for trial before them.
    """
    for state in targets.tolist():
        model.add_national_security_court(state)
    policy = model.policy
    policy.procedure_clarity[targets] = np.maximum(policy.procedure_clarity[targets], p.clarity)
    if p.formal_channels:
        policy.formal_channel[targets] = True
    policy.court_transparency[targets] = np.maximum(
        policy.court_transparency[targets], p.transparency
    )
    policy.court_safeguards[targets] = np.maximum(
        policy.court_safeguards[targets], p.defendant_safeguards
    )


def apply_legal_harmonization(model: CooperationModel, targets: np.ndarray, p) -> None:
    """Legal distance between the targets and everyone falls."""
    d = model.world.legal_distance
    d[targets, :] *= 1.0 - p.distance_reduction
    d[:, targets] *= 1.0 - p.distance_reduction


def apply_treaty_expansion(
    model: CooperationModel, targets: np.ndarray, p, partners: np.ndarray | None = None
) -> None:
    """Add bilateral treaties, busiest partners first, until each target reaches the target.

    Args:
        model: The model.
        targets: States that sign.
        p: The lever's parameters.
        partners: States the targets may sign with (all if None); under endogenous
            adoption, the other states that joined the treaty network.
    """
    w = model.world
    n = w.n_states
    wanted = int(np.ceil(p.coverage_target * (n - 1)))
    traffic = model.traffic + model.traffic.T
    for state in targets.tolist():
        have = int(w.treaty_matrix[state].sum())
        if have >= wanted:
            continue
        candidates = np.flatnonzero(~w.treaty_matrix[state])
        candidates = candidates[candidates != state]
        if partners is not None:
            candidates = np.intersect1d(candidates, partners)
        # Busiest partners first, then the richer ones: where treaties are negotiated.
        order = np.lexsort((-w.capacity[candidates], -traffic[state, candidates]))
        for partner in candidates[order][: wanted - have].tolist():
            w.add_treaty(state, partner)


def apply_mutual_recognition(model: CooperationModel, targets: np.ndarray, p) -> None:
    """The targets join the mutual-recognition bloc."""
    model.world.mr_bloc[targets] = True


def apply_secure_platform(model: CooperationModel, targets: np.ndarray, p) -> None:
    """The targets connect to the secure platform; their data security improves."""
    w = model.world
    w.platform[targets] = True
    w.technology[targets] = np.minimum(1.0, w.technology[targets] + p.data_security_gain)


def apply_rapid_channels(model: CooperationModel, targets: np.ndarray, p) -> None:
    """The targets set up 24/7 contact points and treat more requests as urgent."""
    model.world.contact_point[targets] = True
    policy = model.policy
    policy.urgent_threshold[targets] = np.minimum(
        policy.urgent_threshold[targets], p.urgent_severity
    )


def apply_joint_task_forces(model: CooperationModel, targets: np.ndarray, p) -> None:
    """Teams form more easily and cost the targets less."""
    policy = model.policy
    policy.team_threshold_shift[targets] = np.maximum(
        policy.team_threshold_shift[targets], p.threshold_reduction
    )
    policy.team_cost_factor[targets] = np.minimum(
        policy.team_cost_factor[targets], 1.0 - p.cost_reduction
    )
    policy.team_trust_shift[targets] = np.maximum(
        policy.team_trust_shift[targets], p.agreement_trust_reduction
    )


def apply_capacity_building(model: CooperationModel, targets: np.ndarray, p) -> None:
    """The coordinating body adds budget, given to the poorest of the targets."""
    body = model.coordinating_body
    body.budget_per_year += p.added_budget_per_year
    body.targets = targets


def apply_diplomatic_engagement(model: CooperationModel, targets: np.ndarray, p) -> None:
    """More coordination meetings, a one-off rise in relations, and liaison officers.

    Each target exchanges liaison officers with its busiest partners (by requests
    so far, then by economic size): their cultural and organisational distance
    falls, and with it the misunderstandings that cost clarification rounds.
    """
    meetings = model.meetings
    model.policy.diplomatic_engagement[targets] = 1.0
    meetings.extra_pairs += p.extra_pairs_per_round
    w = model.world
    r = w.relations
    for rows, cols in ((targets[:, None], slice(None)), (slice(None), targets[None, :])):
        r[rows, cols] = r[rows, cols] + p.relations_boost * (1.0 - r[rows, cols])
    traffic = model.traffic + model.traffic.T
    distance = w.cultural_distance
    for state in targets.tolist():
        order = np.lexsort((-w.economic_size, -traffic[state]))
        partners = order[order != state][: p.liaison_partners]
        distance[state, partners] *= 1.0 - p.liaison_distance_reduction
        distance[partners, state] = distance[state, partners]


def apply_confidentiality_standards(model: CooperationModel, targets: np.ndarray, p) -> None:
    """Stronger confidentiality: more sharing, fewer leaks, legal protections for partners.

    Partners' trust follows from fewer leaks and fewer data-protection refusals.
    """
    w = model.world
    w.confidentiality[targets] = np.maximum(w.confidentiality[targets], p.level)


def apply_bilateral_agreements(model: CooperationModel, targets: np.ndarray, p) -> None:
    """Pairs of targets start negotiating agreements where their needs go unmet.

    Nothing changes at once: treaties come from concluded, ratified negotiations
    (:mod:`sim.negotiation`).
    """
    model.negotiation.open(targets, p)


def apply_e_evidence(model: CooperationModel, targets: np.ndarray, p) -> None:
    """The targets come under the e-evidence regime: their requests to providers become orders.

    Response times and the share that falls back to the formal route follow from
    the route requests then take (:mod:`sim.eevidence`).
    """
    model.policy.e_evidence[targets] = True


def apply_coordinated_operation(model: CooperationModel, targets: np.ndarray, p) -> None:
    """A coordinating body starts a time-limited operation with the targets.

    It acts only through queues, intelligence sharing, INTERPOL searches and joint
    teams (:mod:`sim.operations`); arrests and resolved cases follow from those.
    """
    model.operations.start_operation(targets, p)


def apply_counterterrorism_agreement(model: CooperationModel, targets: np.ndarray, p) -> None:
    """Every pair of the targets signs the agreement: treaty, sharing, joint work.

    Its intelligence items and joint teams follow from the sharing commitment and
    the easier team terms (:mod:`sim.operations`), never set directly.
    """
    model.operations.sign_agreement(targets, p)


def apply_geopolitical_tension(model: CooperationModel, targets: np.ndarray, p) -> None:
    """Relations with the targets fall and the targets guard sovereignty more.

    Trust then falls through what follows: more sovereignty refusals and delays.
    """
    w = model.world
    r = w.relations
    r[targets, :] = np.clip(r[targets, :] - p.relations_drop, 0.0, 1.0)
    r[:, targets] = np.clip(r[:, targets] - p.relations_drop, 0.0, 1.0)
    np.fill_diagonal(r, 1.0)
    w.sovereignty[targets] = np.minimum(1.0, w.sovereignty[targets] + p.sovereignty_rise)


def apply_demand_surge(model: CooperationModel, targets: np.ndarray, p) -> None:
    """Case arrivals in the targets grow by ``growth_per_year`` from now on."""
    model.policy.demand_growth[targets] = p.growth_per_year
    model.policy.demand_start_day[targets] = model.day


def apply_budget_cuts(model: CooperationModel, targets: np.ndarray, p) -> None:
    """Every agency of the targets loses a share of its capacity."""
    for state in targets.tolist():
        for agency in model.states[state].agencies.values():
            agency.capacity_per_day *= 1.0 - p.capacity_cut


EFFECTS = {
    "nsc_law": apply_nsc_law,
    "legal_harmonization": apply_legal_harmonization,
    "treaty_expansion": apply_treaty_expansion,
    "mutual_recognition": apply_mutual_recognition,
    "secure_platform": apply_secure_platform,
    "rapid_channels": apply_rapid_channels,
    "joint_task_forces": apply_joint_task_forces,
    "capacity_building": apply_capacity_building,
    "diplomatic_engagement": apply_diplomatic_engagement,
    "confidentiality_standards": apply_confidentiality_standards,
    "bilateral_agreements": apply_bilateral_agreements,
    "e_evidence": apply_e_evidence,
    "coordinated_operation": apply_coordinated_operation,
    "counterterrorism_agreement": apply_counterterrorism_agreement,
    "geopolitical_tension": apply_geopolitical_tension,
    "demand_surge": apply_demand_surge,
    "budget_cuts": apply_budget_cuts,
}
assert set(EFFECTS) == set(LEVERS) | set(STRESS_TESTS)


class Reform:
    """One enabled lever of a scenario, waiting for its start.

    Args:
        name: Lever name (a scenario section).
        params: The validated lever section.
        targets: State indices it applies to.
        window_start_day: First day of the measurement window (the warm-up's length).
    """

    def __init__(self, name: str, params: Any, targets: np.ndarray, window_start_day: int = 0):
        self.name = name
        self.params = params
        self.targets = targets
        # start_year counts from the start of the measurement window, after the warm-up.
        self.start_day = window_start_day + int(round(params.start_year * DAYS_PER_YEAR))
        self.applied_day: int | None = None
        self.model: CooperationModel | None = None  # set by the model that schedules it

    @property
    def endogenous(self) -> bool:
        """Whether the targets choose to adopt the lever (``adoption = "endogenous"``)."""
        return getattr(self.params, "adoption", "imposed") == "endogenous"

    def take_effect(self) -> None:
        """Apply the lever to its model now (a Mesa event callback: no arguments).

        An endogenous lever is not applied: its targets start deciding whether to
        adopt it (:class:`sim.adoption.AdoptionProcess`).
        """
        self.applied_day = self.model.day
        if self.endogenous:
            self.model.adoption.open(self)
        else:
            EFFECTS[self.name](self.model, self.targets, self.params)


def enabled_reforms(scenario: Scenario, world: World) -> list[Reform]:
    """The scenario's enabled levers and stress tests, with their target states resolved."""
    reforms = []
    for name in (*LEVERS, *STRESS_TESTS):
        params = getattr(scenario, name)
        if not params.enabled:
            continue
        targets = resolve_targets(
            params.applies_to, world, f"{name}.applies_to", scenario.source or "<scenario>"
        )
        reforms.append(Reform(name, params, targets, warmup_days(scenario)))
    return reforms
