"""Case-study interventions beyond the formal channels: coordinated operations and agreements.

Two levers of the seed's case studies act here, each only through mechanisms the
model already has:

- A **coordinated operation** (lever ``coordinated_operation``): for a limited time a
  coordinating body works with the national agencies of the participating states
  on cases of the targeted types that originate in a participant (the operation's
  cases). Their requests to one another go first in every queue; the body passes
  their intelligence items on to every other participant, who share more readily.
  INTERPOL also intensifies the searches for persons sought in those cases: each
  participant has a daily chance to locate every person still sought on its
  territory (a notice or diffusion not yet successful), and notice requests of
  participants are reviewed faster. UNODC instead brings the states of an
  operation case that needs another participant into a joint team at a lower
  severity and trust. When the operation
  ends, everything is as before; its arrests and teams carry on.
- A **bilateral agreement** (lever ``counterterrorism_agreement``): every pair of its
  parties gets a bilateral treaty (the legal basis of their requests), a commitment
  to offer each other the intelligence items of covered cases and to share them more
  readily, and joint work: joint teams between them for covered cases with fewer
  states, at a lower severity and a lower trust.

The rules are the small functions at the top; :class:`Operations` holds what is in
force and is called by the model (queues, teams), the intelligence services (sharing)
and the INTERPOL secretariat (reviews, searches). Their outcomes are measured in
:mod:`sim.case_outcomes`, on the plans :func:`plans_of` gives, so that a test can
measure the same thing in a run without the intervention.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.interpol import NoticeStatus
from sim.requests import CaseStatus
from sim.scenario import CASE_TYPES, DAYS_PER_YEAR

if TYPE_CHECKING:
    from sim.contracts import OperationsHost

# Statuses of a search that has not (yet) found its person.
_CIRCULATING, _NOT_LOCATED = int(NoticeStatus.CIRCULATING), int(NoticeStatus.NOT_LOCATED)


def in_window(day: int, start_day: int, end_day: int) -> bool:
    """Whether ``day`` falls inside an operation running from ``start_day`` to ``end_day``."""
    return start_day <= day < end_day


def type_mask(case_types: list[str]) -> np.ndarray:
    """A boolean mask over :data:`~sim.scenario.CASE_TYPES` of the listed types."""
    return np.array([t in case_types for t in CASE_TYPES])


def raised_share_probability(p, uplift):
    """Sharing chance after a commitment closes the share ``uplift`` of the gap to 1."""
    p = np.asarray(p, dtype=float)
    return p + np.asarray(uplift) * (1.0 - p)


def shortened_review(days, speedup):
    """Review days of a notice request the coordinator handles first."""
    return np.asarray(days, dtype=float) * (1.0 - np.asarray(speedup))


def search_hazard(on_participant, targeted, case_open, *, hazard):
    """Daily chance that a participant locates a person still sought on its territory.

    Args:
        on_participant: The person is sought in a participating state (an INTERPOL member).
        targeted: The case is of a type the operation targets.
        case_open: The case is still open (a person found for a closed case is of no use).
        hazard: The operation's daily chance per person sought.

    Returns:
        Probability per search, 0 where the operation does not search.
    """
    return np.where(
        np.asarray(on_participant) & np.asarray(targeted) & np.asarray(case_open), hazard, 0.0
    )


def pair_matrix(parties: np.ndarray, n_states: int) -> np.ndarray:
    """Every unordered pair of distinct ``parties`` as a symmetric (n, n) boolean matrix."""
    member = np.zeros(n_states, dtype=bool)
    member[parties] = True
    pairs = member[:, None] & member[None, :]
    np.fill_diagonal(pairs, False)
    return pairs


@dataclass
class OperationPlan:
    """A coordinated operation: who, on what, when, and how.

    Attributes:
        participant: Participating states (boolean per state).
        targeted: Targeted case types (boolean per case type).
        start_day: First day of the operation.
        end_day: First day after it.
        params: The lever section (coordinator and how the operation acts).
    """

    participant: np.ndarray
    targeted: np.ndarray
    start_day: int
    end_day: int
    params: Any

    @classmethod
    def from_lever(cls, params, targets: np.ndarray, n_states: int, start_day: int):
        """The plan of a ``coordinated_operation`` section for its resolved target states."""
        participant = np.zeros(n_states, dtype=bool)
        participant[targets] = True
        end = start_day + max(1, int(round(params.duration_days)))
        return cls(participant, type_mask(params.case_types), start_day, end, params)

    def cases(self, origin: np.ndarray, case_type: np.ndarray) -> np.ndarray:
        """Which cases are the operation's: a targeted type, from a participant."""
        return self.participant[origin] & self.targeted[case_type]


