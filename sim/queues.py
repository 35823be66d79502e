"""Agencies' numbers and queues as arrays: what lets a day serve every agency at once.

Inside a model, each agency's numbers (capacity, credit, effort, queue length) live
in one row of an :class:`AgencyTable`, and the waiting requests of every agency of
a queue family sit in one :class:`QueuePool`. An agency made on its own keeps its
requests in a :class:`RequestQueue` and serves them one at a time: the reference
the pooled queues are tested against (tests/test_queue_reference.py). The agents
themselves are in :mod:`sim.agents`.
"""

from __future__ import annotations

import heapq

import numpy as np

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
