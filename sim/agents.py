"""States and their agencies as Mesa agents.

An agency owns its policy: a capacity (work units a day), a queue with a
discipline, staff skill and technology. Requests themselves are rows in the
ledger. Inside a model, each agency's numbers live in one row of the model's
:class:`AgencyTable` and the waiting requests of every agency of a queue family
sit in one :class:`QueuePool`, so that a day serves every agency at once; an
agency made on its own keeps its requests in a :class:`RequestQueue` and serves
them one at a time with :meth:`Agency.take_today`: the reference the vectorised
queues are tested against (tests/test_queue_reference.py).
"""

from __future__ import annotations

import heapq
from typing import TYPE_CHECKING

import mesa

from sim.queues import (  # noqa: F401  (re-exported: defined here first)
    NO_QUEUE,
    QUEUE_ROLES,
    ROLE_CODES,
    AgencyTable,
    QueuePool,
    RequestQueue,
    queue_priority,
    staffed_capacity,
)

if TYPE_CHECKING:
    from sim.model import CooperationModel


def _column(name: str, doc: str) -> property:
    """A property reading and writing an agency's row of its :class:`AgencyTable`."""

    def fget(self) -> float:
        return getattr(self._table, name).item(self.index)

    def fset(self, value: float) -> None:
        getattr(self._table, name)[self.index] = value

    return property(fget, fset, doc=doc)


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
        self.discipline = discipline
        self.technology = float(technology)
        # Inside a CooperationModel the numbers live in the model's table and the queue
        # in its pools; an agency made on its own keeps a private row and a heap.
        table = getattr(model, "agency_table", None)
        self._own_queue = RequestQueue() if table is None else None
        self._table = table if table is not None else AgencyTable(1)
        self.index = self._table.add(
            float(capacity_per_day),
            float(skill),
            ROLE_CODES.get(self.queue_family, NO_QUEUE),
            self.role == "national_security_court",
        )
        state.agencies[self.role] = self

    queue_family = ""  # central_authority, court or law_enforcement for queueing agencies

    capacity_per_day = _column("capacity", "Work units the agency can start a day.")
    credit = _column("credit", "Unused capacity carried within a day.")
    effort = _column("effort", "Work units spent over the run.")
    skill = _column("skill", "Staff skill (0-1).")

    @property
    def queue(self) -> RequestQueue | _PooledQueue:
        """The agency's queue (inside a model: its share of the model's queue pool)."""
        if self._own_queue is not None:
            return self._own_queue
        return _PooledQueue(self._table, self.index)

    def priority(self, severity: float, partner_trust: float, arrival_day: int) -> float:
        """Queue priority of a request (lower is served first) under this agency's discipline."""
        # Partners this state trusts (they served it well) are served first.
        return float(queue_priority(self.discipline, severity, partner_trust, arrival_day))

    def take_today(self, is_live) -> list[int]:
        """Take as many waiting requests as today's capacity allows.

        Capacity accumulates as credit, so an agency with 0.25 requests a day
        serves one every four days and one with 2.5 serves 2 and 3 in turn. Only
        the fraction of a request left over carries to the next day, and a day with
        nothing waiting leaves the credit as it is: an idle agency banks nothing.

        This is the reference rule, one request at a time, for an agency on its
        own; inside a model ``CooperationModel._run_day`` serves all agencies
        of a queue family at once, and tests/test_queue_reference.py holds it to
        this method (same requests, same order, same credit and effort).

        Args:
            is_live: Whether a request id is still open (closed ones are skipped).

        Returns:
            The request ids taken today, in service order.
        """
        queue = self._own_queue
        if queue.waiting == 0:
            return []
        capacity = self.capacity_per_day
        credit = self.credit % 1.0 + capacity
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


class _PooledQueue:
    """What an agency inside a model sees of its queue: how many requests wait."""

    def __init__(self, table: AgencyTable, index: int):
        self.waiting = int(table.waiting[index])

    def __len__(self) -> int:
        return self.waiting


class CentralAuthority(Agency):
    """Receives and reviews incoming MLA and extradition requests."""

    role = "central_authority"
    queue_family = "central_authority"


class LawEnforcement(Agency):
    """Executes requests: gathers evidence, arrests and surrenders persons."""

    role = "law_enforcement"
    queue_family = "law_enforcement"


class Court(Agency):
    """Judicial review of extraditions and coercive measures."""

    role = "court"
    queue_family = "court"


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
