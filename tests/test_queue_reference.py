"""The vectorised queues of the model against the one-agency reference queue.

``CooperationModel`` keeps every agency's numbers in an :class:`~sim.agents.AgencyTable`
and the waiting requests of every agency in one :class:`~sim.agents.QueuePool`,
and serves all agencies of a day at once (the compiled ``enqueue`` and ``close`` of
:mod:`sim.kernel_lifecycle` and ``serve_queues`` of :mod:`sim.kernel_queues`).
The reference is an agency on its own: a heap (:class:`~sim.agents.RequestQueue`)
served one request at a time by :meth:`~sim.agents.Agency.take_today`.

Hypothesis feeds both the same days of arrivals, closures in place and services,
and checks that the same requests come out of the same agencies in the same order
on the same day, with the same credit and effort. The model's own methods are
called on a stand-in holding only what they read (the world's arrays come from a
small real model, so the kernels see the types they see in a run), so the code under
test is the code that runs.
"""

from __future__ import annotations

from types import SimpleNamespace

import mesa
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.agents import (
    QUEUE_ROLES,
    ROLE_CODES,
    Agency,
    AgencyTable,
    CentralAuthority,
    Court,
    LawEnforcement,
    QueuePool,
    State,
)
from sim.kernel_lifecycle import close, enqueue
from sim.kernel_queues import serve_queues
from sim.kernel_state import (
    DISCIPLINES,
    K_BACKLOG,
    K_SLOTS,
    O_TAKEN,
    P_DECISION_DEADLINE,
    P_DISCIPLINE,
    P_EXECUTION_DEADLINE,
    P_SURRENDER_DEADLINE,
    P_SURRENDER_DEADLINE_CONSENT,
)
from sim.kernel_struct import new_streams
from sim.model import CooperationModel
from sim.requests import Channel, Ledger, Outcome, Stage
from sim.scenario import load_scenario
from sim.trust import TrustNetwork

ROLE_CLASS = {
    "central_authority": CentralAuthority,
    "court": Court,
    "law_enforcement": LawEnforcement,
}
QUEUE_STAGE = {
    "central_authority": Stage.REVIEW_QUEUE,
    "court": Stage.JUDICIAL_QUEUE,
    "law_enforcement": Stage.EXECUTION_QUEUE,
}
N_STATES = 3
# Severities stored in the ledger are float32: use values it holds exactly, with ties.
SEVERITIES = (0.0, 0.25, 0.5, 0.75, 1.0)


_WORLD = {}


def _small_model() -> CooperationModel:
    """A real model of three states, for arrays of the types a run passes the kernels."""
    if not _WORLD:
        scenario = load_scenario("baseline").with_overrides({"world.n_states": N_STATES})
        _WORLD["model"] = CooperationModel(scenario, rng=0)
    return _WORLD["model"]


class VectorisedQueues:
    """The model's queue machinery on a stand-in model holding only what it reads."""

    def __init__(self, roles: list[str], capacities: list[float], discipline: str, trust):
        self.agency_table = AgencyTable(2)
        for role, capacity in zip(roles, capacities, strict=True):
            self.agency_table.add(capacity, 0.5, ROLE_CODES[role], False)
        self.ledger = Ledger(initial_capacity=8)
        self.pool = QueuePool()
        self.counters = np.zeros(K_SLOTS, dtype=np.int64)
        self.teams = SimpleNamespace(active={})
        self.cases = _small_model().cases  # no case ends here (closures are withdrawals)
        model = _small_model()
        self._model = model
        self._parameters = model._parameters.copy()
        self._parameters[P_DISCIPLINE] = DISCIPLINES.index(discipline)
        self._parameters[P_DECISION_DEADLINE] = 30.0
        self._parameters[P_SURRENDER_DEADLINE_CONSENT] = 10.0
        self._parameters[P_SURRENDER_DEADLINE] = 60.0
        self._parameters[P_EXECUTION_DEADLINE] = 90.0
        # Decay 0: trust stays where it starts, as the reference's fixed matrix.
        self.trust = TrustNetwork(trust, 0.0)
        self.rng = np.random.default_rng(0)  # service times (not compared)
        self.streams = new_streams(self.rng, self.rng)
        self.day = 0
        self.window_start = 0
        self.served: list[tuple[int, int, int]] = []  # (day, agency, request)

    def kernel_state(self, size):
        """The small model's struct, with this stand-in's ledger, trust, agencies and counters."""
        model = self._model
        mine = ("ledger", "trust", "agency_table", "pool", "_parameters", "counters")
        saved = {name: getattr(model, name) for name in mine}
        for name in mine:
            setattr(model, name, getattr(self, name))
        try:
            return model.kernel_state(size)
        finally:
            for name, value in saved.items():
                setattr(model, name, value)

    _file = CooperationModel._file

    def push(self, role: str, agencies, requesting, severity, urgent) -> np.ndarray:
        ids = self.ledger.append(
            requesting_state=requesting,
            requested_state=0,
            severity=severity,
            channel=np.where(urgent, Channel.CONTACT_POINT_24_7, Channel.CENTRAL_AUTHORITY),
        )
        state, out = self.kernel_state(ids.size)
        agencies = np.asarray(agencies, dtype=np.int64)
        role_code, stage = ROLE_CODES[role], int(QUEUE_STAGE[role])
        enqueue(state, ids, agencies, stage, role_code, self.day)
        CooperationModel._file(self, out)
        return ids

    def close(self, ids) -> None:
        ids = np.asarray(ids, dtype=np.int64)
        state, out = self.kernel_state(ids.size)
        close(state, ids, int(Outcome.WITHDRAWN), 0, self.day)
        CooperationModel._file(self, out)

    def serve(self) -> None:
        # Queue service alone (in a model it runs inside sim.kernel_day.run_day).
        waiting = int(self.counters[K_BACKLOG : K_BACKLOG + 3].sum())
        ids = agencies = np.empty(0, dtype=np.int64)
        if waiting:
            state, out = self.kernel_state(waiting)
            serve_queues(state, self.streams, self.agency_table.size, self.day)
            CooperationModel._file(self, out)
            taken = out.filed[O_TAKEN]
            ids, agencies = out.taken_ids[:taken], out.taken_agency[:taken]
        self.served.extend(zip([self.day] * ids.size, agencies.tolist(), ids.tolist(), strict=True))


