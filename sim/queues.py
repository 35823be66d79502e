"""Agencies' numbers and queues as arrays: what lets a day serve every agency at once.

Inside a model, each agency's numbers (capacity, credit, effort, queue length) live
in one row of an :class:`AgencyTable`, and the waiting requests of every agency sit
in one :class:`QueuePool`. An agency made on its own keeps its
requests in a :class:`RequestQueue` and serves them one at a time: the reference
the pooled queues are tested against (tests/test_queue_reference.py). The agents
themselves are in :mod:`sim.agents`.
"""

from __future__ import annotations

import heapq

import numpy as np

from sim import replaced_arrays
from sim.kernel_state import Q_NEW, Q_SIZE, PoolArrays

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
            replaced_arrays.note(*(getattr(self, name) for name in self._FIELDS))
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
    """Every agency's waiting requests, in service order, as the compiled queues keep them.

    Entries sorted by (agency and deadline class, priority, arrival sequence) and the
    arrivals not yet merged, in arrays as long as the ledger (a request waits in at
    most one queue at a time); :mod:`sim.kernel_queues` adds, merges, drops and takes
    entries in place.
    """

    def __init__(self, capacity: int = 16) -> None:
        self.counts = np.zeros(4, dtype=np.int64)  # sim.kernel_state: Q_SIZE, Q_NEW, ...
        self._arrays = {name: None for name in PoolArrays._fields[:-1]}
        self._allocate(max(1, int(capacity)), keep=0)

    def _allocate(self, capacity: int, keep: int) -> None:
        replaced_arrays.note(*(a for a in self._arrays.values() if a is not None))
        for name in self._arrays:
            dtype = np.float64 if name.endswith("priority") else np.int64
            new = np.zeros(capacity, dtype=dtype)
            old = self._arrays[name]
            if old is not None:
                new[:keep] = old[:keep]
            self._arrays[name] = new
        self.capacity = capacity

    def arrays(self, capacity: int) -> PoolArrays:
        """The pool's arrays, grown first to hold ``capacity`` requests."""
        if capacity > self.capacity:
            self._allocate(capacity, keep=int(self.counts[:2].max()))
        return PoolArrays(*self._arrays.values(), self.counts)

    @property
    def ids(self) -> np.ndarray:
        """The waiting requests in service order (closed ones not yet dropped included)."""
        return self._arrays["ids"][: self.counts[Q_SIZE]]

    def __len__(self) -> int:
        return int(self.counts[Q_SIZE] + self.counts[Q_NEW])


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
