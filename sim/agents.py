"""States and their agencies as Mesa agents.

An agency owns its policy: a capacity (work units a day), a queue with a
discipline, staff skill and technology. Requests themselves are rows in the
ledger; an agency's queue holds their ids in priority order.
"""

from __future__ import annotations

import heapq
from typing import TYPE_CHECKING

import mesa

if TYPE_CHECKING:
    from sim.model import CooperationModel


class RequestQueue:
    """A priority queue of request ids with lazy removal.

    Entries are ``(priority, sequence, request)``; lower priority values are
    served first and ``sequence`` keeps ties first-come first-served. A request
    that closes while waiting (its case went cold) stays in the heap and is
    skipped when reached, so removing it costs nothing now. Arrivals and
    departures cost O(log n): a day costs what arrives and leaves, not what waits.
    """

    def __init__(self) -> None:
        self._heap: list[tuple[int, float, int, int]] = []
        self._sequence = 0
        self.waiting = 0  # live requests in the queue

    def push(self, request: int, deadline_class: int, priority: float) -> None:
        """Add a request; ``deadline_class`` 0 (under a deadline) is served before 1."""
        heapq.heappush(self._heap, (deadline_class, priority, self._sequence, request))
        self._sequence += 1
        self.waiting += 1

    def pop_live(self, is_live) -> int | None:
        """Remove and return the first live request, or None when none waits."""
        while self._heap:
            request = heapq.heappop(self._heap)[3]
            if is_live(request):
                self.waiting -= 1
                return request
        return None

    def forget(self) -> None:
        """Note that one waiting request closed in place (it will be skipped when reached)."""
        self.waiting -= 1

    def __len__(self) -> int:
        return self.waiting


class State(mesa.Agent):
    """A state: its attributes live in the world arrays at index ``index``.

    Args:
        model: The model.
        index: Row of this state in the world arrays.
        code: Short name (ISO3 or synthetic).
    """

    def __init__(self, model: CooperationModel, index: int, code: str):
        super().__init__(model)
        self.index = index
        self.code = code
        self.agencies: dict[str, Agency] = {}

    @property
    def capacity(self) -> float:
        """Budget units of the state."""
        return float(self.model.world.capacity[self.index])

    @property
    def has_national_security_court(self) -> bool:
        """Whether security cases go to a specialised national security court."""
        return bool(self.model.world.nsc[self.index])


class Agency(mesa.Agent):
    """An agency of a state with a capacity and a queue.

    Args:
        model: The model.
        state: The owning State.
        capacity_per_day: Work units the agency can start a day.
        discipline: Queue discipline: ``fifo``, ``severity`` or ``reciprocity``.
        skill: Staff skill (0-1).
        technology: Technology level (0-1).
    """

    role = "agency"

    def __init__(
        self,
        model,
        state: State,
        capacity_per_day: float,
        discipline: str,
        skill: float,
        technology: float,
    ):
        super().__init__(model)
        self.state = state
        self.capacity_per_day = float(capacity_per_day)
        self.discipline = discipline
        self.skill = float(skill)
        self.technology = float(technology)
        self.queue = RequestQueue()
        self.credit = 0.0  # unused capacity carried within a day (fractional capacities)
        self.effort = 0.0  # work units spent over the run
        state.agencies[self.role] = self

    def priority(self, severity: float, partner_trust: float, arrival_day: int) -> float:
        """Queue priority of a request (lower is served first) under this agency's discipline."""
        if self.discipline == "severity":
            return -severity
        if self.discipline == "reciprocity":
            # Partners this state trusts (they served it well) are served first.
            return -partner_trust
        return float(arrival_day)

    def take_today(self, is_live) -> list[int]:
        """Take as many waiting requests as today's capacity allows.

        Capacity accumulates as credit, so an agency with 0.25 requests a day
        serves one every four days and one with 2.5 serves 2 and 3 in turn. Only
        the fraction of a request left over carries to the next day: an idle agency
        does not bank capacity.
        """
        capacity = self.capacity_per_day
        credit = self.credit % 1.0 + capacity
        queue = self.queue
        served: list[int] = []
        heap, heappop = queue._heap, heapq.heappop
        while credit >= 1.0 and queue.waiting > 0:
            # RequestQueue.pop_live, inlined: skip requests that closed while waiting.
            request = None
            while heap:
                candidate = heappop(heap)[3]
                if is_live(candidate):
                    queue.waiting -= 1
                    request = candidate
                    break
            if request is None:
                break
            served.append(request)
            credit -= 1.0
        self.credit = credit
        self.effort += len(served)
        return served


class CentralAuthority(Agency):
    """Receives and reviews incoming MLA and extradition requests."""

    role = "central_authority"


class LawEnforcement(Agency):
    """Executes requests: gathers evidence, arrests and surrenders persons."""

    role = "law_enforcement"


class Court(Agency):
    """Judicial review of extraditions and coercive measures."""

    role = "court"


class NationalSecurityCourt(Court):
    """A specialised court for security cases: faster, consistent, may hear classified material."""

    role = "national_security_court"


class IntelligenceService(Agency):
    """Produces intelligence from cases and shares it with partners."""

    role = "intelligence_service"


class InterpolBureau(Agency):
    """INTERPOL national central bureau: requests notices and receives diffusions."""

    role = "interpol_bureau"


AGENCY_ROLES = (
    CentralAuthority,
    LawEnforcement,
    Court,
    NationalSecurityCourt,
    IntelligenceService,
    InterpolBureau,
)