def run_both(data, discipline: str):
    """Drive both implementations through the same days; return what each served."""
    n_agencies = data.draw(st.integers(1, 4), label="agencies")
    roles = data.draw(
        st.lists(st.sampled_from(QUEUE_ROLES), min_size=n_agencies, max_size=n_agencies)
    )
    capacities = data.draw(
        st.lists(
            st.sampled_from([0.0, 0.1, 0.25, 0.3, 0.7, 1.0, 1.5, 2.5, 3.0]),
            min_size=n_agencies,
            max_size=n_agencies,
        ),
        label="capacities",
    )
    trust = np.asarray(
        data.draw(
            st.lists(st.sampled_from([0.2, 0.5, 0.9]), min_size=N_STATES**2, max_size=N_STATES**2)
        )
    ).reshape(N_STATES, N_STATES)
    fast = VectorisedQueues(roles, capacities, discipline, trust)
    model = mesa.Model(rng=0)
    refs = []
    for role, capacity in zip(roles, capacities, strict=True):
        state = State(model, 0, "S000")
        refs.append(ROLE_CLASS[role](model, state, capacity, discipline, 0.5, 0.5))
    open_in_queue: dict[int, int] = {}  # request -> agency, while it waits
    closed: set[int] = set()
    ref_served: list[tuple[int, int, int]] = []
    days = data.draw(st.integers(1, 12), label="days")
    for day in range(days):
        fast.day = day
        for _ in range(data.draw(st.integers(0, 3), label="batches")):
            agencies = data.draw(st.lists(st.integers(0, n_agencies - 1), min_size=1, max_size=6))
            # A batch goes to agencies of one queue family, as in the model.
            role = roles[agencies[0]]
            agencies = [a for a in agencies if roles[a] == role]
            k = len(agencies)
            requesting = data.draw(st.lists(st.integers(0, N_STATES - 1), min_size=k, max_size=k))
            severity = data.draw(st.lists(st.sampled_from(SEVERITIES), min_size=k, max_size=k))
            urgent = data.draw(st.lists(st.booleans(), min_size=k, max_size=k))
            ids = fast.push(
                role, agencies, np.array(requesting), np.array(severity), np.array(urgent)
            ).tolist()
            for request, agency, req, sev, urg in zip(
                ids, agencies, requesting, severity, urgent, strict=True
            ):
                ref = refs[agency]
                # Urgent requests go first, earliest deadline first: theirs is today.
                priority = day if urg else ref.priority(sev, float(trust[0, req]), day)
                ref.queue.push(request, 0 if urg else 1, priority)
                open_in_queue[request] = agency
        waiting = sorted(open_in_queue)
        if waiting:
            gone = data.draw(st.lists(st.sampled_from(waiting), max_size=3, unique=True))
            fast.close(gone)
            for request in gone:
                refs[open_in_queue.pop(request)].queue.forget()
                closed.add(request)
        fast.serve()
        for agency, ref in enumerate(refs):
            for request in ref.take_today(lambda r: r not in closed):
                ref_served.append((day, agency, request))
                open_in_queue.pop(request)
        for agency, ref in enumerate(refs):
            assert fast.agency_table.credit[agency] == ref.credit, f"day {day}, agency {agency}"
            assert fast.agency_table.effort[agency] == ref.effort
            assert fast.agency_table.waiting[agency] == len(ref.queue)
    return fast.served, ref_served


@settings(max_examples=80, deadline=None)
@given(data=st.data(), discipline=st.sampled_from(["fifo", "severity", "reciprocity"]))
def test_vectorised_queues_serve_as_the_reference_agency(data, discipline):
    fast, ref = run_both(data, discipline)
    assert sorted(fast) == sorted(ref)  # the same requests, the same day, the same agency
    # ... and in the same order within each agency's day.
    for agency in {a for _, a, _ in ref}:
        assert [r for d, a, r in fast if a == agency] == [r for d, a, r in ref if a == agency]


def test_reference_harness_sees_a_wrong_order():
    """The comparison is not vacuous: reversing one agency's service order is caught."""
    fast = VectorisedQueues(["court"], [2.0], "fifo", np.full((N_STATES, N_STATES), 0.5))
    ref = Court(mesa.Model(rng=0), State(mesa.Model(rng=0), 0, "S000"), 2.0, "fifo", 0.5, 0.5)
    ids = fast.push("court", [0, 0], np.array([0, 1]), np.array([0.5, 0.5]), np.array([0, 1]))
    for request, urgent in zip(ids.tolist(), (0, 1), strict=True):
        ref.queue.push(request, 0 if urgent else 1, 0 if urgent else ref.priority(0.5, 0.5, 0))
    fast.serve()
    served_ref = ref.take_today(lambda r: True)
    assert [r for _, _, r in fast.served] == served_ref == [1, 0]  # the urgent one first
    assert isinstance(ref, Agency) and fast.agency_table.credit[0] == ref.credit == 0.0
