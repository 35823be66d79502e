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
import numpy as np

if TYPE_CHECKING:
    from sim.model import CooperationModel

# Queue families: the code of each agency class in AgencyTable.role.
ROLE_CODES = {"central_authority": 0, "court": 1, "law_enforcement": 2}
QUEUE_ROLES = tuple(ROLE_CODES)  # the agencies with queues, in code order
NO_QUEUE = 3


def staffed_capacity(
    expected_per_day: np.ndarray,
    budget: np.ndarray,
    staffing: float,
    budget_exponent: float,
    floor: float,
) -> np.ndarray:
    """Requests a day a central authority can review, staffed for the demand it expects.

    States staff their central authority for the requests they expect to receive,
    and richer states more generously, so that in the baseline each authority runs
    below saturation and its load follows how open and how rich the state is.

    Args:
        expected_per_day: Requests a day the gravity rule is expected to send each state.
        budget: Each state's capacity relative to the median (1 = median state).
        staffing: Capacity per expected request a day at the median budget.
        budget_exponent: Power of the budget in the staffing ratio.
        floor: Smallest capacity any agency has.
    """
    return np.maximum(floor, staffing * expected_per_day * budget**budget_exponent)


class AgencyTable:
    """Per-agency numbers as arrays, one row per agency, so days are served in batches.

    Attributes:
        capacity: Work units each agency can start a day.
        credit: Unused capacity carried within a day (fractional capacities).
        effort: Work units spent over the run.
        arrived: Requests that joined the agency's queue in the measurement window.
        capacity_days: The agency's capacity summed over the window's days (its offer).
        skill: Staff skill (0-1).
        waiting: Live requests in each agency's queue.
        role: Queue family code (:data:`ROLE_CODES`, or ``NO_QUEUE``).
        nsc: Whether the agency is a national security court.
    """

    _FIELDS = {
        "capacity": np.float64,
        "credit": np.float64,
        "effort": np.float64,
        "arrived": np.float64,
        "capacity_days": np.float64,
        "skill": np.float64,
        "waiting": np.int64,
        "role": np.int8,
        "nsc": np.bool_,
    }

    def __init__(self, initial_capacity: int = 16):
        self.size = 0
        for name, dtype in self._FIELDS.items():
            setattr(self, name, np.zeros(max(1, initial_capacity), dtype=dtype))

    def add(self, capacity: float, skill: float, role: int, nsc: bool) -> int:
        """Add a row; returns its index."""
        if self.size == self.capacity.size:
            for name in self._FIELDS:
                old = getattr(self, name)
                new = np.zeros(2 * old.size, dtype=old.dtype)
                new[: old.size] = old
                setattr(self, name, new)
        k = self.size
        self.capacity[k], self.skill[k], self.role[k], self.nsc[k] = capacity, skill, role, nsc
        self.size += 1
        return k


