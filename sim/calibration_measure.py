"""Measuring the stylized facts and validation patterns on a model run.

The facts live in ``sim/data/stylized_facts.toml`` (id, figure, source, the model
quantity to compare, target and acceptable range, and how the source measured it).
:func:`measure` computes every quantity they name from one finished run: small pure
functions of the request ledger, over requests issued in a measurement window that
leaves time for them to finish, so that the run's end does not censor them. The
report over replications is :mod:`sim.calibration_report`; history matching
(:mod:`sim.history_matching`) measures its runs with :func:`_measure_run`.
"""

from __future__ import annotations

import functools
import math
from pathlib import Path

import numpy as np
from scipy import stats

from sim.metrics import agency_utilisation
from sim.requests import Channel, Instrument, Kind, Outcome, RefusalGround
from sim.scenario import DAYS_PER_YEAR, Scenario
from sim.scenario_files import read_toml_file
from sim.trust import exchanges_to_recover

FACTS_FILE = Path(__file__).resolve().parent / "data" / "stylized_facts.toml"
PATTERN_SOURCES_FILE = Path(__file__).resolve().parent / "data" / "pattern_sources.toml"


def load_facts(path: Path = FACTS_FILE) -> tuple[list[dict], list[dict]]:
    """Read the facts and patterns from the data file (read once per process)."""
    facts, patterns = _read_facts(path)
    return [dict(f) for f in facts], [dict(p) for p in patterns]


@functools.cache
def _read_facts(path: Path) -> tuple[list[dict], list[dict]]:
    data = read_toml_file(path, kind="stylized facts")
    return data.get("fact", []), data.get("pattern", [])


def load_pattern_sources(path: Path = PATTERN_SOURCES_FILE) -> list[dict]:
    """Read the public sources of the validation patterns (one dict per publication)."""
    return read_toml_file(path, kind="pattern sources").get("source", [])


# ------------------------------------------------------------------ measurements
# How each fact is measured is stated with the fact (stylized_facts.toml: cohort,
# interval, completed_only, follow_up_days); these functions do what it says.
FOLLOW_UP_DAYS = 365  # a cohort member issued at least this long before the end


def cohort(model, start_column: str, follow_up_days: int = FOLLOW_UP_DAYS) -> np.ndarray:
    """Requests whose ``start_column`` day lies in the measurement window and early enough.

    The cohort runs from the window's first day to ``follow_up_days`` before the end
    of the run, so that every member was followed at least that long: averages of
    completed requests are then not cut short by the run's end (the sources average
    requests handled in a year, most of which were issued well before it ended).

    Args:
        model: A finished CooperationModel.
        start_column: Ledger column the cohort is defined on (``t_issued``,
            ``t_received``).
        follow_up_days: Days each member was followed at least.
    """
    start = model.ledger.col(start_column)
    last = max(model.window_start + 1, model.day - follow_up_days)
    return (start >= model.window_start) & (start < last)


def _mean(values: np.ndarray) -> float:
    return float(values.mean()) if values.size else math.nan


def interval_days(model, mask: np.ndarray, start: str, end: str) -> np.ndarray:
    """Days from ``start`` to ``end`` (ledger columns) of the masked requests that reached it."""
    led = model.ledger
    reached = mask & (led.col(end) >= 0) & (led.col(start) >= 0)
    return (led.col(end) - led.col(start))[reached].astype(float)


def response_days(model, mask: np.ndarray) -> np.ndarray:
    """Issue-to-answer days of executed requests selected by ``mask``."""
    led = model.ledger
    return interval_days(
        model, mask & (led.col("outcome") == Outcome.EXECUTED), "t_issued", "t_closed"
    )


def _selections(model) -> dict[str, np.ndarray]:
    """Which requests each duration fact is about (its cohort and interval are in the file)."""
    led = model.ledger
    kind = led.col("kind")
    mr = led.col("instrument") == Instrument.MUTUAL_RECOGNITION
    consent = led.col("consent")
    executed = led.col("outcome") == Outcome.EXECUTED
    extradition = kind == Kind.EXTRADITION
    return {
        "mla_mean_response_days": (kind == Kind.MLA_EVIDENCE) & ~mr,
        "extradition_mean_days_no_mutual_recognition": extradition & ~mr,
        "mr_surrender_days_consent": extradition & mr & consent & executed,
        "mr_surrender_days_no_consent": extradition & mr & ~consent & executed,
    }


