"""Outcomes of a run, computed from the request ledger, the cases and the agencies.

Everything is measured over the measurement window after the warm-up (see
:func:`compute_outcomes`). Rates are eventual shares (Aalen-Johansen cumulative
incidence: executed + refused + lapsed + withdrawn = 1 once every request has
ended); response days run from the day a request was sent to the day the answer
arrived, as Kaplan-Meier quartiles with open requests censored, beside the naive
figures of executed requests. An empty set gives NaN (reported as ``null`` in
JSON), never an error. The run's tables (incidence curves, agency loads, the
durations table) are :mod:`sim.metrics_frames`, re-exported here.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from sim import case_outcomes, survival
from sim.agents import QUEUE_ROLES, ROLE_CODES
from sim.frictions import decision_deadline_days
from sim.metrics_frames import (  # re-exported: the run's tables are imported from here
    OUTCOME_KINDS,
    agency_utilisation,
    duration_table,
    incidence_frame,
    utilisation_frame,
)
from sim.requests import CaseStatus, Channel, Instrument, Kind, Outcome, RefusalGround
from sim.survival_groups import cumulative_incidence_by_group, km_quantiles_by_group
from sim.world import CAPACITY_GROUPS

if TYPE_CHECKING:
    from sim.model import CooperationModel

__all__ = [
    "OUTCOME_KINDS",
    "agency_utilisation",
    "compute_outcomes",
    "duration_table",
    "flatten",
    "incidence_frame",
    "quantile",
    "share",
    "to_jsonable",
    "utilisation_frame",
]

_GROUNDS = tuple(g for g in RefusalGround if g != RefusalGround.NONE)
# Competing ends of a request, with each refusal ground a cause of its own.
_GROUND_CAUSE = 100
_END_CAUSES = {
    int(Outcome.EXECUTED): "executed",
    int(Outcome.LAPSED): "lapsed",
    int(Outcome.WITHDRAWN): "withdrawn",
    **{_GROUND_CAUSE + int(g): f"refused_{g.name.lower()}" for g in _GROUNDS},
}
_EXECUTED = {int(o): o.name.lower() for o in Outcome if o != Outcome.OPEN}
_CASE_ENDS = {int(c): c.name.lower() for c in CaseStatus if c != CaseStatus.OPEN}


def share(part: int | float, whole: int | float) -> float:
    """``part / whole``, or NaN when the whole is empty."""
    return float(part) / float(whole) if whole else math.nan


def quantile(values: np.ndarray, q: float) -> float:
    """Quantile of a sample, NaN for an empty one."""
    return float(np.quantile(values, q)) if values.size else math.nan


def _median_p90_mean(values: np.ndarray) -> tuple[float, float, float]:
    """The median, the 90th percentile and the mean of a sample (NaN for an empty one)."""
    if not values.size:
        return math.nan, math.nan, math.nan
    median, p90 = np.quantile(values, [0.5, 0.9])
    return float(median), float(p90), float(values.mean())


def window_rows(t_created: np.ndarray, since: int) -> slice | np.ndarray:
    """The rows created from day ``since`` on, to index a table's columns with.

    A table adds rows in the order they are created, so these are its last rows: a
    slice, whose columns are views. A mask if they are not (a table built otherwise).
    """
    created = t_created >= since
    start = created.size - int(np.count_nonzero(created))
    return slice(start, None) if created[start:].all() else created


def _mean(values: np.ndarray) -> float:
    return float(values.mean()) if values.size else math.nan


def compute_outcomes(model: CooperationModel) -> dict[str, Any]:
    """All outcomes of a run as one dict (nested dicts for breakdowns).

    Every outcome covers the measurement window (``run.years`` after
    ``run.warmup_years``), so that none depends on how long the window is: counts
    are flows in it (created, sent, closed), open requests and cases are levels at
    the end, rates and durations are of the requests and cases created in it with
    those still open at the end censored (Kaplan-Meier and Aalen-Johansen,
    :mod:`sim.survival`), and trust, relations and backlogs are averaged over its
    days.

    Args:
        model: A model that has run (any number of days).

    Returns:
        Dict of outcome name to value; see docs/ODD.md for definitions.
    """
    led, cases, world = model.ledger, model.cases, model.world
    w0, end = model.window_start, model.day
    cohort = window_rows(led.col("t_created"), w0)
    issued_all = led.col("t_issued")[cohort] >= 0
    outcome = led.col("outcome")[cohort]
    kind = led.col("kind")[cohort]
    instrument = led.col("instrument")[cohort]
    ground = led.col("refusal_ground")[cohort]
    requesting = led.col("requesting_state")[cohort]
    t_issued, t_closed = led.col("t_issued")[cohort], led.col("t_closed")[cohort]
    executed = outcome == Outcome.EXECUTED
    total = outcome.size
    still_open = outcome == Outcome.OPEN

    # Counts are of what happened in the window (created, sent, closed in it), so
    # that a yearly rate does not depend on the window's length; open and drafting
    # requests are the state of the queues at the end.
    every_outcome = led.col("outcome")
    every_issued = led.col("t_issued")
    every_open = every_outcome == Outcome.OPEN
    closed_by = np.bincount(every_outcome[led.col("t_closed") >= w0], minlength=len(Outcome))
    out: dict[str, Any] = {
        "scenario": model.config.name,
        "days": int(max(0, end - w0)),
        "states": int(world.n_states),
        "requests_total": total,
        "requests_issued": int(np.count_nonzero(every_issued >= w0)),
        "requests_drafting": int(np.count_nonzero(every_open & (every_issued < 0))),
        **{
            f"requests_{o.name.lower()}": int(closed_by[o])
            for o in (Outcome.EXECUTED, Outcome.REFUSED, Outcome.LAPSED, Outcome.WITHDRAWN)
        },
        "requests_open": int(np.count_nonzero(every_open & (every_issued >= 0))),
    }
    # How each request created in the window ends, from its creation, the open ones
    # censored at the end of the run: each refusal ground is its own cause.
    t_created = led.col("t_created")[cohort]
    # Durations as int64 once: every estimator below counts them as they are.
    lived = (np.where(still_open, end, t_closed) - t_created).astype(np.int64)
    cause = np.where(outcome == Outcome.REFUSED, _GROUND_CAUSE + ground, outcome)
    ever = survival.cumulative_incidence(lived, cause, _END_CAUSES)
    out["completion_rate"] = ever["executed"]
    out["refusal_rate"] = float(sum(ever[f"refused_{g.name.lower()}"] for g in _GROUNDS))
    out["lapse_rate"] = ever["lapsed"]
    out["withdrawal_rate"] = ever["withdrawn"]
    out["refusal_rate_by_ground"] = {
        g.name.lower(): ever[f"refused_{g.name.lower()}"] for g in _GROUNDS
    }
    # Response times: from sending to answer. Naive figures over executed requests;
    # Kaplan-Meier ones with an answer (executed or refused) as the event and open,
    # lapsed and withdrawn requests censored.
    sent = issued_all
    waited = (np.where(still_open, end, t_closed) - t_issued).astype(np.int64)
    answered = executed | (outcome == Outcome.REFUSED)

    def completion(group, n_groups):  # share of each group's requests that end executed
        by_group = cumulative_incidence_by_group(lived, outcome, group, n_groups, _EXECUTED)
        return [incidence["executed"] for incidence in by_group]

    def km_median(group, n_groups):  # Kaplan-Meier median days to an answer of those sent
        sent_of = np.where(sent, group, -1)
        return [km["median"] for km in km_quantiles_by_group(waited, answered, sent_of, n_groups)]

    # Naive response days of the executed requests, selected from them alone.
    done = np.flatnonzero(executed)
    response = (t_closed[done] - t_issued[done]).astype(float)
    done_kind, done_instrument = kind[done], instrument[done]
    by_kind = {k.name.lower(): _median_p90_mean(response[done_kind == k]) for k in OUTCOME_KINDS}
    for n, name in enumerate(("median", "p90", "mean")):
        out[f"{name}_response_days"] = {k: figures[n] for k, figures in by_kind.items()}
    # The kinds whose times are reported, as groups of the requests sent.
    kind_sent = np.where(sent & np.isin(kind, OUTCOME_KINDS), kind, -1)
    km = km_quantiles_by_group(waited, answered, kind_sent, len(Kind))
    for q in ("q25", "median", "q75"):
        out[f"km_{q}_response_days"] = {k.name.lower(): km[k][q] for k in OUTCOME_KINDS}
    out["median_response_days_by_instrument"] = {
        i.name.lower(): quantile(response[done_instrument == i], 0.5) for i in Instrument
    }
    names = [i.name.lower() for i in Instrument]
    out["km_median_response_days_by_instrument"] = dict(
        zip(names, km_median(instrument, len(Instrument)), strict=True)
    )
    out["completion_rate_by_instrument"] = dict(
        zip(names, completion(instrument, len(Instrument)), strict=True)
    )
    # Competing risks from sending, per request kind: executed, refused, lapsed, withdrawn.
    ends = cumulative_incidence_by_group(waited, outcome, kind_sent, len(Kind))
    out["ends_by_kind"] = {
        f"{k.name.lower()}_{name}": incidence
        for k in OUTCOME_KINDS
        for name, incidence in ends[k].items()
    }
    channel = led.col("channel")[cohort]
    out["channel_share"] = {
        c.name.lower(): share(int(np.count_nonzero(channel == c)), total) for c in Channel
    }
    out.update(_mutual_recognition_outcomes(model, cohort))
    # Rounds asked for in the window per request sent in it (both flows, so that
    # requests still open, whose rounds are yet to come, do not pull the mean down).
    rounds = model.clarification_rounds - model.window_counts["clarification_rounds"]
    out["clarification_rounds_per_request"] = share(rounds, out["requests_issued"])

    in_window = window_rows(cases.col("t_created"), w0)
    status = cases.col("status")[in_window]
    n_cases = status.size
    resolved = status == CaseStatus.RESOLVED
    case_open = status == CaseStatus.OPEN
    case_closed = cases.col("t_closed")[in_window]
    case_start = cases.col("t_created")[in_window]
    case_days = (np.where(case_open, end, case_closed) - case_start).astype(float)
    every_status = cases.col("status")
    ended_now = cases.col("t_closed") >= w0
    out.update(
        cases_total=n_cases,
        cases_resolved=int(np.count_nonzero(ended_now & (every_status == CaseStatus.RESOLVED))),
        cases_cold=int(np.count_nonzero(ended_now & (every_status == CaseStatus.COLD))),
        cases_failed=int(np.count_nonzero(ended_now & (every_status == CaseStatus.FAILED))),
        cases_open=int(np.count_nonzero(every_status == CaseStatus.OPEN)),
        case_resolution_rate=survival.cumulative_incidence(case_days, status, _CASE_ENDS)[
            "resolved"
        ],
        median_case_resolution_days=_km(case_days, resolved, np.ones(n_cases, bool))["median"],
    )
    days = slice(w0, end)
    out["mean_trust"] = _mean(model.series["mean_trust"][days])
    out["backlog"] = {role: _mean(model.series[f"backlog_{role}"][days]) for role in QUEUE_ROLES}
    out["utilisation"] = _utilisation(model)

    out.update(model.intelligence.outcomes(since=w0))
    out.update(model.interpol.outcomes(since=w0))
    # Persons sought abroad whose whereabouts were unknown: INTERPOL's caseload.
    out["persons_sought_unlocated"] = int(model.fugitives_unlocated)
    out.update(model.teams.outcomes(since=w0))
    out.update(model.eevidence.outcomes(since=w0))
    out.update(case_outcomes.outcomes(model))
    out["effort"] = float(model.agency_table.effort.sum())
    out["coordination_meetings"] = int(model.meetings.meetings)
    out["capacity_building_delivered"] = float(model.coordinating_body.delivered)
    out.update(model.adoption.outcomes())
    out.update(model.negotiation.outcomes(since=w0))
    # Running counters cover the whole run: take away their values at the window's start.
    for name, value in model.window_counts.items():
        if name in out:
            out[name] = type(out[name])(out[name] - value)
    out["mean_relations"] = _mean(model.series["mean_relations"][days])

    # Equity: the same outcomes seen by requesting states of each capacity group.
    group = world.capacity_group
    req_group = group[requesting]
    served_group = group[led.col("requested_state")[cohort]]
    case_group = group[cases.col("origin")[in_window]] if n_cases else np.zeros(0, dtype=int)
    n_groups = len(CAPACITY_GROUPS)
    by_group = {
        "completion_rate_by_capacity_group": completion(req_group, n_groups),
        "median_response_days_by_capacity_group": km_median(req_group, n_groups),
        # ... and by requested states: how well each group serves its partners.
        "completion_rate_by_requested_capacity_group": completion(served_group, n_groups),
        "median_response_days_by_requested_capacity_group": km_median(served_group, n_groups),
        "case_resolution_rate_by_capacity_group": [
            incidence["resolved"]
            for incidence in cumulative_incidence_by_group(
                case_days, status, case_group, n_groups, _CASE_ENDS
            )
        ],
        "capacity_by_capacity_group": [_mean(world.capacity[group == g]) for g in range(n_groups)],
    }
    for name, values in by_group.items():
        out[name] = dict(zip(CAPACITY_GROUPS, values, strict=True))
    return out


def _km(durations, observed, mask) -> dict[str, float]:
    """Kaplan-Meier quartiles of the durations selected by ``mask``."""
    return survival.km_quantiles(durations[mask], observed[mask])


def _utilisation(model: CooperationModel) -> dict[str, float]:
    """Median and largest offered load of each queue family over the window.

    An agency's offered load is the requests that joined its queue in the window
    over the capacity it offered (its capacity summed over the window's days):
    below 1 its queue stays bounded, above 1 it grows without limit.
    """
    table = model.agency_table
    load = agency_utilisation(table)
    out = {}
    for role in QUEUE_ROLES:
        mine = load[table.role[: table.size] == ROLE_CODES[role]]
        mine = mine[np.isfinite(mine)]
        out[f"{role}_median"] = quantile(mine, 0.5)
        out[f"{role}_max"] = float(mine.max()) if mine.size else math.nan
    return out


def flatten(outcomes: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Flatten nested outcome dicts to dotted keys (``median_response_days.extradition``)."""
    flat: dict[str, Any] = {}
    for key, value in outcomes.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, prefix=f"{name}."))
        else:
            flat[name] = value
    return flat


