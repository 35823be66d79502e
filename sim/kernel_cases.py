"""Process 1's draws, compiled: the day's new cases, their partners and what each link needs.

:func:`draw_cases` makes every draw of a day's case generation from the case stream,
in the order the vectorised code made them (so runs are unchanged draw for draw):
cases per state, their types, severities, sensitivities, deadlines and numbers of
foreign links; each case's partner states by the gravity rule, case by case; then,
link by link, whether it asks for a person or for evidence, whether the person's
whereabouts are unknown, whether a coercive measure is needed, whether the person is
a national of the requested state, and whether they would consent to surrender.
:func:`record_cases` adds them to the case book and proposes their joint teams;
:mod:`sim.kernel_casegen` runs both in the day's case generation.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from sim.kernel_cache import njit  # first: where and how numba compiles the kernels
from sim.kernel_calendar import file_all
from sim.kernel_draws import beta, poisson, uniform
from sim.kernel_lifecycle import CASE_OPEN, EXTRADITION, MLA_EVIDENCE, trust_arrays
from sim.kernel_pick import insert_right, repeat_each
from sim.kernel_state import K_OPEN
from sim.kernel_teams import team_candidates
from sim.units import DAYS_PER_YEAR

# A case type's mean political sensitivity may be 0 or 1 (the schema allows it), where
# the Beta around it has no density: the draws keep the mean this far inside.
SENSITIVITY_MEAN_LOW, SENSITIVITY_MEAN_HIGH = 0.02, 0.98

# What draw_cases gives back: per case, then per link (case by case).
CaseDraws = namedtuple(
    "CaseDraws",
    [
        "origin",
        "case_type",
        "severity",
        "sensitivity",
        "deadline",
        "links",
        "requested",
        "kind",
        "hidden",
        "coercive",
        "national",
        "consent",
    ],
)

# The scenario's numbers draw_cases reads (case_parameters builds the array).
CASE_PARAMETERS = (
    ("cases", "severity_shape"),
    ("cases", "severity_shape_b"),
    ("cases", "sensitivity_concentration"),
    ("cases", "deadline_shape"),
    ("cases", "deadline_days_mean"),
    ("cases", "mean_foreign_links"),
    ("cases", "extradition_share"),
    ("interpol", "location_unknown_share"),
    ("cases", "coercive_share"),
    ("cases", "national_share"),
    ("judicial", "consent_base"),
    ("judicial", "consent_strength_weight"),
    ("judicial", "consent_national_weight"),
    ("judicial", "consent_conditions_weight"),
    ("judicial", "consent_contest_weight"),
    ("mutual_recognition", "hearing_days"),
    ("judicial", "extradition_days"),
)
(
    C_SEVERITY_A,
    C_SEVERITY_B,
    C_CONCENTRATION,
    C_DEADLINE_SHAPE,
    C_DEADLINE_MEAN,
    C_MEAN_LINKS,
    C_EXTRADITION_SHARE,
    C_UNKNOWN_SHARE,
    C_COERCIVE_SHARE,
    C_NATIONAL_SHARE,
    C_CONSENT_BASE,
    C_CONSENT_STRENGTH,
    C_CONSENT_NATIONAL,
    C_CONSENT_CONDITIONS,
    C_CONSENT_CONTEST,
    C_HEARING_DAYS,
    C_EXTRADITION_DAYS,
) = range(len(CASE_PARAMETERS))


def case_parameters(config) -> np.ndarray:
    """The scenario's numbers :func:`draw_cases` reads, at the ``C_`` offsets."""
    return np.array(
        [float(getattr(getattr(config, section), name)) for section, name in CASE_PARAMETERS]
    )


@njit(cache=True)
def gravity_partners(rng, row, origin, k, out, at):
    """Draw ``k`` distinct partners other than ``origin`` into ``out[at:]`` (gravity rule).

    ``row`` holds the origin's cumulative partner weights. ``k`` uniforms at a time
    until ``k`` distinct partners are found, each kept if new and not the origin.
    """
    bits = rng.bit_generator  # draws one at a time (sim.kernel_draws)
    last = row.size - 1
    total = row[last]
    chosen = 0
    while chosen < k:
        for _ in range(k):  # a round draws k, used or not (one draw at a time: no array)
            p = min(insert_right(row, uniform(bits) * total), last)
            if p == origin or chosen >= k:
                continue
            new = True
            for c in range(chosen):
                if out[at + c] == p:
                    new = False
                    break
            if new:
                out[at + chosen] = p
                chosen += 1