def duration_fact(model, fact: dict, selection: np.ndarray) -> float:
    """Mean duration of a fact's requests, measured as its entry in the facts file says.

    Args:
        model: A finished CooperationModel.
        fact: The fact's entry (``cohort``, ``interval``, ``completed_only``,
            ``follow_up_days``).
        selection: Which requests the fact is about.
    """
    start, end = fact["interval"].split("-")
    members = cohort(model, fact["cohort"], int(fact.get("follow_up_days", FOLLOW_UP_DAYS)))
    if fact.get("completed_only", True):
        members &= model.ledger.col("outcome") == Outcome.EXECUTED
    return _mean(interval_days(model, members & selection, start, end))


def measure(model) -> dict[str, float]:
    """Every quantity the facts and patterns name, from one finished run.

    Each is measured over the measurement window the way its source measured it
    (see the ``measured_as`` line of each fact in ``sim/data/stylized_facts.toml``).

    Args:
        model: A CooperationModel that has run (its window at least a year long).

    Returns:
        Dict quantity name -> value (NaN where the run has no such requests).
    """
    led = model.ledger
    kind = led.col("kind")
    mr = led.col("instrument") == Instrument.MUTUAL_RECOGNITION
    facts = {f["quantity"]: f for f in load_facts()[0]}
    out = {
        quantity: duration_fact(model, facts[quantity], selection)
        for quantity, selection in _selections(model).items()
    }
    # F5: European Investigation Orders (evidence under mutual recognition) decided
    # within the deadline of their receipt (a refusal is a decision, on the day it came);
    # one still undecided after it has missed it.
    deadline = model.config.mutual_recognition.decision_deadline_days
    f5 = facts["mr_decision_deadline_met_share"]
    eio = cohort(model, f5["cohort"], int(f5["follow_up_days"])) & mr & (kind == Kind.MLA_EVIDENCE)
    refused = (led.col("t_decided") < 0) & (led.col("outcome") == Outcome.REFUSED)
    decided = np.where(refused, led.col("t_closed"), led.col("t_decided"))
    met = (decided >= 0) & (decided - led.col("t_received") <= deadline)
    out["mr_decision_deadline_met_share"] = float(np.mean(met[eio])) if eio.any() else math.nan
    out["red_notice_rejection_rate"] = model.interpol.outcomes(since=model.window_start)[
        "red_notice_rejection_rate"
    ]
    w = model.world
    n = w.n_states
    covered = w.treaty_matrix | (w.convention[:, None] & w.convention[None, :])
    out["treaty_coverage"] = float((covered.sum() - np.trace(covered)) / (n * (n - 1)))
    out["jit_growth"] = _yearly_growth(model)
    # F6 and F7: production orders and domestic investigations (sim.eevidence).
    f6 = facts["production_order_mean_days"]
    out["production_order_mean_days"] = model.eevidence.production_order_mean_days(
        int(f6["follow_up_days"])
    )
    out["cross_border_share"] = model.eevidence.outcomes(since=model.window_start)[
        "cross_border_share"
    ]
    out.update(_patterns(model, cohort(model, "t_issued")))
    return out


def _yearly_growth(model) -> float:
    """Mean year-on-year growth of the joint teams supported each year (full years only).

    Measured as Eurojust counts "supported" teams: every team active at some time
    in the year (formed before the year ends, not dissolved before it begins),
    over the window's years, from the year after the reform's first full year on.
    """
    cases = np.asarray(model.teams.team_cases, dtype=np.int64)
    formed = model.cases.t_created[cases]
    closed = model.cases.t_closed[cases]
    ends = np.where(closed >= 0, closed, model.day)
    # Whole years of the measurement window (the reform starts with the window).
    years = (model.day - model.window_start) // DAYS_PER_YEAR
    starts = model.window_start + np.arange(years) * DAYS_PER_YEAR
    counts = (
        (formed[None, :] < starts[:, None] + DAYS_PER_YEAR) & (ends[None, :] >= starts[:, None])
    ).sum(axis=1)
    if counts.size < 3 or (counts[1:-1] == 0).any():
        return math.nan
    return float(np.mean(counts[2:] / counts[1:-1] - 1.0))


