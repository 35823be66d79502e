"""A day of electronic evidence's investigations and provider decisions, compiled.

:meth:`sim.eevidence.ElectronicEvidence.daily` opened the day's domestic
investigations and decided each cross-border request at its provider in some forty
numpy calls on arrays of a few dozen: more than half of an e-evidence run. This is
that day in one call. It draws from the process's own stream in the order the
vectorised day drew (each block of draws for every investigation or request before
the next block), with numba's implementations of numpy's draws, so a run is the
same bit for bit. The rules are :mod:`sim.eevidence_rules`', compiled from their own
source (:data:`provider_states` and the rest below), not written a second time.

Python appends the returned requests to the e-evidence book and files the fallbacks
(:meth:`~sim.eevidence.ElectronicEvidence.daily`).
"""

from __future__ import annotations

import numpy as np

from sim.eevidence_rules import (
    ANSWERED,
    FALLBACK,
    PRODUCTION_ORDER,
    choose_route,
    disclosure_probability,
    order_outcome,
    provider_states,
)
from sim.kernel_cache import njit  # first: where and how numba compiles the kernels
from sim.kernel_cases import SENSITIVITY_MEAN_HIGH, SENSITIVITY_MEAN_LOW
from sim.kernel_draws import beta, poisson, standard_normal, uniform

# The rules of sim.eevidence_rules, compiled from their source (one implementation).
_provider_states = njit(cache=True)(provider_states)
_choose_route = njit(cache=True)(choose_route)
_order_outcome = njit(cache=True)(order_outcome)
_disclosure = njit(cache=True)(disclosure_probability)


@njit(cache=True)
def _uniforms(bits, n):
    """``rng.random(n)``."""
    out = np.empty(n)
    for k in range(n):
        out[k] = uniform(bits)
    return out


@njit(cache=True, entry=True)
def open_investigations(rng, day, rates, investigation, request, world):
    """Today's investigations and their cross-border requests, decided at the provider.

    Args:
        rng: The process's own stream.
        day: Today.
        rates: Expected investigations a day per state.
        investigation: ``(type_cdf, electronic, mean_providers, market_cdf,
            local_share, severity_a, severity_b, mean_sensitivity, kappa,
            deadline_shape, deadline_scale)``.
        request: ``(regime, urgent_threshold, representative_share, sigma,
            emergency_days, handling_days, emergency_deadline_days, deadline_days,
            compliance_rate, voluntary_days, skill_weight, distance_weight,
            gap_weight)``, ``regime`` and ``urgent_threshold`` per state.
        world: ``(propensity, skill, legal_distance, data_protection,
            confidentiality)``.

    Returns:
        ``(opened, cross_border, requests)``: investigations opened, those needing a
        provider abroad, and the requests' columns ``(a, b, case_type, severity,
        sensitivity, deadline, route, urgent, days, end)`` (empty when none).
    """
    (type_cdf, electronic_share, mean_providers, market_cdf, local_share) = investigation[:5]
    severity_a, severity_b, mean_sensitivity, kappa = investigation[5:9]
    deadline_shape, deadline_scale = investigation[9], investigation[10]
    bits = rng.bit_generator
    n_states = rates.size
    counts = np.empty(n_states, dtype=np.int64)
    for s in range(n_states):
        counts[s] = poisson(bits, rates[s])
    n = counts.sum()
    origin = np.repeat(np.arange(n_states), counts)
    case_type = np.searchsorted(type_cdf, _uniforms(bits, n), side="right")
    u = _uniforms(bits, n)
    providers = np.empty(n, dtype=np.int64)
    extra = np.empty(n, dtype=np.int64)
    for k in range(n):
        extra[k] = poisson(bits, mean_providers - 1.0)
    for k in range(n):
        providers[k] = 1 + extra[k] if u[k] < electronic_share[case_type[k]] else 0
    owner = np.repeat(np.arange(n), providers)
    k_all = owner.size
    u_local = _uniforms(bits, k_all)
    u_market = _uniforms(bits, k_all)
    where = _provider_states(origin[owner], u_local, u_market, market_cdf, local_share)
    foreign = where != origin[owner]
    abroad = np.zeros(n, dtype=np.bool_)
    for k in range(k_all):
        if foreign[k]:
            abroad[owner[k]] = True
    cross = np.int64(abroad.sum())
    if not foreign.any():
        return n, cross, _requests(np.int64(0))
    inv = np.flatnonzero(abroad)
    severity = np.empty(inv.size)
    for j in range(inv.size):
        severity[j] = beta(bits, severity_a, severity_b)
    sensitivity = np.empty(inv.size)
    for j in range(inv.size):
        mean = min(
            max(mean_sensitivity[case_type[inv[j]]], SENSITIVITY_MEAN_LOW), SENSITIVITY_MEAN_HIGH
        )
        sensitivity[j] = beta(bits, kappa * mean, kappa * (1 - mean))
    deadline = np.empty(inv.size, dtype=np.int64)
    for j in range(inv.size):
        deadline[j] = day + 1 + np.int64(np.ceil(rng.gamma(deadline_shape, deadline_scale)))
    slot = np.full(n, -1, dtype=np.int64)
    for j in range(inv.size):
        slot[inv[j]] = j
    req_owner = owner[foreign]
    s = slot[req_owner]
    a, b = origin[req_owner], where[foreign]
    m = a.size
    u_rep, u_yes = _uniforms(bits, m), _uniforms(bits, m)
    z = np.empty(m)
    for k in range(m):
        z[k] = standard_normal(bits)
    requests = _decide(
        a,
        b,
        case_type[req_owner],
        severity[s],
        sensitivity[s],
        deadline[s],
        u_rep,
        u_yes,
        z,
        request,
        world,
    )
    return n, cross, requests