class QueuePool:
    """The waiting requests of every agency of one queue family, in service order.

    Entries are kept sorted by (agency, deadline class, priority, arrival
    sequence) as 16-byte keys that compare as bytes, so the day's arrivals are
    merged in with one binary search and each agency's next requests are the
    first entries of its block: a day costs what arrives and what leaves, not
    what waits. Requests that close while waiting are dropped at the next
    service (:meth:`purge`).
    """

    _KEY = np.dtype([("group", ">u4"), ("priority", ">u8"), ("sequence", ">u4")])

    def __init__(self) -> None:
        self.keys = np.empty(0, dtype="S16")
        self.ids = np.empty(0, dtype=np.int64)
        self.agency = np.empty(0, dtype=np.int64)
        self._arrivals: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self._sequence = 0
        self.dirty = False  # some entries closed while waiting

    def push(
        self, ids: np.ndarray, agencies: np.ndarray, deadline_class: np.ndarray, priority
    ) -> None:
        """Add requests; lower (deadline class, priority) is served first, ties in arrival order."""
        n = ids.size
        key = np.empty(n, dtype=self._KEY)
        key["group"] = agencies * 2 + deadline_class
        # + 0.0 turns -0.0 into 0.0: equal priorities must give equal keys.
        bits = (np.asarray(priority, dtype=np.float64).reshape(-1) + 0.0).view(np.uint64)
        if bits.size == 1 and n > 1:
            bits = np.full(n, bits[0])
        # Order-preserving map of floats onto unsigned integers.
        key["priority"] = np.where(bits >> np.uint64(63), ~bits, bits | np.uint64(1 << 63))
        key["sequence"] = np.arange(self._sequence, self._sequence + n, dtype=np.uint64)
        self._sequence += n
        self._arrivals.append((key.view("S16"), ids, agencies))

    def merge(self) -> None:
        """Merge the arrivals since the last service into the ordered entries."""
        if not self._arrivals:
            return
        if len(self._arrivals) == 1:
            keys, ids, agencies = self._arrivals[0]
        else:
            keys = np.concatenate([a[0] for a in self._arrivals])
            ids = np.concatenate([a[1] for a in self._arrivals])
            agencies = np.concatenate([a[2] for a in self._arrivals])
        self._arrivals = []
        order = keys.argsort()
        keys, ids, agencies = keys[order], ids[order], agencies[order]
        if self.keys.size == 0:
            self.keys, self.ids, self.agency = keys, ids, agencies
            return
        # The new entries' places in the merged arrays; the old ones fill the rest
        # (what np.insert does, once for all three arrays).
        at = self.keys.searchsorted(keys) + np.arange(keys.size)
        old = np.ones(self.keys.size + keys.size, dtype=bool)
        old[at] = False
        for name, new in (("keys", keys), ("ids", ids), ("agency", agencies)):
            merged = np.empty(old.size, dtype=new.dtype)
            merged[at] = new
            merged[old] = getattr(self, name)
            setattr(self, name, merged)

    def purge(self, outcome: np.ndarray) -> None:
        """Drop entries whose request closed (``outcome`` is the ledger's outcome column).

        Reads only the waiting entries' outcomes, so it costs what waits, not the
        whole ledger.
        """
        keep = outcome[self.ids] == 0  # Outcome.OPEN
        if not keep.all():
            self.keys, self.ids, self.agency = self.keys[keep], self.ids[keep], self.agency[keep]
        self.dirty = False

    def take(self, agencies: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Remove and return the first ``counts[k]`` entries of each agency ``agencies[k]``.

        Args:
            agencies: Agencies that serve today, in increasing order.
            counts: How many each takes (no more than it has waiting).

        Returns:
            Request ids and their agencies, agency by agency in service order.
        """
        starts = self.agency.searchsorted(agencies)
        total = int(counts.sum())
        offsets = counts.cumsum() - counts
        rows = (starts - offsets).repeat(counts) + np.arange(total)
        ids, owners = self.ids[rows], self.agency[rows]
        keep = np.ones(self.ids.size, dtype=bool)
        keep[rows] = False
        self.keys, self.ids, self.agency = self.keys[keep], self.ids[keep], self.agency[keep]
        return ids, owners

    def __len__(self) -> int:
        return self.ids.size + sum(a[1].size for a in self._arrivals)


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


def queue_priority(discipline: str, severity, partner_trust, arrival_day):
    """Queue priority of requests (lower is served first) under a queue discipline.

    Args:
        discipline: ``fifo`` (by arrival day), ``severity`` (most severe first) or
            ``reciprocity`` (partners this state trusts first).
        severity: Severity of each request (0-1).
        partner_trust: The requested state's trust in the requesting state (0-1).
        arrival_day: Day the request joined the queue.

    Returns:
        Priority values (arrays broadcast).
    """
    if discipline == "severity":
        return -np.asarray(severity, dtype=float)
    if discipline == "reciprocity":
        return -np.asarray(partner_trust, dtype=float)
    return np.asarray(arrival_day, dtype=float)


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
        own; inside a model ``CooperationModel._serve_queues`` serves all agencies
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