@njit(cache=True, entry=True)
def consent_probability(strength, national, conditions, contest_years, weights):
    """Chance that a person sought consents to surrender (a logistic choice).

    A strong case, good detention and trial conditions in the requesting state and a
    long contested route (in custody) push towards consent; being a national of the
    requested state pushes against it.

    Args:
        strength: Strength of the case against the person (0-1).
        national: The person is a national of the requested state.
        conditions: The requesting state's rights standards (0-1).
        contest_years: Expected length of the contested route, in years.
        weights: The base and the weights of the four drivers, in that order
            (``judicial.consent_base`` ... ``judicial.consent_contest_weight``).
    """
    z = (
        weights[0]
        + weights[1] * strength
        + weights[2] * (1.0 if national else 0.0)
        + weights[3] * conditions
        + weights[4] * contest_years
    )
    return 1.0 / (1.0 + np.exp(-z))


@njit(cache=True)
def consents(rng, requesting, requested, national, mr_bloc, rights, cp):
    """Whether each person sought would consent to surrender (drawn once, at the request).

    The person weighs the strength of the case against them (a uniform draw for every
    link), whether they are a national of the state holding them, conditions in the
    requesting state and how long contesting would take there (a warrant hearing in
    the bloc, a full extradition hearing elsewhere).
    """
    bits = rng.bit_generator  # draws one at a time (sim.kernel_draws)
    k = requesting.size
    strength = rng.random(k)
    weights = cp[C_CONSENT_BASE : C_CONSENT_CONTEST + 1]
    consent = np.empty(k, dtype=np.bool_)
    for q in range(k):
        a, b = requesting[q], requested[q]
        contest = cp[C_HEARING_DAYS] if (mr_bloc[a] and mr_bloc[b]) else cp[C_EXTRADITION_DAYS]
        p = consent_probability(
            strength[q], national[q], rights[a], contest / DAYS_PER_YEAR, weights
        )
        consent[q] = uniform(bits) < p
    return consent


@njit(cache=True)
def draw_cases(R, rate, type_cdf, type_sensitivity, gravity_cum, mr_bloc, rights, cp, day):
    """Every draw of one day's case generation (see the module docstring).

    Args:
        R: The model's :class:`~sim.kernel_struct.Streams`; the draws are ``R.cases``'.
        rate: Expected new cases a day per state.
        type_cdf: Cumulative distribution of case types.
        type_sensitivity: Mean political sensitivity of each case type.
        gravity_cum: Each state's cumulative partner weights (one row per state).
        mr_bloc: Whether each state is in the mutual-recognition bloc.
        rights: Each state's rights standards (the conditions a person weighs).
        cp: The scenario's numbers (:func:`case_parameters`).
        day: Today.

    Returns:
        A :data:`CaseDraws`.
    """
    rng = R.cases
    bits = rng.bit_generator  # draws one at a time (sim.kernel_draws)
    n_states = rate.size
    counts = np.empty(n_states, dtype=np.int64)
    for s in range(n_states):
        counts[s] = poisson(bits, rate[s])
    n = counts.sum()
    origin = repeat_each(np.arange(n_states), counts)
    u = rng.random(n)  # the same draws as one call a draw (so for every batch below)
    case_type = np.empty(n, dtype=np.int64)
    for c in range(n):
        case_type[c] = insert_right(type_cdf, u[c])
    severity = rng.beta(cp[C_SEVERITY_A], cp[C_SEVERITY_B], n)
    sensitivity = np.empty(n)
    concentration = cp[C_CONCENTRATION]
    for c in range(n):
        mean = min(max(type_sensitivity[case_type[c]], SENSITIVITY_MEAN_LOW), SENSITIVITY_MEAN_HIGH)
        sensitivity[c] = beta(bits, concentration * mean, concentration * (1 - mean))
    scale = cp[C_DEADLINE_MEAN] / cp[C_DEADLINE_SHAPE]
    deadline = np.empty(n, dtype=np.int64)
    deadline_days = rng.gamma(cp[C_DEADLINE_SHAPE], scale, n)
    for c in range(n):
        deadline[c] = day + 1 + np.int64(np.rint(max(deadline_days[c], 0.0)))
    links = rng.poisson(cp[C_MEAN_LINKS] - 1.0, n)
    for c in range(n):
        links[c] = min(1 + links[c], n_states - 1)
    k = links.sum()
    requested = np.empty(k, dtype=np.int64)
    at = np.int64(0)
    for c in range(n):
        gravity_partners(rng, gravity_cum[origin[c]], origin[c], links[c], requested, at)
        at += links[c]
    requesting = repeat_each(origin, links)
    extradition = rng.random(k) < cp[C_EXTRADITION_SHARE]
    hidden = (rng.random(k) < cp[C_UNKNOWN_SHARE]) & extradition
    coercive = (rng.random(k) < cp[C_COERCIVE_SHARE]) & ~extradition
    national = (rng.random(k) < cp[C_NATIONAL_SHARE]) & extradition
    consent = consents(rng, requesting, requested, national, mr_bloc, rights, cp) & extradition
    kind = np.empty(k, dtype=np.int64)
    for q in range(k):
        kind[q] = EXTRADITION if extradition[q] else MLA_EVIDENCE
    return CaseDraws(
        origin,
        case_type,
        severity,
        sensitivity,
        deadline,
        links,
        requested,
        kind,
        hidden,
        coercive,
        national,
        consent,
    )


