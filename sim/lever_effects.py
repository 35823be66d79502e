"""The effects of the built-in reform levers and stress tests: one small function each.

An effect is called as ``effect(model, targets, params)`` on the day its lever
takes effect (or, under endogenous adoption, on the day each adopter adopts):
``targets`` are the state indices it applies to, ``params`` its validated
scenario section. It changes the model's state (the world, the per-state
:class:`~sim.policy.PolicyState`, a process's settings) in the way the lever's
section docstring says; requests already under way keep the instrument and
channel they were drafted with, new ones use the new world. Each effect is
registered with its section in :mod:`sim.levers`.

This module imports nothing of the package at run time (the model only for
annotations), so that the registry can sit below the scenario schema.

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

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sim.model import CooperationModel


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
    model.coordinating_body.fund(p.added_budget_per_year, targets)


def apply_diplomatic_engagement(model: CooperationModel, targets: np.ndarray, p) -> None:
    """More coordination meetings, a one-off rise in relations, and liaison officers.

    Each target exchanges liaison officers with its busiest partners (by requests
    so far, then by economic size): their cultural and organisational distance
    falls, and with it the misunderstandings that cost clarification rounds.
    """
    model.policy.diplomatic_engagement[targets] = 1.0
    model.meetings.add_pairs(p.extra_pairs_per_round)
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
        model.cut_capacity(state, p.capacity_cut)
