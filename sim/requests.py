"""Requests: their kinds, lifecycle stages, outcomes, and the columnar ledger.

Requests are high-volume records, not Mesa agents. Each lives as one row in a
:class:`Ledger`, a struct of numpy arrays that grows by doubling, so that a stage
can act on a batch of requests at once and the whole ledger exports to pandas.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np
import pandas as pd

from sim import replaced_arrays

# Storage shared with other record tables; re-exported here, where it was first defined.
from sim.columns import (  # noqa: F401
    ColumnTable,
    RowTable,
    filled,
    sorted_unique,
    spans,
)
from sim.kernel_drafting import link_requests
from sim.kernel_lifecycle import request_ids


class Kind(IntEnum):
    """What is asked for."""

    MLA_EVIDENCE = 0
    EXTRADITION = 1
    RED_NOTICE = 2
    INTEL_QUERY = 3
    E_EVIDENCE = 4
    JIT_PROPOSAL = 5


class Instrument(IntEnum):
    """The legal basis a request relies on, from weakest to strongest."""

    COMITY = 0
    CONVENTION = 1
    BILATERAL_TREATY = 2
    MUTUAL_RECOGNITION = 3


class Channel(IntEnum):
    """How a request travels between states."""

    DIPLOMATIC = 0
    CENTRAL_AUTHORITY = 1
    DIRECT = 2
    INTERPOL = 3
    SECURE_PLATFORM = 4
    JIT = 5
    CONTACT_POINT_24_7 = 6


class Stage(IntEnum):
    """Where a request is in its lifecycle (the next thing that happens to it)."""

    DRAFTING = 0
    TRANSMISSION = 1
    REVIEW_QUEUE = 2
    REVIEW = 3
    CLARIFICATION = 4
    DELIBERATE_DELAY = 5
    JUDICIAL_QUEUE = 6
    JUDICIAL = 7
    EXECUTION_QUEUE = 8
    EXECUTION = 9
    RESPONSE = 10
    CLOSED = 11


class Outcome(IntEnum):
    """Final outcome; OPEN until a request closes, and closed exactly once."""

    OPEN = 0
    EXECUTED = 1
    REFUSED = 2
    LAPSED = 3
    WITHDRAWN = 4


class RefusalGround(IntEnum):
    """Why a request was refused (NONE unless refused)."""

    NONE = 0
    DUAL_CRIMINALITY = 1
    POLITICAL_OFFENCE = 2
    NATIONALITY_BAR = 3
    HUMAN_RIGHTS = 4
    DATA_PROTECTION = 5
    SOVEREIGNTY = 6
    FORM_DEFECT = 7
    FAIR_TRIAL = 8  # for use before a special court without transparency or safeguards
    NE_BIS_IN_IDEM = 9
    IN_ABSENTIA = 10
    PROPORTIONALITY = 11


def label(enum: type[IntEnum], code: int) -> str:
    """Lower-case name of an enum member, as used in outcomes and data frames."""
    return enum(code).name.lower()


# Column name -> dtype. Timestamps are simulated days; -1 means "not reached".
COLUMNS: dict[str, type] = {
    "case": np.int32,
    "kind": np.int8,
    "requesting_state": np.int16,
    "requested_state": np.int16,
    "instrument": np.int8,
    "channel": np.int8,
    "security_case": np.bool_,
    "coercive": np.bool_,
    "consent": np.bool_,
    "national": np.bool_,  # the person sought is a national of the requested state
    "severity": np.float32,
    "political_sensitivity": np.float32,
    "stage": np.int8,
    "outcome": np.int8,
    "refusal_ground": np.int8,
    "clarification_rounds": np.int8,
    "queue_agency": np.int32,
    "t_created": np.int32,
    "t_issued": np.int32,
    "t_received": np.int32,
    "t_decided": np.int32,
    "t_judicial": np.int32,
    "t_executed": np.int32,
    "t_closed": np.int32,
}
TIME_COLUMNS = [c for c in COLUMNS if c.startswith("t_")]


class Ledger(RowTable):
    """All requests of a run, one row of 64 bytes each (:class:`~sim.columns.RowTable`).

    New rows are OPEN, in stage DRAFTING, with every timestamp -1 and no queue.

    Attributes:
        size: Number of requests recorded so far.
    """

    def __init__(self, initial_capacity: int = 1024):
        super().__init__(
            {
                name: (dtype, -1 if name.startswith("t_") or name == "queue_agency" else 0)
                for name, dtype in COLUMNS.items()
            },
            initial_capacity,
        )

    def nbytes(self) -> int:
        """Bytes of the filled rows (the ledger's memory for its requests): 64 a request."""
        return self._dtype.itemsize * self.size

    def to_dataframe(self) -> pd.DataFrame:
        """Export the ledger with readable labels for enums and durations in days."""
        df = pd.DataFrame({name: self.col(name).copy() for name in COLUMNS})
        df.insert(0, "request", np.arange(self.size))
        for name, enum in (
            ("kind", Kind),
            ("instrument", Instrument),
            ("channel", Channel),
            ("stage", Stage),
            ("outcome", Outcome),
            ("refusal_ground", RefusalGround),
        ):
            df[name] = pd.Categorical.from_codes(
                df[name].astype(int), [m.name.lower() for m in enum]
            )
        df = df.drop(columns=["queue_agency"])
        for name in TIME_COLUMNS:
            df[name] = df[name].where(df[name] >= 0)
        df["response_days"] = df["t_closed"] - df["t_issued"]
        df.loc[df["outcome"] != "executed", "response_days"] = np.nan
        return df


class CaseStatus(IntEnum):
    """Where a case stands."""

    OPEN = 0
    RESOLVED = 1  # everything it needed arrived before its deadline
    COLD = 2  # the deadline passed first
    FAILED = 3  # a request it needed was refused


CASE_COLUMNS: dict[str, type] = {
    "origin": np.int16,
    "case_type": np.int8,
    "severity": np.float32,
    "political_sensitivity": np.float32,
    "t_created": np.int32,
    "t_deadline": np.int32,
    "t_closed": np.int32,
    "needed": np.int16,
    "received": np.int16,
    "status": np.int8,
}


class CaseBook(RowTable):
    """All cases of a run, one row of 32 bytes each, plus each case's request ids."""

    def __init__(self, initial_capacity: int = 1024):
        super().__init__(
            {
                name: (dtype, -1 if name == "t_closed" else 0)
                for name, dtype in CASE_COLUMNS.items()
            },
            initial_capacity,
            row_bytes=32,
        )
        # Each case's requests: a run of consecutive ids (those drafted with the case)
        # plus, rarely, later ones (an extradition after an arrest, e-evidence's formal
        # route), kept per case as a linked list in the order they came: the case's first
        # in ``extra_first`` (-1: none), each one's next in ``extra_next`` (-1: the last),
        # its request in ``extra_request``, each case's last in ``extra_last``. A lookup
        # follows one case's list, not every later request of the run, and the arrays
        # grow by doubling (the kernels' struct holds them, and the kernels add extras
        # too, :func:`sim.kernel_drafting.link_requests`: it is rebuilt only when one is
        # replaced). ``extras_used`` counts the extras, as an array the kernels advance.
        self._first = np.full(self._capacity, -1, dtype=np.int64)
        self._count = np.zeros(self._capacity, dtype=np.int64)
        self.extra_first = np.full(self._capacity, -1, dtype=np.int32)
        self.extra_last = np.full(self._capacity, -1, dtype=np.int64)
        self.extra_next = np.full(64, -1, dtype=np.int64)
        self.extra_request = np.zeros(64, dtype=np.int64)
        self.extras_used = np.zeros(1, dtype=np.int64)
        # The slot of each case's joint team in sim.teams.TeamFormation's arrays (-1:
        # none), written when the team forms, for the kernel that ends cases to find it.
        self.team_slot = np.full(self._capacity, -1, dtype=np.int32)
        self.requests = _CaseRequests(self)

    def _grow(self, needed: int) -> None:
        old_size = self.size
        per_case = (
            ("_first", -1),
            ("_count", 0),
            ("extra_first", -1),
            ("extra_last", -1),
            ("team_slot", -1),
        )
        replaced_arrays.note(*(getattr(self, name) for name, _ in per_case))
        super()._grow(needed)
        for name, fill in per_case:
            old = getattr(self, name)
            new = filled(self._capacity, fill, old.dtype)
            new[:old_size] = old[:old_size]
            setattr(self, name, new)

    @property
    def n_extra(self) -> int:
        """Requests kept as extras (after their case's run)."""
        return int(self.extras_used[0])

    def reserve_extras(self, k: int) -> None:
        """Make room for ``k`` more extras (a kernel may add them)."""
        e = self.n_extra
        size = self.extra_next.size
        while e + k > size:
            size *= 2
        if size > self.extra_next.size:
            grow = size - self.extra_next.size
            replaced_arrays.note(self.extra_next, self.extra_request)
            self.extra_next = np.concatenate([self.extra_next, np.full(grow, -1, dtype=np.int64)])
            self.extra_request = np.concatenate([self.extra_request, np.zeros(grow, np.int64)])

    def add_requests(self, case_ids: np.ndarray, request_ids: np.ndarray) -> None:
        """Record that requests ``request_ids`` belong to cases ``case_ids``.

        A case's first request starts its run; later ones are kept as extras
        (:func:`sim.kernel_drafting.link_requests`, which drafting calls itself).
        """
        case_ids = np.ascontiguousarray(case_ids, dtype=np.int64)
        self.reserve_extras(case_ids.size)
        link_requests(
            self._first,
            self._count,
            self.extra_first,
            self.extra_last,
            self.extra_next,
            self.extra_request,
            self.extras_used,
            case_ids,
            np.ascontiguousarray(request_ids, dtype=np.int64),
        )

    @property
    def request_runs(self) -> tuple[np.ndarray, np.ndarray]:
        """Each case's first request and how many follow in a run (extras aside), by case id."""
        return self._first, self._count

    def request_ids(self, case_ids: np.ndarray) -> np.ndarray:
        """Ids of every request of the given cases."""
        case_ids = np.ascontiguousarray(case_ids, dtype=np.int64)
        extras = (self.extra_first, self.extra_next, self.extra_request)
        return request_ids(self._first, self._count, extras, case_ids)

    def to_dataframe(self, case_types: tuple[str, ...]) -> pd.DataFrame:
        """Export the cases with readable labels."""
        df = pd.DataFrame({name: self.col(name).copy() for name in CASE_COLUMNS})
        df.insert(0, "case", np.arange(self.size))
        df["case_type"] = pd.Categorical.from_codes(df["case_type"].astype(int), case_types)
        df["status"] = pd.Categorical.from_codes(
            df["status"].astype(int), [m.name.lower() for m in CaseStatus]
        )
        df["t_closed"] = df["t_closed"].where(df["t_closed"] >= 0)
        return df


class _CaseRequests:
    """``cases.requests[case]``: the request ids of one case, as a list."""

    def __init__(self, book: CaseBook):
        self._book = book

    def __getitem__(self, case: int) -> list[int]:
        return self._book.request_ids(np.asarray([case])).tolist()

    def __len__(self) -> int:
        return self._book.size


# Codes the daily pipeline compares whole arrays with, as plain ints: numpy compares
# an array with a plain int about twice as fast as with an IntEnum member.
OPEN_CODE = int(Outcome.OPEN)
CASE_OPEN_CODE = int(CaseStatus.OPEN)
EXTRADITION_CODE = int(Kind.EXTRADITION)
MUTUAL_RECOGNITION_CODE = int(Instrument.MUTUAL_RECOGNITION)
JIT_CODE = int(Channel.JIT)
CONTACT_POINT_CODE = int(Channel.CONTACT_POINT_24_7)
NO_GROUND_CODE = int(RefusalGround.NONE)