@njit(cache=True)
def record_cases(S, day, drawn, team_numbers, threshold_shift, trust_shift, team_terms):
    """Add the drawn cases to the case book; propose their joint teams.

    Args:
        S: The model's struct (:class:`sim.kernel_struct.KernelState`), with room for
            the cases.
        day: Today.
        drawn: The day's :data:`sim.kernel_cases.CaseDraws`.
        team_numbers: ``(min_states, severity_threshold, agreement_trust)``.
        threshold_shift: The policy's lowering of the severity threshold (per state).
        trust_shift: The policy's lowering of the trust a team needs (per state).
        team_terms: A UNODC operation's and an agreement's team terms
            (:meth:`sim.operations.Operations.team_terms`).

    Returns:
        ``(case_ids, candidates)``: the new cases' ids and
        :func:`sim.kernel_teams.team_candidates`' result for them.
    """
    n = drawn.origin.size
    first = S.case_n_rows[0]
    if first + n > S.case_origin.size:
        raise IndexError("the case book has too little room reserved for this call")
    case_ids = np.arange(first, first + n)
    for c in range(n):
        r = case_ids[c]
        S.case_origin[r] = drawn.origin[c]
        S.case_type[r] = drawn.case_type[c]
        S.case_severity[r] = drawn.severity[c]
        S.case_political_sensitivity[r] = drawn.sensitivity[c]
        S.case_t_created[r] = day
        S.case_deadline[r] = drawn.deadline[c]
        S.case_needed[r] = drawn.links[c]
        # The rest at the case book's fills: its rows are zero bytes until written.
        S.case_received[r] = 0
        S.case_status[r] = CASE_OPEN
        S.case_t_closed[r] = -1
    S.case_n_rows[0] = first + n
    for c in range(n):
        S.latest_case[drawn.origin[c], drawn.case_type[c]] = case_ids[c]
    S.counters[K_OPEN] += n
    file_all(
        S.deadline_ids,
        S.deadline_links,
        S.deadline_meta,
        S.deadline_count,
        case_ids,
        drawn.deadline,
    )
    candidates = team_candidates(
        trust_arrays(S),
        day,
        case_ids,
        drawn.links,
        drawn.requested,
        S.case_origin,
        S.case_type,
        S.case_severity,
        team_numbers,
        threshold_shift,
        trust_shift,
        team_terms,
    )
    return case_ids, candidates