def _patterns(model, window: np.ndarray) -> dict[str, float]:
    led = model.ledger
    kind = led.col("kind")
    mr = led.col("instrument") == Instrument.MUTUAL_RECOGNITION
    out: dict[str, float] = {}
    # P1: across requested states, utilisation of the central authority vs. the time
    # from receipt to decision (where its queue is), for requests it reviews.
    requested = led.col("requested_state")
    decided = window & (led.col("t_decided") >= 0) & ~mr
    review_days = (led.col("t_decided") - led.col("t_received")).astype(float)
    n = model.world.n_states
    utilisation = agency_utilisation(model.agency_table)[model.ca_of]
    mean_days = np.array([_mean(review_days[decided & (requested == s)]) for s in range(n)])
    ok = np.isfinite(mean_days) & np.isfinite(utilisation)
    out["load_response_correlation"] = (
        float(stats.spearmanr(utilisation[ok], mean_days[ok]).statistic)
        if ok.sum() > 3
        else math.nan
    )
    # P2: extradition without vs. with mutual recognition.
    ext = window & (kind == Kind.EXTRADITION)
    slow = _mean(response_days(model, ext & ~mr))
    fast = _mean(response_days(model, ext & mr))
    out["mr_speedup_ratio"] = slow / fast if fast and not math.isnan(fast) else math.nan
    # P3: one-way transit by channel.
    transit = (led.col("t_received") - led.col("t_issued")).astype(float)
    channel = led.col("channel")
    reached = window & (led.col("t_received") >= 0)
    diplomatic = _mean(transit[reached & (channel == Channel.DIPLOMATIC)])
    fast_channels = reached & np.isin(channel, (Channel.SECURE_PLATFORM, Channel.INTERPOL))
    quick = _mean(transit[fast_channels])
    out["channel_speed_ratio"] = (
        diplomatic / max(quick, 0.5) if not math.isnan(quick) else (math.nan)
    )
    # P5, P6: which refusal grounds lead, by instrument.
    out.update(refusal_ground_patterns(led, window))
    # P4: trust dynamics at the run's parameters.
    cfg = model.config
    out["exchanges_to_undo_one_leak"] = float(
        exchanges_to_recover(
            cfg.trust.gain_on_success, cfg.intelligence.leak_trust_loss, cfg.world.initial_trust
        )
    )
    return out


def ground_shares(grounds: np.ndarray) -> np.ndarray:
    """Share of each refusal ground among refused requests, indexed by ``RefusalGround``.

    Args:
        grounds: The ``refusal_ground`` codes of refused requests.

    Returns:
        Array of length ``len(RefusalGround)`` summing to 1 (all NaN when empty).
    """
    counts = np.bincount(np.asarray(grounds, dtype=np.int64), minlength=len(RefusalGround))
    total = counts.sum()
    if total == 0:
        return np.full(len(RefusalGround), math.nan)
    return counts / total


def lead_over_largest_other(shares: np.ndarray, ground: RefusalGround) -> float:
    """Share of ``ground`` minus the largest share of any other ground (> 0: it leads)."""
    others = np.delete(shares, [RefusalGround.NONE, ground])
    return float(shares[ground] - others.max())


def refusal_ground_patterns(led, window: np.ndarray) -> dict[str, float]:
    """P5 and P6 from the ledger: which refusal grounds lead, by instrument.

    Args:
        led: The request ledger.
        window: Mask of the requests to count (issued in the measurement window).

    Returns:
        ``eaw_nationality_refusal_lead``: among refused mutual-recognition
        extraditions, the nationality share minus the largest other ground's share;
        ``mla_form_dual_refusal_lead``: among refused evidence requests outside
        mutual recognition, the share of form defects and dual criminality minus the
        share of political offence and sovereignty. NaN when nothing was refused.
    """
    refused = window & (led.col("outcome") == Outcome.REFUSED)
    kind = led.col("kind")
    mr = led.col("instrument") == Instrument.MUTUAL_RECOGNITION
    ground = led.col("refusal_ground")
    eaw = ground_shares(ground[refused & mr & (kind == Kind.EXTRADITION)])
    mla = ground_shares(ground[refused & ~mr & (kind == Kind.MLA_EVIDENCE)])
    G = RefusalGround  # noqa: N806
    return {
        "eaw_nationality_refusal_lead": lead_over_largest_other(eaw, G.NATIONALITY_BAR),
        "mla_form_dual_refusal_lead": float(
            mla[G.FORM_DEFECT]
            + mla[G.DUAL_CRIMINALITY]
            - mla[G.POLITICAL_OFFENCE]
            - mla[G.SOVEREIGNTY]
        ),
    }


# ------------------------------------------------------------------ running
def _measure_run(args: tuple[Scenario, int]) -> dict[str, float]:
    from sim.model import CooperationModel

    scenario, seed = args
    return measure(CooperationModel(scenario, rng=seed).run())
