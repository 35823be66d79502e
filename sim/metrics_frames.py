"""Tables of a finished run for figures and files: incidence curves, agency loads, durations.

Each is a pandas DataFrame with one row per group (a request kind, an agency, a
grouping of requests), measured over the window like the outcomes of
:func:`sim.metrics.compute_outcomes`. Two pieces are shared with those outcomes and
live here, below them: the request kinds the outcomes are broken down by
(:data:`OUTCOME_KINDS`) and each agency's offered load (:func:`agency_utilisation`).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim import survival
from sim.agents import ROLE_CODES
from sim.requests import Instrument, Kind, Outcome
from sim.world import CAPACITY_GROUPS

if TYPE_CHECKING:
    from sim.model import CooperationModel

OUTCOME_KINDS = (Kind.MLA_EVIDENCE, Kind.EXTRADITION)


def agency_utilisation(table) -> np.ndarray:
    """Offered load of every agency over the window (NaN for one that offered nothing)."""
    n = table.size
    offered = table.capacity_days[:n]
    return np.divide(table.arrived[:n], offered, out=np.full(n, math.nan), where=offered > 0)


def incidence_frame(model: CooperationModel) -> pd.DataFrame:
    """How requests created in the window and sent end over time: Aalen-Johansen curves.

    Args:
        model: A model that has run.

    Returns:
        Long frame with columns ``kind`` (MLA evidence, extradition), ``time`` (days
        since sending), one column per way of ending (executed, refused, lapsed,
        withdrawn: the share ended that way by then) and ``still_open``; open requests
        are censored at the end of the run.
    """
    led = model.ledger
    issued = led.col("t_issued")
    # The outcomes' cohort (sim.metrics.compute_outcomes): created in the window, sent.
    sent = (issued >= 0) & (led.col("t_created") >= model.window_start)
    kind = led.col("kind")
    frames = []
    for k in OUTCOME_KINDS:
        mine = sent & (kind == k)
        durations, cause = survival.request_durations(
            issued[mine], led.col("t_closed")[mine], led.col("outcome")[mine], model.day
        )
        frames.append(survival.incidence_curves(durations, cause).assign(kind=k.name.lower()))
    return pd.concat(frames, ignore_index=True)


def utilisation_frame(model: CooperationModel) -> pd.DataFrame:
    """Offered load of every queueing agency over the window (see :func:`_utilisation`).

    Returns:
        One row per central authority, court and law-enforcement office: ``state``
        (code), ``role``, ``capacity`` (requests a day at the end) and ``utilisation``.
    """
    table = model.agency_table
    n = table.size
    roles = {code: role for role, code in ROLE_CODES.items()}
    queueing = np.isin(table.role[:n], list(roles))
    codes = np.asarray(model.world.codes)
    states = np.array([a.state.index for a in model.agency_list[:n]])
    return pd.DataFrame(
        {
            "state": codes[states[queueing]],
            "role": np.where(
                table.nsc[:n][queueing],
                "national_security_court",
                [roles[int(r)] for r in table.role[:n][queueing]],
            ),
            "capacity": table.capacity[:n][queueing],
            "utilisation": agency_utilisation(table)[queueing],
        }
    )


def duration_table(model: CooperationModel) -> pd.DataFrame:
    """Response times and how requests end, the survival way, by group.

    Requests created in the window and sent (the outcomes' cohort), grouped by request
    kind, legal instrument, requested state and capacity group of the requested state.
    Open requests are censored at the end of the run.

    Returns:
        One row per (grouping, group): ``n`` requests, ``answers`` (executed or
        refused), Kaplan-Meier ``km_q25``, ``km_median``, ``km_q75`` days to an
        answer, the ``naive_median`` of executed requests, and the Aalen-Johansen
        share that ends ``executed``, ``refused``, ``lapsed``, ``withdrawn``.
    """
    led = model.ledger
    issued = led.col("t_issued")
    # The outcomes' cohort (sim.metrics.compute_outcomes): created in the window, sent.
    sent = (issued >= 0) & (led.col("t_created") >= model.window_start)
    durations, cause = survival.request_durations(
        issued[sent], led.col("t_closed")[sent], led.col("outcome")[sent], model.day
    )
    answered = (cause == Outcome.EXECUTED) | (cause == Outcome.REFUSED)
    requested = led.col("requested_state")[sent]
    groupings = {
        "kind": np.array([Kind(k).name.lower() for k in led.col("kind")[sent]], dtype=object),
        "instrument": np.array(
            [Instrument(i).name.lower() for i in led.col("instrument")[sent]], dtype=object
        ),
        "requested_state": np.asarray(model.world.codes, dtype=object)[requested],
        "requested_capacity_group": np.asarray(CAPACITY_GROUPS, dtype=object)[
            model.world.capacity_group[requested]
        ],
    }
    rows = []
    for grouping, labels in groupings.items():
        for group in sorted(set(labels)):
            mine = labels == group
            km = survival.km_quantiles(durations[mine], answered[mine])
            done = mine & (cause == Outcome.EXECUTED)
            rows.append(
                {
                    "grouping": grouping,
                    "group": group,
                    "n": km["n"],
                    "answers": km["events"],
                    "km_q25": km["q25"],
                    "km_median": km["median"],
                    "km_q75": km["q75"],
                    "naive_median": survival.naive_quantiles(durations[done])["median"],
                    **survival.cumulative_incidence(durations[mine], cause[mine]),
                }
            )
    return pd.DataFrame(rows)