@dataclass
class AgreementPlan:
    """A bilateral agreement between pairs of parties.

    Attributes:
        pair: Symmetric (n, n) matrix of the pairs of parties.
        covered: Covered case types (boolean per case type).
        params: The lever section (its provisions).
    """

    pair: np.ndarray
    covered: np.ndarray
    params: Any

    @classmethod
    def from_lever(cls, params, targets: np.ndarray, n_states: int):
        """The plan of a ``counterterrorism_agreement`` section for its target states."""
        return cls(pair_matrix(targets, n_states), type_mask(params.case_types), params)


class Operations:
    """The operation and the agreement in force, as the stages of the model see them.

    Args:
        model: The model whose world, cases and records are read.

    Attributes:
        operation: The coordinated operation once its lever took effect, else None.
        agreement: The bilateral agreement once its lever took effect, else None.
    """

    def __init__(self, model: OperationsHost):
        self.model = model
        self.operation: OperationPlan | None = None
        self.agreement: AgreementPlan | None = None
        self._found: set[int] = set()  # searches the operation located (report under way)
        self._no_terms: tuple | None = None  # _no_arrays' arrays, made once

    # ------------------------------------------------------------ levers take effect
    def start_operation(self, targets: np.ndarray, params) -> None:
        """The coordinated operation starts today (its lever's effect)."""
        m = self.model
        self.operation = OperationPlan.from_lever(params, targets, m.world.n_states, m.day)

    def sign_agreement(self, targets: np.ndarray, params) -> None:
        """The bilateral agreement comes into force today (its lever's effect)."""
        m = self.model
        self.agreement = AgreementPlan.from_lever(params, targets, m.world.n_states)
        if params.bilateral_treaty:
            for a, b in zip(*np.nonzero(np.triu(self.agreement.pair)), strict=True):
                m.world.add_treaty(int(a), int(b))

    def running(self, coordinator: str | None = None) -> OperationPlan | None:
        """The operation if it runs today (and has that coordinator), else None."""
        op = self.operation
        if op is None or not in_window(self.model.day, op.start_day, op.end_day):
            return None
        if coordinator is not None and op.params.coordinator != coordinator:
            return None
        return op

    # ------------------------------------------------------------ queues
    def first_in_queue(self, ids: np.ndarray) -> np.ndarray | None:
        """Which requests go first in a queue as the operation's work (None: no such)."""
        op = self.running()
        if op is None or not op.params.prioritise_requests:
            return None
        m = self.model
        led = m.ledger
        a, b = led.requesting_state[ids], led.requested_state[ids]
        case = led.case[ids]
        return (
            op.cases(m.cases.origin[case], m.cases.case_type[case])
            & op.participant[b]
            & (op.participant[a])
        )

    def queue_terms(self) -> tuple[np.ndarray, np.ndarray, bool]:
        """The operation whose requests go first in every queue, as the kernels take it.

        Returns:
            ``(participant, targeted, prioritise)``; all False when no operation that
            prioritises requests runs today.
        """
        op = self.running()
        if op is not None and op.params.prioritise_requests:
            return op.participant, op.targeted, True
        no_states, no_types, _ = self._no_arrays()
        return no_states, no_types, False

    # ------------------------------------------------------------ intelligence
    def intelligence_terms(self) -> tuple:
        """What the operation and the agreement change in intelligence sharing, as arrays.

        The coordinator passes the items of an operation case (a targeted type, from a
        participant) to every other participant, who share them more readily (the
        operation's ``intel_share_uplift``); a party offers the items of a covered case
        to its partners in the agreement and shares them more readily (its
        ``share_commitment``; where both apply, the stronger holds). The compiled
        sharing (:mod:`sim.kernel_intelligence`) applies them.

        Returns:
            ``(op_participant, op_targeted, op_uplift, ag_pair, ag_covered,
            ag_commitment)``: all False and 0 for an operation not running today or an
            agreement not in force.
        """
        op, ag = self.running(), self.agreement
        no_states, no_types, no_pairs = self._no_arrays()
        return (
            op.participant if op is not None else no_states,
            op.targeted if op is not None else no_types,
            float(op.params.intel_share_uplift) if op is not None else 0.0,
            ag.pair if ag is not None else no_pairs,
            ag.covered if ag is not None else no_types,
            float(ag.params.share_commitment) if ag is not None else 0.0,
        )

    def _no_arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """All-False arrays of states, case types and pairs: terms with nothing in force."""
        n = self.model.world.n_states
        if self._no_terms is None or self._no_terms[0].size != n:
            self._no_terms = (
                np.zeros(n, dtype=bool),
                np.zeros(len(CASE_TYPES), dtype=bool),
                np.zeros((n, n), dtype=bool),
            )
        return self._no_terms

    # ------------------------------------------------------------ joint teams
    def team_terms(self) -> tuple:
        """What a UNODC operation and the agreement change in team proposals, as arrays.

        UNODC brings the states of an operation case that needs another participant into
        a joint team at a lower size, severity and trust; an agreement does the same for
        a covered case of one party that needs another party
        (:func:`sim.kernel_teams.team_terms` applies them).

        Returns:
            ``(op_participant, op_targeted, op_min_states, op_threshold_reduction,
            op_trust_reduction, ag_pair, ag_covered, ag_min_states,
            ag_threshold_reduction, ag_trust_reduction)``; all False and 0 for a UNODC
            operation not running today or an agreement not in force.
        """
        op, ag = self.running("unodc"), self.agreement
        no_states, no_types, no_pairs = self._no_arrays()

        def terms(parties, covered, params) -> tuple:
            if params is None:
                return (parties, covered, 0, 0.0, 0.0)
            return (
                parties,
                covered,
                int(params.team_min_states),
                float(params.team_threshold_reduction),
                float(params.team_trust_reduction),
            )

        if op is None:
            op_terms = terms(no_states, no_types, None)
        else:
            op_terms = terms(op.participant, op.targeted, op.params)
        if ag is None:
            ag_terms = terms(no_pairs, no_types, None)
        else:
            ag_terms = terms(ag.pair, ag.covered, ag.params)
        return (*op_terms, *ag_terms)

    # ------------------------------------------------------------ INTERPOL
    def interpol_terms(self) -> tuple:
        """An INTERPOL operation's faster reviews, as the compiled searches take them.

        Notice requests of the operation's cases (a targeted type, from a participant)
        are reviewed in the share ``1 - review_speedup`` of the usual time
        (:func:`shortened_review`; :func:`sim.kernel_interpol.start_searches`).

        Returns:
            ``(participant, targeted, review_speedup)``; all False and 0 when no
            INTERPOL operation runs today.
        """
        op = self.running("interpol")
        if op is not None:
            return op.participant, op.targeted, float(op.params.review_speedup)
        no_states, no_types, _ = self._no_arrays()
        return no_states, no_types, 0.0

    def intensifies_searches(self) -> bool:
        """Whether an INTERPOL operation whose participants search themselves runs today."""
        op = self.running("interpol")
        return op is not None and op.params.search_hazard_per_day > 0

    def intensified_searches(self) -> np.ndarray:
        """Today's draws of an INTERPOL operation: the searches its participants succeed in.

        Every search not yet successful (circulating, or given up) for a person on a
        participant's territory in a targeted case, whose case is still open, has the
        operation's daily chance. Returns the record ids of the searches that succeed
        today (each is reported once); empty when no INTERPOL operation runs.
        """
        if not self.intensifies_searches():
            return np.zeros(0, dtype=np.int64)
        op = self.running("interpol")
        m = self.model
        record = m.interpol.record
        status = record["status"]
        waiting = np.flatnonzero((status == _CIRCULATING) | (status == _NOT_LOCATED))
        if self._found:
            waiting = waiting[~np.isin(waiting, np.fromiter(self._found, np.int64))]
        if waiting.size == 0:
            return waiting
        where = record.located_in[waiting].astype(np.int64)
        case = record.case[waiting]
        p = search_hazard(
            op.participant[where] & m.world.interpol_member[where],
            op.targeted[m.cases.case_type[case]],
            m.cases.status[case] == CaseStatus.OPEN,
            hazard=op.params.search_hazard_per_day,
        )
        candidates = p > 0
        waiting, p = waiting[candidates], p[candidates]
        found = waiting[m.rng.random(waiting.size) < p]
        self._found.update(found.tolist())
        return found


def plans_of(model: OperationsHost, scenario) -> tuple[OperationPlan | None, AgreementPlan | None]:
    """The plans a scenario's levers would put in force in ``model``'s world.

    For measuring, in a run without the intervention, what the intervention is
    measured on (the same participants, case types and window).
    """
    from sim.reforms import resolve_targets  # deferred: reforms applies these plans

    n = model.world.n_states
    source = scenario.source or "<scenario>"
    op = ag = None
    p = scenario.coordinated_operation
    if p.enabled:
        targets = resolve_targets(p.applies_to, model.world, "coordinated_operation", source)
        start = model.window_start + int(round(p.start_year * DAYS_PER_YEAR))
        op = OperationPlan.from_lever(p, targets, n, start)
    q = scenario.counterterrorism_agreement
    if q.enabled:
        targets = resolve_targets(q.applies_to, model.world, "counterterrorism_agreement", source)
        ag = AgreementPlan.from_lever(q, targets, n)
    return op, ag