def to_jsonable(value: Any) -> Any:
    """Replace NaN and infinities by None, recursively, so JSON stays standard."""
    if isinstance(value, dict):
        return {k: to_jsonable(v) for k, v in value.items()}
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, np.generic):
        return to_jsonable(value.item())
    return value


def _mutual_recognition_outcomes(model: CooperationModel, cohort) -> dict[str, Any]:
    """Consent to surrender, and how often mutual-recognition deadlines were met.

    Deadlines are not imposed on durations: queues serve the earliest deadline
    first, and whether it was met is measured here. A step counts once its deadline
    has passed before the end of the run (decision: received in the window at least
    the decision deadline before the end; execution: decided in the window at least
    the execution deadline before the end); one not done by its deadline missed it,
    so requests still waiting are not left out. A refusal is a decision, on the day
    the request was refused.
    """
    led, mrc, end, w0 = model.ledger, model.config.mutual_recognition, model.day, model.window_start
    kind, consent = led.col("kind")[cohort], led.col("consent")[cohort]
    extradition = (kind == Kind.EXTRADITION) & (led.col("t_issued")[cohort] >= 0)
    # Deadlines of the mutual-recognition requests only (of any cohort), from their rows.
    mr = np.flatnonzero(led.col("instrument") == Instrument.MUTUAL_RECOGNITION)
    received, decided = led.col("t_received")[mr], led.col("t_decided")[mr]
    executed = led.col("t_executed")[mr]
    # A refusal is the decision too (the review or the court refused on that day).
    refused = led.col("outcome")[mr] == Outcome.REFUSED
    decision_day = np.where((decided < 0) & refused, led.col("t_closed")[mr], decided)
    decision_deadline = decision_deadline_days(led.col("kind")[mr], led.col("consent")[mr], mrc)
    execution_deadline = mrc.execution_deadline_days
    due_decision = (received >= w0) & (received + decision_deadline <= end)
    due_execution = (decided >= w0) & (decided + execution_deadline <= end)
    decided_in_time = (decision_day >= 0) & (decision_day - received <= decision_deadline)
    executed_in_time = (executed >= 0) & (executed - decided <= execution_deadline)
    return {
        "consent_share": share(
            int(np.count_nonzero(extradition & consent)), int(extradition.sum())
        ),
        "mr_deadline_met_share": {
            "decision": _mean(decided_in_time[due_decision].astype(float)),
            "execution": _mean(executed_in_time[due_execution].astype(float)),
        },
    }