@njit(cache=True)
def _requests(m):
    """Columns for ``m`` requests, of the types :func:`_decide` returns."""
    return (
        np.empty(m, dtype=np.int64),
        np.empty(m, dtype=np.int64),
        np.empty(m, dtype=np.int64),
        np.empty(m),
        np.empty(m),
        np.empty(m, dtype=np.int64),
        np.empty(m, dtype=np.int64),
        np.empty(m, dtype=np.bool_),
        np.empty(m),
        np.empty(m, dtype=np.int64),
    )


@njit(cache=True)
def _decide(a, b, case_type, severity, sensitivity, deadline, u_rep, u_yes, z, request, world):
    """Each request's route, urgency, and when and how it ends at the provider.

    Common random numbers: every request draws ``u_rep``, ``u_yes`` and ``z`` whatever
    its route. Returns the requests' columns (see :func:`open_investigations`).
    """
    regime, urgent_threshold, representative_share, sigma = request[:4]
    emergency_days, handling_days, emergency_deadline_days, deadline_days = request[4:8]
    compliance_rate, voluntary_days = request[8], request[9]
    skill_weight, distance_weight, gap_weight = request[10], request[11], request[12]
    propensity, skill, legal_distance, data_protection, confidentiality = world
    m = a.size
    urgent = np.empty(m, dtype=np.bool_)
    for k in range(m):
        urgent[k] = severity[k] >= urgent_threshold[a[k]]
    route = _choose_route(regime[a], regime[b], u_rep, representative_share)
    # Mean-preserving lognormal noise from the given normals (sim.durations.lognormal_days).
    spread = sigma * z - 0.5 * sigma**2
    order_days, order_end = _order_outcome(
        np.where(urgent, emergency_days, handling_days) * np.exp(spread),
        np.where(urgent, emergency_deadline_days, deadline_days),
        u_yes < compliance_rate,
    )
    distance = np.empty(m)
    gap = np.empty(m)
    for k in range(m):
        distance[k] = legal_distance[a[k], b[k]]
        gap[k] = data_protection[b[k]] - max(data_protection[a[k]], confidentiality[a[k]])
    p_yes = _disclosure(
        propensity[b], skill[a], distance, gap, skill_weight, distance_weight, gap_weight
    )
    answered_days = np.where(urgent, emergency_days, voluntary_days) * np.exp(spread)
    voluntary_end = np.where(u_yes < p_yes, ANSWERED, FALLBACK)
    order = route == PRODUCTION_ORDER
    days = np.where(order, order_days, answered_days)
    end = np.where(order, order_end, voluntary_end)
    return a, b, case_type, severity, sensitivity, deadline, route, urgent, days, end
