"""The outcome registry's data: one entry per outcome with its unit, better direction and meaning.

One entry per outcome of :func:`sim.metrics.compute_outcomes`. An outcome whose
value is a dict (a breakdown, such as ``median_response_days`` by request kind)
has one entry covering every key. This module is the table and nothing else: it
is long because there are many outcomes, not because it does much. The lookups
over it (plain names, units, flat names, formatting) are in :mod:`sim.outcomes`;
``tests/test_outcomes.py`` fails when the model produces an outcome that has no
entry here, or when an entry here is no longer produced.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Better = Literal["higher", "lower", "neither"]


@dataclass(frozen=True)
class OutcomeInfo:
    """What one outcome is.

    Attributes:
        name: Outcome name (for a breakdown, its base name).
        label: A plain name for tables and figures ("completion rate").
        unit: Unit of the value ("share", "days", "requests", ...).
        better: Which direction is better for cooperation: "higher", "lower" or
            "neither" (a count of activity, or a description of the run).
        description: One line saying what the outcome measures.
        keys: For a breakdown (a dict-valued outcome), what its keys are
            ("request kind"); None for a single value.
        count: True for a count over the measurement window (it grows with the
            window's length; divide by ``days`` / 365 for a yearly rate); False for a
            rate, a share, a duration or a level, which does not.
    """

    name: str
    label: str
    unit: str
    better: Better
    description: str
    keys: str | None = None
    count: bool = False


# Units of counts over the window; every other unit is a rate, share, duration or level.
COUNT_UNITS = frozenset(
    {"requests", "cases", "items", "incidents", "persons", "notices", "diffusions", "arrests",
     "teams", "meetings", "work units", "budget units", "agreements", "investigations"}
)  # fmt: skip


def _o(name, label, unit, better, description, keys=None) -> OutcomeInfo:
    count = unit in COUNT_UNITS and name not in _LEVELS
    return OutcomeInfo(name, label, unit, better, description, keys, count)


# Outcomes in count units that are levels, not counts over the window.
_LEVELS = frozenset(
    {
        "backlog",
        "jits_active",
        "capacity_by_capacity_group",
        "states",
        "requests_open",
        "requests_drafting",
        "cases_open",
        "agreements_in_force",
    }
)


ENTRIES = (
    # ----------------------------------------------------------------- the run
    _o("scenario", "scenario", "text", "neither", "Name of the scenario run."),
    _o(
        "days",
        "days measured",
        "days",
        "neither",
        "Days of the measurement window (the run after its warm-up).",
    ),
    _o("states", "states", "states", "neither", "Number of states in the world."),
    # ----------------------------------------------------------------- requests
    _o(
        "requests_total",
        "requests created",
        "requests",
        "neither",
        "Requests created in the window: sent, plus those still being drafted at the end.",
    ),
    _o(
        "requests_issued",
        "requests sent",
        "requests",
        "neither",
        "Requests sent to a state in the window.",
    ),
    _o(
        "requests_drafting",
        "requests still drafting",
        "requests",
        "lower",
        "Requests created but not yet sent at the end of the run (still being drafted).",
    ),
    _o(
        "requests_executed",
        "requests executed",
        "requests",
        "higher",
        "Requests executed in the window.",
    ),
    _o(
        "requests_refused",
        "requests refused",
        "requests",
        "lower",
        "Requests refused in the window.",
    ),
    _o(
        "requests_lapsed",
        "requests lapsed",
        "requests",
        "lower",
        "Requests that lapsed unanswered in the window (their case closed or went cold first).",
    ),
    _o(
        "requests_withdrawn",
        "requests withdrawn",
        "requests",
        "neither",
        "Requests withdrawn by the requesting state in the window.",
    ),
    _o(
        "requests_open",
        "requests open at end",
        "requests",
        "lower",
        "Requests sent and still unanswered at the end of the run (drafts not counted).",
    ),
    _o(
        "completion_rate",
        "completion rate",
        "share",
        "higher",
        "Share of the requests created in the window that end executed (Aalen-Johansen "
        "cumulative incidence, requests open at the end censored).",
    ),
    _o(
        "refusal_rate",
        "refusal rate",
        "share",
        "lower",
        "Share of the requests created in the window that end refused (Aalen-Johansen).",
    ),
    _o(
        "lapse_rate",
        "lapse rate",
        "share",
        "lower",
        "Share of the requests created in the window that end lapsed (Aalen-Johansen).",
    ),
    _o(
        "withdrawal_rate",
        "withdrawal rate",
        "share",
        "neither",
        "Share of the requests created in the window that end withdrawn (Aalen-Johansen).",
    ),
    _o(
        "refusal_rate_by_ground",
        "refusal rate",
        "share",
        "lower",
        "Share of the requests created in the window that end refused on this ground "
        "(Aalen-Johansen, each ground a competing cause).",
        keys="refusal ground",
    ),
    _o(
        "median_response_days",
        "median response time",
        "days",
        "lower",
        "Naive median days from sending to answer: executed requests of this kind created "
        "in the window, open ones left out (see km_median_response_days).",
        keys="request kind",
    ),
    _o(
        "p90_response_days",
        "90th-percentile response time",
        "days",
        "lower",
        "90th percentile of days from sending to answer, executed requests of this kind.",
        keys="request kind",
    ),
    _o(
        "mean_response_days",
        "mean response time",
        "days",
        "lower",
        "Naive mean days from sending to answer, executed requests of this kind.",
        keys="request kind",
    ),
    *(
        _o(
            f"km_{q}_response_days",
            f"{word} response time (Kaplan-Meier)",
            "days",
            "lower",
            f"Kaplan-Meier {word} days from sending to an answer (executed or refused), "
            "requests of this kind created in the window and sent; open, lapsed and withdrawn "
            "ones censored.",
            keys="request kind",
        )
        for q, word in (
            ("q25", "first quartile of"),
            ("median", "median"),
            ("q75", "third quartile of"),
        )
    ),
    _o(
        "ends_by_kind",
        "how requests end",
        "share",
        "neither",
        "Cumulative incidence (Aalen-Johansen) of each way a request created in the window "
        "and sent ends, counted from sending, open requests censored.",
        keys="request kind and end",
    ),
    _o(
        "median_response_days_by_instrument",
        "median response time",
        "days",
        "lower",
        "Naive median days from sending to answer, executed requests under this instrument.",
        keys="legal instrument",
    ),
    _o(
        "km_median_response_days_by_instrument",
        "median response time (Kaplan-Meier)",
        "days",
        "lower",
        "Kaplan-Meier median days from sending to an answer, requests under this instrument.",
        keys="legal instrument",
    ),
    _o(
        "completion_rate_by_instrument",
        "completion rate",
        "share",
        "higher",
        "Share of requests under this legal instrument that end executed (Aalen-Johansen).",
        keys="legal instrument",
    ),
    _o(
        "channel_share",
        "share of requests by channel",
        "share",
        "neither",
        "Share of all requests created that went through this transmission channel.",
        keys="transmission channel",
    ),
    _o(
        "consent_share",
        "consent to surrender",
        "share",
        "neither",
        "Share of extradition requests sent whose person sought consented to surrender.",
    ),
    _o(
        "mr_deadline_met_share",
        "mutual-recognition deadline met",
        "share",
        "higher",
        "Share of mutual-recognition requests done within this step's deadline (decision: "
        "received to decided or refused; execution: decided to executed), of those whose "
        "deadline passed in the window; one still waiting at its deadline missed it.",
        keys="step",
    ),
    _o(
        "clarification_rounds_per_request",
        "clarification rounds per request",
        "rounds/request",
        "lower",
        "Clarification rounds asked for in the window per request sent in it.",
    ),
    # ----------------------------------------------------------------- cases
    _o("cases_total", "cases", "cases", "neither", "Transnational cases opened in the window."),
    _o("cases_resolved", "cases resolved", "cases", "higher", "Cases resolved in the window."),
    _o(
        "cases_cold",
        "cases gone cold",
        "cases",
        "lower",
        "Cases that went cold (deadline passed) in the window.",
    ),
    _o("cases_failed", "cases failed", "cases", "lower", "Cases that failed in the window."),
    _o("cases_open", "cases open at end", "cases", "neither", "Cases still open at the end."),
    _o(
        "case_resolution_rate",
        "case resolution rate",
        "share",
        "higher",
        "Share of cases opened in the window that end resolved (Aalen-Johansen).",
    ),
    _o(
        "median_case_resolution_days",
        "median case resolution time",
        "days",
        "lower",
        "Kaplan-Meier median days from opening to resolution, cases opened in the window "
        "(cold and failed ones censored).",
    ),
    # ----------------------------------------------------------------- agencies, trust
    _o(
        "mean_trust",
        "mean trust",
        "index 0-1",
        "higher",
        "Mean directed trust between states, averaged over the window's days.",
    ),
    _o(
        "backlog",
        "mean backlog",
        "requests",
        "lower",
        "Requests waiting in the queues of agencies of this role, averaged over the window.",
        keys="agency role",
    ),
    _o(
        "utilisation",
        "agency utilisation",
        "load",
        "neither",
        "Offered load of agencies of this role over the window (requests joining the queue "
        "/ capacity offered): median and largest; above 1 a queue grows without bound.",
        keys="agency role and statistic",
    ),
    _o("effort", "agency effort", "work units", "neither", "Work spent by all agencies."),
    # ----------------------------------------------------------------- intelligence
    _o("intel_items", "intelligence items", "items", "neither", "Intelligence items produced."),
    _o(
        "intel_shared",
        "intelligence shared",
        "items",
        "higher",
        "Intelligence items shared with a partner service.",
    ),
    _o("leaks", "leaks", "items", "lower", "Shared intelligence items that leaked."),
    _o("leak_rate", "leak rate", "share", "lower", "Share of shared items that leaked."),
    _o(
        "intel_delivery_days",
        "intelligence delivery time",
        "days",
        "lower",
        "Mean days from sharing to delivery of intelligence.",
    ),
    _o(
        "intel_delivery_days_platform",
        "intelligence delivery time (platform)",
        "days",
        "lower",
        "Mean days from sharing to delivery, items sent through a secure platform.",
    ),
    _o(
        "intel_delivery_days_conventional",
        "intelligence delivery time (conventional)",
        "days",
        "lower",
        "Mean days from sharing to delivery, items sent through conventional channels.",
    ),
    _o(
        "incidents_prevented",
        "incidents prevented",
        "incidents",
        "higher",
        "Incidents prevented by shared intelligence.",
    ),
    _o(
        "cases_helped_by_intel",
        "cases helped by intelligence",
        "cases",
        "higher",
        "Cases that received useful shared intelligence.",
    ),
    # ----------------------------------------------------------------- INTERPOL
    _o(
        "persons_sought_unlocated",
        "persons sought, whereabouts unknown",
        "persons",
        "neither",
        "Persons sought abroad whose whereabouts were unknown (searched for via INTERPOL).",
    ),
    _o(
        "red_notices_requested",
        "red notices requested",
        "notices",
        "neither",
        "Red notices requested from INTERPOL.",
    ),
    _o(
        "red_notices_rejected",
        "red notices rejected",
        "notices",
        "lower",
        "Red notices rejected on review in the window.",
    ),
    _o(
        "red_notice_rejection_rate",
        "red notice rejection rate",
        "share",
        "lower",
        "Share of red notices reviewed in the window that were rejected.",
    ),
    _o("diffusions", "diffusions", "diffusions", "neither", "INTERPOL diffusions circulated."),
    _o(
        "arrests_via_notices",
        "arrests via notices",
        "arrests",
        "higher",
        "Persons sought located through a red notice in the window.",
    ),
    _o(
        "arrests_via_diffusions",
        "arrests via diffusions",
        "arrests",
        "higher",
        "Persons sought located through a diffusion in the window.",
    ),
    _o(
        "median_days_to_arrest",
        "median time to arrest",
        "days",
        "lower",
        "Kaplan-Meier median days from a notice or diffusion request (in the window, not "
        "rejected) to locating the person sought, those not yet located censored.",
    ),
    # ----------------------------------------------------------------- joint teams
    _o(
        "jits_formed", "joint teams formed", "teams", "neither", "Joint investigation teams formed."
    ),
    _o(
        "jits_active",
        "joint teams active at end",
        "teams",
        "neither",
        "Joint investigation teams still active at the end.",
    ),
    _o(
        "jit_case_resolution_rate",
        "joint-team case resolution rate",
        "share",
        "higher",
        "Share of joint-team cases opened in the window that end resolved (Aalen-Johansen).",
    ),
    _o(
        "jit_median_case_days",
        "joint-team median case time",
        "days",
        "lower",
        "Kaplan-Meier median days from opening to resolution, joint-team cases opened in "
        "the window.",
    ),
    _o("jit_effort", "joint-team effort", "work units", "neither", "Work spent by joint teams."),
    # ----------------------------------------------------------------- e-evidence
    _o(
        "domestic_investigations",
        "domestic investigations",
        "investigations",
        "neither",
        "Domestic investigations opened in the window (electronic_evidence switched on).",
    ),
    _o(
        "cross_border_share",
        "cross-border share of investigations",
        "share",
        "neither",
        "Share of investigations opened in the window (domestic ones and transnational "
        "cases) with at least one cross-border request; NaN with domestic ones off.",
    ),
    _o(
        "eevidence_requests_by_route",
        "e-evidence requests",
        "requests",
        "neither",
        "E-evidence requests to providers abroad created in the window, by the route taken "
        "first; mla_fallback: those of them sent on by the formal route.",
        keys="route",
    ),
    _o(
        "eevidence_response_days",
        "e-evidence median response time",
        "days",
        "lower",
        "Kaplan-Meier median days from an e-evidence request (created in the window) to an "
        "answer, by the provider or the formal route; open, lapsed ones censored.",
    ),
    _o(
        "eevidence_response_days_by_route",
        "e-evidence median response time",
        "days",
        "lower",
        "Kaplan-Meier median days to an answer of e-evidence requests, by the route taken "
        "first (a fallback counts to its formal answer).",
        keys="route",
    ),
    _o(
        "eevidence_success_share",
        "e-evidence success share",
        "share",
        "higher",
        "Share of e-evidence requests created in the window that obtain the data, from the "
        "provider or by the formal route (Aalen-Johansen).",
    ),
    # ----------------------------------------------------------------- case studies
    _o(
        "operation_arrests",
        "operation arrests",
        "arrests",
        "higher",
        "Persons sought in cases of the operation's types located in participating states "
        "during the coordinated operation (NaN without one).",
    ),
    _o(
        "operation_cases_resolved",
        "operation cases resolved",
        "cases",
        "higher",
        "The operation's cases (targeted types, from participants) opened during it and "
        "resolved by the end of the run (NaN without an operation).",
    ),
    _o(
        "operation_requests",
        "operation requests",
        "requests",
        "neither",
        "Requests between participants in the operation's cases sent during it (NaN without "
        "an operation).",
    ),
    _o(
        "operation_intel_shared",
        "operation intelligence shared",
        "items",
        "higher",
        "Intelligence items of the operation's cases shared with participants during it "
        "(NaN without an operation).",
    ),
    _o(
        "operation_joint_teams",
        "operation joint teams",
        "teams",
        "neither",
        "Joint teams formed during the operation for its cases, with two participants or "
        "more among their members (NaN without an operation).",
    ),
    _o(
        "agreement_intel_shared",
        "intelligence shared between parties",
        "items",
        "higher",
        "Intelligence items one party of the bilateral agreement shared with another, in "
        "the window (NaN without an agreement).",
    ),
    _o(
        "agreement_joint_teams",
        "joint teams between parties",
        "teams",
        "neither",
        "Joint teams with two parties of the agreement among their members, formed in the "
        "window (NaN without an agreement).",
    ),
    _o(
        "agreement_requests",
        "requests between parties",
        "requests",
        "neither",
        "Requests one party of the agreement sent another in the window (NaN without an "
        "agreement).",
    ),
    # ----------------------------------------------------------------- diplomacy
    _o(
        "mean_relations",
        "mean diplomatic relations",
        "index 0-1",
        "higher",
        "Mean diplomatic relations between states, averaged over the window's days.",
    ),
    _o(
        "coordination_meetings",
        "coordination meetings",
        "meetings",
        "neither",
        "Coordination meetings held between pairs of states.",
    ),
    _o(
        "capacity_building_delivered",
        "capacity building delivered",
        "budget units",
        "neither",
        "Capacity transferred to low-capacity states by the coordinating body.",
    ),
    # ----------------------------------------------------------------- adoption and agreements
    _o(
        "adoption_share",
        "adoption share",
        "share",
        "neither",
        "Share of a lever's candidate states that had chosen to adopt it by the end of the run "
        "(adoption = endogenous; NaN when the lever is imposed or off).",
        keys="adoptable lever",
    ),
    _o(
        "mean_days_to_adopt",
        "mean time to adopt",
        "days",
        "neither",
        "Mean days from a lever's start to adoption, candidates that adopted (NaN if none).",
        keys="adoptable lever",
    ),
    _o(
        "agreements_proposed",
        "agreements proposed",
        "agreements",
        "neither",
        "Bilateral agreements proposed by pairs with unmet needs in the window.",
    ),
    _o(
        "agreements_concluded",
        "agreements concluded",
        "agreements",
        "higher",
        "Negotiations that ended in the window with provisions both sides accepted.",
    ),
    _o(
        "agreements_failed",
        "agreements failed",
        "agreements",
        "lower",
        "Negotiations that ended in the window without agreement.",
    ),
    _o(
        "agreements_in_force",
        "agreements in force at end",
        "agreements",
        "higher",
        "Negotiated agreements ratified and in force as bilateral treaties at the end.",
    ),
    # ----------------------------------------------------------------- equity
    _o(
        "completion_rate_by_capacity_group",
        "completion rate",
        "share",
        "higher",
        "Share of requests from states of this capacity group that end executed (Aalen-Johansen).",
        keys="capacity group of the requesting state",
    ),
    _o(
        "median_response_days_by_capacity_group",
        "median response time",
        "days",
        "lower",
        "Kaplan-Meier median days to an answer, requests from states of this group.",
        keys="capacity group of the requesting state",
    ),
    _o(
        "completion_rate_by_requested_capacity_group",
        "completion rate (as requested state)",
        "share",
        "higher",
        "Share of requests sent to states of this capacity group that end executed "
        "(Aalen-Johansen).",
        keys="capacity group of the requested state",
    ),
    _o(
        "median_response_days_by_requested_capacity_group",
        "median response time (as requested state)",
        "days",
        "lower",
        "Kaplan-Meier median days to an answer, requests sent to states of this group.",
        keys="capacity group of the requested state",
    ),
    _o(
        "case_resolution_rate_by_capacity_group",
        "case resolution rate",
        "share",
        "higher",
        "Share of cases opened by states of this group that end resolved (Aalen-Johansen).",
        keys="capacity group of the state opening the case",
    ),
    _o(
        "capacity_by_capacity_group",
        "mean capacity",
        "budget units",
        "neither",
        "Mean capacity of the states of this capacity group.",
        keys="capacity group",
    ),
)

REGISTRY: dict[str, OutcomeInfo] = {e.name: e for e in ENTRIES}

# Readable forms of breakdown keys where replacing "_" by " " is not enough.
KEY_LABELS = {
    "mla_evidence": "MLA evidence",
    "mla_fallback": "MLA fallback",
    "contact_point_24_7": "contact point 24/7",
    "low": "low-capacity states",
    "middle": "middle-capacity states",
    "high": "high-capacity states",
}
