"""Outcomes of a run, computed from the request ledger, the cases and the agencies.

Rates are shares of all requests created in the run (so executed + refused +
lapsed + withdrawn + still open + still drafting = 1). Response days run from the day a request
was issued (sent) to the day the answer arrived, for executed requests. An
empty set gives NaN (reported as ``null`` in JSON), never an error.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.frictions import decision_deadline_days
from sim.requests import CaseStatus, Channel, Instrument, Kind, Outcome, RefusalGround
from sim.world import CAPACITY_GROUPS

if TYPE_CHECKING:
    from sim.model import CooperationModel

OUTCOME_KINDS = (Kind.MLA_EVIDENCE, Kind.EXTRADITION)


def share(part: int | float, whole: int | float) -> float:
    """``part / whole``, or NaN when the whole is empty."""
    return float(part) / float(whole) if whole else math.nan


def quantile(values: np.ndarray, q: float) -> float:
    """Quantile of a sample, NaN for an empty one."""
    return float(np.quantile(values, q)) if values.size else math.nan


def _mean(values: np.ndarray) -> float:
    return float(values.mean()) if values.size else math.nan


def compute_outcomes(model: CooperationModel) -> dict[str, Any]:
    """All outcomes of a run as one dict (nested dicts for breakdowns).

    Args:
        model: A model that has run (any number of days).

    Returns:
        Dict of outcome name to value; see docs/ODD.md for definitions.
    """
    led, cases, world = model.ledger, model.cases, model.world
    # Every request the run created counts, including those whose case closed while
    # they were still being drafted, so the outcomes add up to the series' counts.
    issued_all = led.col("t_issued") >= 0
    outcome = led.col("outcome")
    kind = led.col("kind")
    instrument = led.col("instrument")
    ground = led.col("refusal_ground")
    requesting = led.col("requesting_state")
    response = (led.col("t_closed") - led.col("t_issued")).astype(float)
    executed = outcome == Outcome.EXECUTED
    total = len(led)
    still_open = outcome == Outcome.OPEN

    out: dict[str, Any] = {
        "scenario": model.config.name,
        "days": int(model.day),
        "states": int(world.n_states),
        "requests_total": total,
        "requests_issued": int(issued_all.sum()),
        "requests_drafting": int(np.count_nonzero(still_open & ~issued_all)),
        "requests_executed": int(executed.sum()),
        "requests_refused": int(np.count_nonzero(outcome == Outcome.REFUSED)),
        "requests_lapsed": int(np.count_nonzero(outcome == Outcome.LAPSED)),
        "requests_withdrawn": int(np.count_nonzero(outcome == Outcome.WITHDRAWN)),
        "requests_open": int(np.count_nonzero(still_open & issued_all)),
    }
    out["completion_rate"] = share(out["requests_executed"], total)
    out["refusal_rate"] = share(out["requests_refused"], total)
    out["lapse_rate"] = share(out["requests_lapsed"], total)
    out["refusal_rate_by_ground"] = {
        g.name.lower(): share(int(np.count_nonzero(ground == g)), total)
        for g in RefusalGround
        if g != RefusalGround.NONE
    }
    out["median_response_days"] = {
        k.name.lower(): quantile(response[executed & (kind == k)], 0.5) for k in OUTCOME_KINDS
    }
    out["p90_response_days"] = {
        k.name.lower(): quantile(response[executed & (kind == k)], 0.9) for k in OUTCOME_KINDS
    }
    out["mean_response_days"] = {
        k.name.lower(): _mean(response[executed & (kind == k)]) for k in OUTCOME_KINDS
    }
    out["median_response_days_by_instrument"] = {
        i.name.lower(): quantile(response[executed & (instrument == i)], 0.5) for i in Instrument
    }
    out["completion_rate_by_instrument"] = {
        i.name.lower(): share(
            int(np.count_nonzero(executed & (instrument == i))),
            int(np.count_nonzero(instrument == i)),
        )
        for i in Instrument
    }
    channel = led.col("channel")
    out["channel_share"] = {
        c.name.lower(): share(int(np.count_nonzero(channel == c)), total) for c in Channel
    }
    out.update(_mutual_recognition_outcomes(model))
    rounds = led.col("clarification_rounds")
    out["clarification_rounds_per_request"] = _mean(rounds.astype(float))

    status = cases.col("status")
    n_cases = len(cases)
    resolved = status == CaseStatus.RESOLVED
    case_days = (cases.col("t_closed") - cases.col("t_created")).astype(float)
    out.update(
        cases_total=n_cases,
        cases_resolved=int(resolved.sum()),
        cases_cold=int(np.count_nonzero(status == CaseStatus.COLD)),
        cases_failed=int(np.count_nonzero(status == CaseStatus.FAILED)),
        cases_open=int(np.count_nonzero(status == CaseStatus.OPEN)),
        case_resolution_rate=share(int(resolved.sum()), n_cases),
        median_case_resolution_days=quantile(case_days[resolved], 0.5),
    )
    out["mean_trust"] = model.trust.mean(model.day)
    backlog = {role: 0 for role in ("central_authority", "court", "law_enforcement")}
    backlog.update(model.backlog_by_role)
    out["backlog"] = dict(backlog)
    out["effort"] = float(sum(a.effort for a in model.agency_list))

    out.update(model.intelligence.outcomes())
    out.update(model.interpol.outcomes())
    # Persons sought abroad whose whereabouts were unknown: INTERPOL's caseload.
    out["persons_sought_unlocated"] = int(model.fugitives_unlocated)
    out.update(model.teams.outcomes())
    relations = world.relations
    n = world.n_states
    out["mean_relations"] = (
        float((relations.sum() - np.trace(relations)) / (n * (n - 1))) if n > 1 else math.nan
    )
    out["coordination_meetings"] = int(model.meetings.meetings)
    out["capacity_building_delivered"] = float(model.coordinating_body.delivered)

    # Equity: the same outcomes seen by requesting states of each capacity group.
    group = world.capacity_group
    req_group = group[requesting]
    out["completion_rate_by_capacity_group"] = {
        name: share(
            int(np.count_nonzero(executed & (req_group == g))),
            int(np.count_nonzero(req_group == g)),
        )
        for g, name in enumerate(CAPACITY_GROUPS)
    }
    out["median_response_days_by_capacity_group"] = {
        name: quantile(response[executed & (req_group == g)], 0.5)
        for g, name in enumerate(CAPACITY_GROUPS)
    }
    # ... and by requested states: how well each group serves its partners.
    served_group = group[led.col("requested_state")]
    out["completion_rate_by_requested_capacity_group"] = {
        name: share(
            int(np.count_nonzero(executed & (served_group == g))),
            int(np.count_nonzero(served_group == g)),
        )
        for g, name in enumerate(CAPACITY_GROUPS)
    }
    out["median_response_days_by_requested_capacity_group"] = {
        name: quantile(response[executed & (served_group == g)], 0.5)
        for g, name in enumerate(CAPACITY_GROUPS)
    }
    case_group = group[cases.col("origin")] if n_cases else np.zeros(0, dtype=int)
    out["case_resolution_rate_by_capacity_group"] = {
        name: share(
            int(np.count_nonzero(resolved & (case_group == g))),
            int(np.count_nonzero(case_group == g)),
        )
        for g, name in enumerate(CAPACITY_GROUPS)
    }
    out["capacity_by_capacity_group"] = {
        name: _mean(world.capacity[group == g]) for g, name in enumerate(CAPACITY_GROUPS)
    }
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


def _mutual_recognition_outcomes(model: CooperationModel) -> dict[str, Any]:
    """Consent to surrender, and how often mutual-recognition deadlines were met.

    Deadlines are not imposed on durations: queues serve the earliest deadline
    first, and whether it was met is measured here, over the requests that reached
    the step (decision: received to decided; execution: decided to executed).
    """
    led, mrc = model.ledger, model.config.mutual_recognition
    kind = led.col("kind")
    consent = led.col("consent")
    extradition = (kind == Kind.EXTRADITION) & (led.col("t_issued") >= 0)
    mr = led.col("instrument") == Instrument.MUTUAL_RECOGNITION
    received, decided = led.col("t_received"), led.col("t_decided")
    executed = led.col("t_executed")
    decision_deadline = decision_deadline_days(kind, consent, mrc)
    was_decided = mr & (decided >= 0) & (received >= 0)
    was_executed = mr & (executed >= 0) & (decided >= 0)
    return {
        "consent_share": share(
            int(np.count_nonzero(extradition & consent)), int(extradition.sum())
        ),
        "mr_deadline_met_share": {
            "decision": _mean(
                ((decided - received) <= decision_deadline)[was_decided].astype(float)
            ),
            "execution": _mean(
                ((executed - decided) <= mrc.execution_deadline_days)[was_executed].astype(float)
            ),
        },
    }
