"""Endogenous adoption: states that choose whether to enact a reform, and when.

The impact of a law depends on who adopts it. A lever with ``adoption =
"endogenous"`` (any lever whose section is an
:class:`~sim.schema_base.AdoptableLeverSection`: ``nsc_law``, ``treaty_expansion``,
``mutual_recognition``, ``secure_platform``, ``joint_task_forces``) is not imposed
on its ``applies_to`` states: they are candidates. From ``start_year``, every
``adoption.review_days``, each candidate that has not adopted decides, adopting
with the probability :func:`adoption_probability` gives from four drivers:

- its experience with partners over the last period, read from the ledger of its
  own requests (:func:`experience`): the share refused or lapsed, and its mean
  days to an answer over the days it expects (``trust.expected_response_days``);
- the reform's cost against its budget (the lever's ``adoption_cost`` over the
  state's capacity), which holds it back;
- its sovereignty sensitivity, which holds it back;
- the share of its partners, weighted by requests exchanged, that already hold
  the instrument (:func:`peer_share`).

An adopter gets the lever's own effect (:data:`sim.levers.EFFECTS`) that day. A
treaty joins the adopters' network (treaties with the busiest other holders up to
the coverage target); mutual recognition is joining the bloc, so it binds an
adopter to the bloc's members only; the platform connects it to the other
connected states. States that already hold the instrument when the lever starts
(bloc members, connected states) are not candidates but count as peers.

Decisions draw from a stream of their own, spawned from the model's generator
without advancing it, so a run without endogenous adoption is unchanged.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sim import levers
from sim.frictions import logistic
from sim.lever_effects import apply_treaty_expansion
from sim.levers import EFFECTS, adoptable_lever_names
from sim.reforms import Reform
from sim.requests import Outcome

if TYPE_CHECKING:
    from sim.contracts import DecisionHost
    from sim.model import CooperationModel
    from sim.scenario import AdoptionSection
    from sim.world import World


def adoption_probability(
    failure_share: np.ndarray | float,
    delay_ratio: np.ndarray | float,
    cost_share: np.ndarray | float,
    sovereignty: np.ndarray | float,
    peers: np.ndarray | float,
    cfg: AdoptionSection,
) -> np.ndarray:
    """Chance that a candidate adopts at one review.

    Args:
        failure_share: Share of its requests closed in the last period that were
            refused or lapsed (0-1).
        delay_ratio: Its mean days to an answer in the last period over the days it
            expects (0 when it had no answer).
        cost_share: The reform's adoption cost over its budget.
        sovereignty: Its sovereignty sensitivity (0-1).
        peers: Share of its partners, weighted by requests exchanged, holding the
            instrument (0-1).
        cfg: The ``[adoption]`` weights.

    Returns:
        Probabilities, the shape of the broadcast inputs.
    """
    log_odds = (
        cfg.base_log_odds
        + cfg.failure_weight * np.asarray(failure_share, dtype=float)
        + cfg.delay_weight * np.asarray(delay_ratio, dtype=float)
        - cfg.cost_weight * np.asarray(cost_share, dtype=float)
        - cfg.sovereignty_weight * np.asarray(sovereignty, dtype=float)
        + cfg.peer_weight * np.asarray(peers, dtype=float)
    )
    return logistic(log_odds)


def experience(
    requesting: np.ndarray,
    t_issued: np.ndarray,
    t_closed: np.ndarray,
    outcome: np.ndarray,
    since: int,
    until: int,
    n_states: int,
    expected_days: float,
) -> tuple[np.ndarray, np.ndarray]:
    """What each state went through with its own requests closed in ``[since, until)``.

    Args:
        requesting: Requesting state of every request.
        t_issued: Day each was sent (-1 if not yet).
        t_closed: Day each closed (-1 if open).
        outcome: How each ended (:class:`~sim.requests.Outcome`).
        since: First day of the period.
        until: Day after its end.
        n_states: Number of states.
        expected_days: Days to an answer a state expects.

    Returns:
        ``(failure_share, delay_ratio)`` per state: the share of its requests closed
        executed, refused or lapsed in the period that were refused or lapsed, and
        the mean days from sending to an answer (executed or refused) over
        ``expected_days``; 0 for a state with nothing closed or answered.
    """
    closed = (t_closed >= since) & (t_closed < until)
    executed = closed & (outcome == Outcome.EXECUTED)
    failed = closed & ((outcome == Outcome.REFUSED) | (outcome == Outcome.LAPSED))
    answered = closed & ((outcome == Outcome.EXECUTED) | (outcome == Outcome.REFUSED))
    count = np.bincount(requesting[executed | failed], minlength=n_states)
    failures = np.bincount(requesting[failed], minlength=n_states)
    waits = (t_closed - t_issued)[answered].astype(float)
    answers = np.bincount(requesting[answered], minlength=n_states)
    wait_sum = np.bincount(requesting[answered], weights=waits, minlength=n_states)
    failure_share = np.divide(failures, count, out=np.zeros(n_states), where=count > 0)
    mean_wait = np.divide(wait_sum, answers, out=np.zeros(n_states), where=answers > 0)
    return failure_share, mean_wait / max(expected_days, 1e-9)


def peer_share(traffic: np.ndarray, holds: np.ndarray) -> np.ndarray:
    """Share of each state's partners holding the instrument, weighted by requests exchanged.

    Args:
        traffic: (n, n) requests sent, row to column.
        holds: (n,) bool: which states hold the instrument.

    Returns:
        (n,) shares; 0 for a state that has exchanged no request.
    """
    exchanged = (traffic + traffic.T).astype(float)
    np.fill_diagonal(exchanged, 0.0)
    total = exchanged.sum(axis=1)
    held = exchanged @ holds.astype(float)
    return np.divide(held, total, out=np.zeros(total.size), where=total > 0)


def holders_at_start(lever: str, world: World) -> np.ndarray:
    """States that already hold a lever's instrument before anyone adopts it.

    Bloc members already recognise each other's decisions and connected states
    already use the platform; a law or a treaty network starts with nobody.
    """
    if lever == "mutual_recognition":
        return world.mr_bloc.copy()
    if lever == "secure_platform":
        return world.platform.copy()
    return np.zeros(world.n_states, dtype=bool)


@dataclass
class LeverAdoption:
    """Where one endogenous lever stands: its candidates, holders and adoption days.

    Attributes:
        reform: The lever (its parameters and start day).
        candidates: (n,) bool: target states that decide whether to adopt.
        holds: (n,) bool: states holding the instrument (adopters and earlier holders).
        adopted_day: (n,) day each candidate adopted, -1 if it has not: the lever's
            record in :attr:`sim.policy.PolicyState.in_force_since`, the same array.
    """

    reform: Reform
    candidates: np.ndarray
    holds: np.ndarray
    adopted_day: np.ndarray

    def share_adopted(self) -> float:
        """Share of the candidates that have adopted (NaN without candidates)."""
        n = int(self.candidates.sum())
        return float((self.adopted_day[self.candidates] >= 0).sum() / n) if n else float("nan")


class AdoptionProcess:
    """The decisions of candidate states on every endogenous lever of a run.

    Args:
        model: The model; a lever opens its adoption through :meth:`open`.

    Attributes:
        levers: Lever name -> :class:`LeverAdoption`, for the levers opened so far.
    """

    def __init__(self, model: DecisionHost):
        self.model = model
        self.levers: dict[str, LeverAdoption] = {}
        self.rng: np.random.Generator | None = None
        # Mesa holds event callbacks weakly: keep each review callback (and its generator).
        self._callbacks: list[Any] = []

    def open(self, reform: Reform) -> None:
        """Start the candidates' reviews of a lever (called when the lever takes effect)."""
        from mesa.time import Schedule

        m = self.model
        if self.rng is None:
            # A child stream: spawning does not advance the model's generator.
            self.rng = m.rng.spawn(1)[0]
        # States that hold the instrument, or in which a reform already put the lever in
        # force, have nothing to decide: the candidates are the other targets.
        adopted_day = m.policy.in_force(reform.name)
        holds = holders_at_start(reform.name, m.world) | (adopted_day >= 0)
        candidates = np.zeros(m.world.n_states, dtype=bool)
        candidates[reform.targets] = True
        candidates &= ~holds
        self.levers[reform.name] = LeverAdoption(reform, candidates, holds, adopted_day)
        m.series[series_name(reform.name)] = np.zeros(m.horizon_days)
        self.review(reform.name)
        interval = m.config.adoption.review_days
        callback = functools.partial(self.review, reform.name)
        schedule = Schedule(interval=interval, start=m.time + interval)
        generator = m.schedule_recurring(callback, schedule)
        self._callbacks.append((callback, generator))

    def review(self, lever: str) -> np.ndarray:
        """Each candidate that has not adopted decides now; the adopters get the reform.

        Returns:
            The states that adopted at this review.
        """
        m, state = self.model, self.levers[lever]
        cfg = m.config.adoption
        day = m.day
        deciding = np.flatnonzero(state.candidates & (state.adopted_day < 0))
        if deciding.size == 0 or day >= m.horizon_days:
            return deciding[:0]
        led = m.ledger
        failure, delay = experience(
            led.col("requesting_state"),
            led.col("t_issued"),
            led.col("t_closed"),
            led.col("outcome"),
            since=day - int(round(cfg.review_days)),
            until=day,
            n_states=m.world.n_states,
            expected_days=m.config.trust.expected_response_days,
        )
        params = state.reform.params
        p = adoption_probability(
            failure[deciding],
            delay[deciding],
            params.adoption_cost / np.maximum(m.world.capacity[deciding], 1e-9),
            m.world.sovereignty[deciding],
            peer_share(m.traffic, state.holds)[deciding],
            cfg,
        )
        adopters = deciding[self.rng.random(deciding.size) < p]
        if adopters.size:
            m.policy.put_in_force(lever, adopters, day)
            state.holds[adopters] = True
            take_effect(m, state, adopters)
        m.series[series_name(lever)][day:] = state.share_adopted()
        return adopters

    # ------------------------------------------------------------------ outputs
    def outcomes(self) -> dict[str, dict[str, float]]:
        """Final adoption share and mean days to adopt, by adoptable lever (NaN if imposed)."""
        share, days = {}, {}
        for lever in adoptable_lever_names():
            state = self.levers.get(lever)
            if state is None:
                share[lever] = days[lever] = float("nan")
                continue
            share[lever] = state.share_adopted()
            adopted = state.adopted_day[state.candidates & (state.adopted_day >= 0)]
            start = state.reform.applied_day or 0
            days[lever] = float((adopted - start).mean()) if adopted.size else float("nan")
        return {"adoption_share": share, "mean_days_to_adopt": days}

    def frame(self) -> pd.DataFrame:
        """Who decided on which lever and when: one row per candidate state and lever.

        Columns: ``lever``, ``state`` (code), ``adopted`` (bool), ``day`` adopted
        (-1 if not), ``days_after_start`` (from the lever's start; -1 if not adopted).
        """
        codes = np.asarray(self.model.world.codes)
        rows = []
        for lever, state in self.levers.items():
            start = state.reform.applied_day or 0
            for i in np.flatnonzero(state.candidates).tolist():
                day = int(state.adopted_day[i])
                rows.append(
                    {
                        "lever": lever,
                        "state": codes[i],
                        "adopted": day >= 0,
                        "day": day,
                        "days_after_start": day - start if day >= 0 else -1,
                    }
                )
        columns = ["lever", "state", "adopted", "day", "days_after_start"]
        return pd.DataFrame(rows, columns=columns)


def series_name(lever: str) -> str:
    """Daily series column of a lever's adoption curve (share of candidates adopted)."""
    return f"adopted_{lever}"


def take_effect(model: CooperationModel, state: LeverAdoption, adopters: np.ndarray) -> None:
    """The lever's own effect on the adopters, with the instrument binding holders only."""
    reform = state.reform
    if reform.name == "treaty_expansion":
        # A treaty joins the adopters' network: partners are the other holders.
        apply_treaty_expansion(model, adopters, reform.params, partners=np.flatnonzero(state.holds))
    else:
        EFFECTS[reform.name](model, adopters, reform.params)


# ``ADOPTABLE_LEVERS``: the registry's adoptable levers, read when accessed.
__getattr__ = levers.reexport(__name__, "ADOPTABLE_LEVERS")
