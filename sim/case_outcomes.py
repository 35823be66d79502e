"""Outcomes of the case-study levers: what a coordinated operation and an agreement achieved.

Each function takes the plan of an operation or an agreement
(:class:`sim.operations.OperationPlan`, :class:`sim.operations.AgreementPlan`), so the
same measures can be taken in a run without the intervention, on the plan the
scenario would have put in force (:func:`sim.operations.plans_of`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.interpol import NoticeStatus
from sim.requests import CaseStatus

if TYPE_CHECKING:
    from sim.model import CooperationModel
    from sim.operations import AgreementPlan, OperationPlan

_LOCATED = int(NoticeStatus.LOCATED)


def operation_outcomes(model: CooperationModel, op: OperationPlan | None) -> dict[str, float]:
    """What an operation achieved, or the same measures for its plan in another run.

    Args:
        model: A model that has run.
        op: The operation's plan; None gives NaN (no operation to measure).

    Returns:
        ``operation_arrests`` (persons sought in targeted cases located in participants
        during the operation), ``operation_cases_resolved`` (the operation's cases
        opened during it and resolved by the end), ``operation_requests`` (requests
        between participants in its cases sent during it), ``operation_intel_shared``
        (items of its cases shared between participants during it) and
        ``operation_joint_teams`` (teams formed during it for its cases with two
        participants or more among their members).
    """
    names = (
        "operation_arrests",
        "operation_cases_resolved",
        "operation_requests",
        "operation_intel_shared",
        "operation_joint_teams",
    )
    if op is None:
        return dict.fromkeys(names, float("nan"))
    m = model
    start, end = op.start_day, op.end_day
    cases = m.cases
    record = m.interpol.record
    located = (record["status"] == _LOCATED) & (record["t_located"] >= start)
    located &= record["t_located"] < end
    located &= op.participant[record["located_in"].astype(np.int64)]
    located &= op.targeted[cases.case_type[record["case"]]]
    origin = cases.col("origin").astype(np.int64)
    mine = op.cases(origin, cases.col("case_type"))
    opened = (cases.col("t_created") >= start) & (cases.col("t_created") < end)
    resolved = mine & opened & (cases.col("status") == CaseStatus.RESOLVED)
    led = m.ledger
    a = led.col("requesting_state").astype(np.int64)
    b = led.col("requested_state").astype(np.int64)
    sent = (led.col("t_issued") >= start) & (led.col("t_issued") < end)
    requests = sent & op.participant[a] & op.participant[b] & mine[led.col("case")]
    shares = m.intelligence.shares
    shared = (shares["t_shared"] >= start) & (shares["t_shared"] < end)
    shared &= op.participant[shares["recipient"].astype(np.int64)]
    shared &= mine[shares["case"]]
    teams = _teams(m)
    formed = [
        (start <= day < end) and mine[case] and op.participant[members].sum() >= 2
        for case, members, day in teams
    ]
    return {
        "operation_arrests": int(located.sum()),
        "operation_cases_resolved": int(resolved.sum()),
        "operation_requests": int(requests.sum()),
        "operation_intel_shared": int(shared.sum()),
        "operation_joint_teams": int(sum(formed)),
    }


def agreement_outcomes(
    model: CooperationModel, ag: AgreementPlan | None, since: int = 0
) -> dict[str, float]:
    """What an agreement's parties did together from day ``since``.

    Args:
        model: A model that has run.
        ag: The agreement's plan; None gives NaN (no agreement to measure).
        since: First day counted (the measurement window's).

    Returns:
        ``agreement_intel_shared`` (items, of any type, one party shared with another),
        ``agreement_joint_teams`` (joint teams with two parties among their members,
        formed) and ``agreement_requests`` (requests between parties sent), each from
        ``since``.
    """
    names = ("agreement_intel_shared", "agreement_joint_teams", "agreement_requests")
    if ag is None:
        return dict.fromkeys(names, float("nan"))
    m = model
    shares = m.intelligence.shares
    pair = ag.pair[shares["sharer"].astype(np.int64), shares["recipient"].astype(np.int64)]
    led = m.ledger
    between = ag.pair[
        led.col("requesting_state").astype(np.int64), led.col("requested_state").astype(np.int64)
    ]
    teams = [
        day >= since and ag.pair[np.ix_(members, members)].any() for _, members, day in _teams(m)
    ]
    return {
        "agreement_intel_shared": int((pair & (shares["t_shared"] >= since)).sum()),
        "agreement_joint_teams": int(sum(teams)),
        "agreement_requests": int((between & (led.col("t_issued") >= since)).sum()),
    }


def _teams(model: CooperationModel) -> list[tuple[int, np.ndarray, int]]:
    """Every team formed in the run: (case, members, day formed)."""
    t = model.teams
    return [
        (case, np.asarray(members, dtype=np.int64), day)
        for case, members, day in zip(t.team_cases, t.team_members, t.team_days, strict=True)
    ]


def outcomes(model: CooperationModel) -> dict[str, float]:
    """The outcomes of the operation and the agreement of a run (NaN where there is none)."""
    ops = model.operations
    return {
        **operation_outcomes(model, ops.operation),
        **agreement_outcomes(model, ops.agreement, since=model.window_start),
    }
