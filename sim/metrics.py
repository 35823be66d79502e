"""Outcomes of a run, computed from the request ledger, the cases and the agencies.

Everything is measured over the measurement window after the warm-up (see
:func:`compute_outcomes`). Rates are eventual shares (Aalen-Johansen cumulative
incidence: executed + refused + lapsed + withdrawn = 1 once every request has
ended); response days run from the day a request was sent to the day the answer
arrived, as Kaplan-Meier quartiles with open requests censored, beside the naive
figures of executed requests. An empty set gives NaN (``null`` in JSON), never an
error. The run's tables (incidence curves, agency loads, durations) are
:mod:`sim.metrics_frames`, re-exported here.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from sim import case_outcomes
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
from sim.survival import CLOSING_CAUSES
from sim.survival_groups import (
    counts_by_groupings,
    followed_days,
    incidences_from_counts,
    km_from_counts,
    sample_of_counts,
)
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
# Competing ends of a request, with each refusal ground a cause of its own: a request's
# label is its outcome, or _REFUSED_BY + its ground if refused (0, open, is censored).
_REFUSED_BY = len(Outcome)
_END_CAUSES = {
    int(Outcome.EXECUTED): "executed",
    int(Outcome.LAPSED): "lapsed",
    int(Outcome.WITHDRAWN): "withdrawn",
    **{_REFUSED_BY + int(g): f"refused_{g.name.lower()}" for g in _GROUNDS},
}
# From sending to an answer, the label is the outcome; never sent, a label of its own.
_NOT_SENT = len(Outcome)
_ANSWERS = [int(Outcome.EXECUTED), int(Outcome.REFUSED)]
_EXECUTED = {int(Outcome.EXECUTED): "executed"}
_RESOLVED = {int(CaseStatus.RESOLVED): "resolved"}


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
    kind = led.col("kind")[cohort]
    instrument = led.col("instrument")[cohort]
    total = kind.size

    # Counts are of what happened in the window (created, sent, closed in it), so
    # that a yearly rate does not depend on the window's length; open and drafting
    # requests are the state of the queues at the end.
    every_outcome = led.col("outcome")
    every_issued = led.col("t_issued")
    every_open = every_outcome == Outcome.OPEN
    closed = led.col("t_closed") >= w0
    out: dict[str, Any] = {
        "scenario": model.config.name,
        "days": int(max(0, end - w0)),
        "states": int(world.n_states),
        "requests_total": total,
        "requests_issued": int(np.count_nonzero(every_issued >= w0)),
        "requests_drafting": int(np.count_nonzero(every_open & (every_issued < 0))),
        **{
            f"requests_{o.name.lower()}": int(np.count_nonzero(closed & (every_outcome == o)))
            for o in (Outcome.EXECUTED, Outcome.REFUSED, Outcome.LAPSED, Outcome.WITHDRAWN)
        },
        "requests_open": int(np.count_nonzero(every_open & (every_issued >= 0))),
    }
    # How each request created in the window ends, and how it was answered, counted
    # by group, label and day for every grouping reported (see _request_counts).
    group = world.capacity_group
    n_groups = len(CAPACITY_GROUPS)
    groupings = {
        "kind": (kind, len(Kind)),
        "instrument": (instrument, len(Instrument)),
        "requesting": (group[led.col("requesting_state")[cohort]], n_groups),
        "requested": (group[led.col("requested_state")[cohort]], n_groups),
    }
    ends, answers = _request_counts(led, cohort, end, groupings)
    if ends["all"][0, _REFUSED_BY + RefusalGround.NONE].any():
        raise ValueError("a refused request has no refusal ground")
    if ends["all"][0, Outcome.EXECUTED].sum() != answers["instrument"][:, Outcome.EXECUTED].sum():
        raise ValueError("an executed request was never sent")  # it has no response time
    ever = incidences_from_counts(ends["all"], _END_CAUSES)[0]
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

    def completion(grouping):  # share of each group's requests that end executed
        return [shares["executed"] for shares in incidences_from_counts(ends[grouping], _EXECUTED)]

    def km_median(grouping):  # Kaplan-Meier median days to an answer of those sent
        return [km["median"] for km in km_from_counts(answers[grouping], _ANSWERS)]

    # Naive response days of the executed requests: the days counted, as a sample.
    executed = answers["kind"][:, Outcome.EXECUTED]
    naive = {k.name.lower(): _median_p90_mean(sample_of_counts(executed[k])) for k in OUTCOME_KINDS}
    for n, name in enumerate(("median", "p90", "mean")):
        out[f"{name}_response_days"] = {k: figures[n] for k, figures in naive.items()}
    km = km_from_counts(answers["kind"], _ANSWERS)
    for q in ("q25", "median", "q75"):
        out[f"km_{q}_response_days"] = {k.name.lower(): km[k][q] for k in OUTCOME_KINDS}
    executed = answers["instrument"][:, Outcome.EXECUTED]
    out["median_response_days_by_instrument"] = {
        i.name.lower(): quantile(sample_of_counts(executed[i]), 0.5) for i in Instrument
    }
    names = [i.name.lower() for i in Instrument]
    out["km_median_response_days_by_instrument"] = dict(
        zip(names, km_median("instrument"), strict=True)
    )
    out["completion_rate_by_instrument"] = dict(zip(names, completion("instrument"), strict=True))
    # Competing risks from sending, per request kind: executed, refused, lapsed, withdrawn.
    ends_of_kind = incidences_from_counts(answers["kind"], CLOSING_CAUSES)
    out["ends_by_kind"] = {
        f"{k.name.lower()}_{name}": incidence
        for k in OUTCOME_KINDS
        for name, incidence in ends_of_kind[k].items()
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
    n_cases = cases.col("status")[in_window].size
    case_group = group[cases.col("origin")[in_window]] if n_cases else np.zeros(0, dtype=int)
    every_case, case_by_group = _case_counts(cases, in_window, end, case_group, n_groups)
    every_status = cases.col("status")
    ended_now = cases.col("t_closed") >= w0
    out.update(
        cases_total=n_cases,
        cases_resolved=int(np.count_nonzero(ended_now & (every_status == CaseStatus.RESOLVED))),
        cases_cold=int(np.count_nonzero(ended_now & (every_status == CaseStatus.COLD))),
        cases_failed=int(np.count_nonzero(ended_now & (every_status == CaseStatus.FAILED))),
        cases_open=int(np.count_nonzero(every_status == CaseStatus.OPEN)),
        case_resolution_rate=incidences_from_counts(every_case, _RESOLVED)[0]["resolved"],
        median_case_resolution_days=km_from_counts(every_case, [CaseStatus.RESOLVED])[0]["median"],
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
    by_group = {
        "completion_rate_by_capacity_group": completion("requesting"),
        "median_response_days_by_capacity_group": km_median("requesting"),
        # ... and by requested states: how well each group serves its partners.
        "completion_rate_by_requested_capacity_group": completion("requested"),
        "median_response_days_by_requested_capacity_group": km_median("requested"),
        "case_resolution_rate_by_capacity_group": [
            incidence["resolved"] for incidence in incidences_from_counts(case_by_group, _RESOLVED)
        ],
        "capacity_by_capacity_group": [_mean(world.capacity[group == g]) for g in range(n_groups)],
    }
    for name, values in by_group.items():
        out[name] = dict(zip(CAPACITY_GROUPS, values, strict=True))
    return out


def _request_counts(led, cohort, end: int, groupings: dict) -> tuple[dict, dict]:
    """Requests created in the window by (group, label, day), one count per grouping.

    Two counts: how each request ends, from its creation (label: an _END_CAUSES code),
    and how it was answered, from its sending (label: its outcome; requests never sent
    are left out); requests still open are censored at the end of the run (label 0).
    One count per grouping, where estimating group by group passed over a world-scale
    run's million requests about sixty times.

    Args:
        led: The request ledger.
        cohort: Its rows created in the window (:func:`window_rows`).
        end: The run's last day.
        groupings: Name -> (each request's group code, number of groups): ``kind``,
            ``instrument``, ``requesting`` and ``requested``.

    Returns:
        ``(ends, answers)``: grouping name -> counts of shape (groups, labels, days);
        ``ends`` of every grouping but ``kind``, and of ``all`` requests as one group.
    """
    outcome, ground = led.col("outcome")[cohort], led.col("refusal_ground")[cohort]
    t_issued, t_closed = led.col("t_issued")[cohort], led.col("t_closed")[cohort]
    still_open = outcome == Outcome.OPEN
    # One million-row array of durations at a time, counted in its own memory: fresh
    # memory is pages for the system to fault in and zero, much of a first call's time.
    ends = counts_by_groupings(
        followed_days(still_open, t_closed, end, since=led.col("t_created")[cohort]),
        np.where(outcome == Outcome.REFUSED, _REFUSED_BY + ground, outcome),
        _REFUSED_BY + len(RefusalGround),  # the labels
        {name: groupings[name] for name in ("instrument", "requesting", "requested")},
    )
    # Every request has an instrument: their counts add up to all requests' counts.
    ends["all"] = ends["instrument"].sum(axis=0, keepdims=True)
    sent = t_issued >= 0
    waited = followed_days(still_open, t_closed, end, since=t_issued)
    waited *= sent  # never sent: no time to an answer (day 0, and a label of its own)
    label = np.where(sent, outcome, _NOT_SENT)
    answers = counts_by_groupings(waited, label, _NOT_SENT + 1, groupings)
    return ends, {name: counts[:, :_NOT_SENT] for name, counts in answers.items()}


def _case_counts(cases, rows, end: int, group: np.ndarray, n_groups: int) -> tuple:
    """Cases created in the window by (status, day), all and by group; open ones censored."""
    status, t_closed = cases.col("status")[rows], cases.col("t_closed")[rows]
    lived = followed_days(status == CaseStatus.OPEN, t_closed, end, cases.col("t_created")[rows])
    counts = counts_by_groupings(lived, status, len(CaseStatus), {"by": (group, n_groups)})
    return counts["by"].sum(axis=0, keepdims=True), counts["by"]  # every case is in a group


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
