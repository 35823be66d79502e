"""Schema sections of levers between particular states.

Negotiated bilateral agreements, coordinated operations and an imposed
counter-terrorism agreement (the case studies). Registered with their effects in
:mod:`sim.levers`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import (
    field_validator,
)

from sim.schema_base import (
    CaseTypeList,
    LeverSection,
    P,
    some_case_types,
)


class BilateralAgreementsSection(LeverSection):
    """Lever: bilateral agreements negotiated between pairs of targets (:mod:`sim.negotiation`).

    Every ``review_days``, target pairs without a treaty whose unmet needs reach
    ``need_threshold`` propose an agreement; after ``negotiation_days`` the
    provisions meet each side's concerns (concluded) or not (failed), with a
    logistic probability of relations, the larger sovereignty sensitivity and the
    rights gap; a concluded agreement enters into force as a bilateral treaty
    after ``ratification_days``.
    """

    review_days: float = P(
        180.0,
        1.0,
        3650.0,
        "days",
        "Time between rounds in which pairs with unmet needs may propose an agreement; needs "
        "are read over the same period.",
    )
    need_threshold: int = P(
        3,
        0,
        100000,
        "requests",
        "Unmet needs of a pair over the last period (requests between them refused, lapsed, "
        "or answered or still waiting after trust.expected_response_days) from which it "
        "proposes.",
    )
    negotiation_days: float = P(
        180.0, 0.0, 3650.0, "days", "Time from a proposal to concluded provisions or a failure."
    )
    base_log_odds: float = P(
        0.0,
        -20.0,
        20.0,
        "log-odds",
        "Log-odds that a negotiation concludes between partners with relations 0, no "
        "sovereignty concern and no rights gap.",
    )
    relations_weight: float = P(
        3.0,
        0.0,
        50.0,
        "log-odds/index",
        "Rise in log-odds per unit of the pair's relations (provisions found that meet each "
        "side's concerns).",
    )
    sovereignty_weight: float = P(
        3.0,
        0.0,
        50.0,
        "log-odds/index",
        "Fall in log-odds per unit of the larger of the pair's sovereignty sensitivities.",
    )
    rights_gap_weight: float = P(
        4.0,
        0.0,
        50.0,
        "log-odds/index",
        "Fall in log-odds per unit of the gap between the pair's rights standards.",
    )
    ratification_days: float = P(
        365.0,
        0.0,
        3650.0,
        "days",
        "Time from a concluded agreement to its entry into force as a bilateral treaty.",
    )


class CoordinatedOperationSection(LeverSection):
    """Lever: a time-limited operation a coordinating body runs across participating states.

    From ``start_year`` for ``duration_days`` the body (INTERPOL or UNODC) works with
    the national agencies of ``applies_to`` on cases of ``case_types``: their requests
    to one another go first in every queue, it passes their intelligence on to the
    other participants, and then INTERPOL intensifies the searches for persons sought
    (a daily chance to locate each one, notice requests reviewed faster) while UNODC
    brings the participants into joint teams more easily. Afterwards all is as before.
    """

    coordinator: Literal["interpol", "unodc"] = P(
        "interpol",
        None,
        None,
        "choice",
        "The coordinating body: 'interpol' (searches for persons sought, notices) or "
        "'unodc' (joint work among the participants).",
    )
    case_types: CaseTypeList = P(
        ["terrorism", "drug_trafficking", "organised_crime"],
        None,
        None,
        "case types",
        "Case types the operation targets (of cases originating in a participant).",
    )
    duration_days: float = P(
        120.0, 1.0, 3650.0, "days", "How long the operation runs from its start."
    )
    prioritise_requests: bool = P(
        True,
        None,
        None,
        "switch",
        "Requests between participants in targeted cases go first in the agencies' queues.",
    )
    intel_share_uplift: float = P(
        0.5,
        0.0,
        1.0,
        "share of gap",
        "Share of the gap to certain sharing closed for items of targeted cases passed "
        "between participants (through the coordinator, which offers them to every "
        "participant).",
    )
    search_hazard_per_day: float = P(
        0.01,
        0.0,
        1.0,
        "probability/day",
        "INTERPOL: daily chance a participant locates and arrests a person sought on its "
        "territory in a targeted case (every search not yet successful, notice or diffusion).",
    )
    review_speedup: float = P(
        0.5,
        0.0,
        1.0,
        "share",
        "INTERPOL: share by which the review of participants' notice requests in targeted "
        "cases gets shorter.",
    )
    team_min_states: int = P(
        2,
        2,
        50,
        "states",
        "UNODC: smallest number of states in an operation case that needs another "
        "participant for a joint team.",
    )
    team_threshold_reduction: float = P(
        0.3,
        0.0,
        1.0,
        "index",
        "UNODC: fall in the severity an operation case that needs another participant needs "
        "for a joint team.",
    )
    team_trust_reduction: float = P(
        0.1,
        0.0,
        1.0,
        "index",
        "UNODC: fall in the trust participants need to agree to a team for a targeted case.",
    )

    @field_validator("case_types")
    @classmethod
    def _named_case_types(cls, v: list[str]) -> list[str]:
        return some_case_types(v)


class CounterterrorismAgreementSection(LeverSection):
    """Lever: an imposed, dated bilateral agreement between the states of ``applies_to``.

    Every pair of the target states (a list of two codes for one bilateral agreement)
    gets a bilateral treaty, a commitment to share intelligence on the covered case
    types, and joint work: joint teams between the parties for covered cases with
    fewer states, at a lower severity and a lower trust.
    """

    case_types: CaseTypeList = P(
        ["terrorism"],
        None,
        None,
        "case types",
        "Case types the agreement covers (intelligence sharing and joint work).",
    )
    bilateral_treaty: bool = P(
        True,
        None,
        None,
        "switch",
        "The agreement is a bilateral treaty between the parties (requests use it as legal basis).",
    )
    share_commitment: float = P(
        0.5,
        0.0,
        1.0,
        "share of gap",
        "Share of the gap to certain sharing closed for items of covered cases between the "
        "parties; each party's items of covered cases are offered to the other.",
    )
    team_min_states: int = P(
        2,
        2,
        50,
        "states",
        "Smallest number of states in a covered case of the parties for a joint team.",
    )
    team_threshold_reduction: float = P(
        0.3, 0.0, 1.0, "index", "Fall in the severity a covered case needs for a joint team."
    )
    team_trust_reduction: float = P(
        0.1,
        0.0,
        1.0,
        "index",
        "Fall in the trust the parties need to agree to a joint team for a covered case.",
    )

    @field_validator("case_types")
    @classmethod
    def _named_case_types(cls, v: list[str]) -> list[str]:
        return some_case_types(v)
