"""Trust dynamics: closed forms of gain, loss and relaxation, and the lazy trust network."""

from __future__ import annotations

import math

import numpy as np
import pytest
from numba import njit

from sim import trust
from sim.trust import TrustNetwork, gain


def test_gain_moves_share_of_gap_to_one():
    assert trust.gain(0.5, 0.1) == pytest.approx(0.55)
    assert trust.gain(0.0, 0.25) == pytest.approx(0.25)
    assert trust.gain(1.0, 0.3) == pytest.approx(1.0)  # full trust stays full


def test_loss_removes_share_of_trust():
    assert trust.loss(0.5, 0.2) == pytest.approx(0.4)
    assert trust.loss(0.0, 0.5) == 0.0


def test_n_gains_follow_geometric_series():
    t, rate = 0.2, 0.05
    for _ in range(17):
        t = trust.gain(t, rate)
    assert t == pytest.approx(1 - 0.8 * 0.95**17)


@pytest.mark.parametrize("rate", [0.05, 0.1, 0.5])
def test_relax_after_a_year_closes_exactly_the_yearly_share(rate):
    baseline, start = 0.6, 0.2
    after = trust.relax(start, baseline, 365, rate)
    assert (after - start) == pytest.approx(rate * (baseline - start))
    # From above too: the gap closes from either side.
    above = trust.relax(0.9, baseline, 365, rate)
    assert (0.9 - above) == pytest.approx(rate * (0.9 - baseline))


def test_relax_composes_over_time():
    one = trust.relax(trust.relax(0.1, 0.7, 100, 0.2), 0.7, 265, 0.2)
    assert one == pytest.approx(trust.relax(0.1, 0.7, 365, 0.2))
    two_years = trust.relax(0.1, 0.7, 730, 0.2)
    assert (two_years - 0.1) == pytest.approx((1 - 0.8**2) * 0.6)


def test_relax_without_decay_or_time_changes_nothing():
    assert trust.relax(0.3, 0.7, 1000, 0.0) == 0.3
    assert trust.relax(0.3, 0.7, 0, 0.4) == pytest.approx(0.3)


@pytest.mark.parametrize(
    ("rate_gain", "rate_loss", "start"),
    [(0.03, 0.08, 0.5), (0.05, 0.3, 0.7), (0.1, 0.1, 0.4), (0.01, 0.5, 0.9), (0.2, 0.05, 0.3)],
)
def test_exchanges_to_recover_matches_geometric_series(rate_gain, rate_loss, start):
    # After one loss trust is t0 = s (1 - l); after n gains 1 - (1 - t0)(1 - g)^n.
    # It is back at s once (1 - g)^n <= (1 - s) / (1 - t0).
    t0 = start * (1 - rate_loss)
    analytic = math.ceil(math.log((1 - start) / (1 - t0)) / math.log(1 - rate_gain))
    assert trust.exchanges_to_recover(rate_gain, rate_loss, start) == analytic


def test_trust_is_quicker_to_lose_than_to_build_at_defaults():
    from sim.scenario import TrustSection

    t = TrustSection()
    assert trust.exchanges_to_recover(t.gain_on_success, t.loss_on_refusal) > 1


# ---------------------------------------------------------------- the network


def _network(decay=0.1):
    initial = np.full((3, 3), 0.5)
    np.fill_diagonal(initial, 1.0)
    return TrustNetwork(initial, decay)


def test_network_reward_and_penalise_are_directed():
    net = _network()
    net.reward(0, 1, 0.1, day=0)
    assert net.get(0, 1, 0) == pytest.approx(0.55)
    assert net.get(1, 0, 0) == pytest.approx(0.5)  # the other direction is untouched
    net.penalise(1, 0, 0.2, day=0)
    assert net.get(1, 0, 0) == pytest.approx(0.4)


def test_network_repeated_pairs_compound_in_one_batch():
    net = _network()
    net.reward(np.array([0, 0, 0]), np.array([2, 2, 2]), 0.1, day=5)
    assert net.get(0, 2, 5) == pytest.approx(1 - 0.5 * 0.9**3)


@pytest.mark.parametrize("towards_one", [True, False])
def test_a_large_batch_compounds_each_pair_in_batch_order(towards_one):
    """Over 32 updates the batch is grouped by state first: the same as one at a time."""
    rng = np.random.default_rng(3)
    n, m = 6, 200
    i, j = rng.integers(0, n, m), rng.integers(0, n, m)
    rate = rng.uniform(-0.1, 0.4, m)  # some below zero: clipped
    initial = rng.uniform(0.2, 0.9, (n, n))
    batched, single = TrustNetwork(initial, 0.0), TrustNetwork(initial, 0.0)
    update = "reward" if towards_one else "penalise"
    getattr(batched, update)(i, j, rate, day=0)
    for k in range(m):
        getattr(single, update)(i[k], j[k], rate[k], day=0)
    np.testing.assert_allclose(batched.snapshot(0), single.snapshot(0), rtol=1e-12)
    assert batched.mean(0) == pytest.approx(single.mean(0), rel=1e-12)


@pytest.mark.parametrize(("n", "m"), [(6, 20), (6, 300), (2, 2000)])
def test_a_batch_compounds_as_the_sorted_distinct_pairs_did_to_the_bit(n, m):
    """The rule as it was written before the batch was counted into order: the distinct
    keys sorted, each update's factor multiplied into its pair in batch order, the
    pairs' moves summed in key order. Without decay the trust read is the value, so
    the reference is numpy's arithmetic, bit for bit."""
    rng = np.random.default_rng(m)
    i, j = rng.integers(0, n, m), rng.integers(0, n, m)
    rate = rng.uniform(-0.1, 0.4, m)
    initial = rng.uniform(0.2, 0.9, (n, n))
    for towards_one in (True, False):
        net = TrustNetwork(initial, 0.0)
        net.mean(0)  # the running sums valid, so the batch adds its moves to them
        before_gap = net.sums[0]
        (net.reward if towards_one else net.penalise)(i, j, rate, day=0)
        key = i * n + j
        pairs = np.unique(key)
        keep = np.ones(pairs.size)
        for k in range(m):
            p = np.searchsorted(pairs, key[k])
            keep[p] = keep[p] * (1.0 - min(max(rate[k], 0.0), 1.0))
        old = initial.ravel()[pairs]
        new = (1.0 - (1.0 - old) * keep) if towards_one else old * keep
        new = np.clip(new, 0.0, 1.0)
        assert net.arrays().value.ravel()[pairs].tobytes() == new.tobytes()
        moved = (new - old)[pairs // n != pairs % n]
        assert net.sums[0] == before_gap + moved.sum()


def test_network_relaxes_lazily_towards_baseline():
    net = _network(decay=0.2)
    net.penalise(0, 1, 0.5, day=10)  # 0.5 -> 0.25
    assert net.get(0, 1, 10) == pytest.approx(0.25)
    # A year later a fifth of the gap to 0.5 is closed.
    assert net.get(0, 1, 375) == pytest.approx(0.25 + 0.2 * 0.25)
    # An update after the year starts from the relaxed value.
    net.reward(0, 1, 0.1, day=375)
    relaxed = 0.25 + 0.2 * 0.25
    assert net.get(0, 1, 375) == pytest.approx(relaxed + 0.1 * (1 - relaxed))
    np.testing.assert_allclose(net.snapshot(375)[0, 1], net.get(0, 1, 375))


def test_network_mean_excludes_the_diagonal():
    net = _network()
    assert net.mean(0) == pytest.approx(0.5)
    net.reward(2, 0, 1.0, day=0)  # one of the six ordered pairs goes to 1
    assert net.mean(0) == pytest.approx((5 * 0.5 + 1.0) / 6)
    assert math.isnan(TrustNetwork(np.ones((1, 1)), 0.1).mean(0))


def test_network_values_stay_in_unit_interval():
    net = _network()
    for _ in range(50):
        net.reward(0, 1, 0.9, day=0)
        net.penalise(1, 2, 0.9, day=0)
    assert 0.0 <= net.get(1, 2, 0) <= net.get(0, 1, 0) <= 1.0
    assert net.snapshot(0).min() >= 0.0 and net.snapshot(0).max() <= 1.0


def test_network_rates_per_pair_compound_in_turn():
    net = _network(decay=0.0)
    # Pair (0, 1) twice with rates 0.5 and 0.2, pair (0, 2) once with 0.1: from 0.5.
    net.reward(np.array([0, 0, 0]), np.array([1, 2, 1]), np.array([0.5, 0.1, 0.2]), day=0)
    assert net.get(0, 1, 0) == pytest.approx(gain(gain(0.5, 0.5), 0.2))
    assert net.get(0, 2, 0) == pytest.approx(gain(0.5, 0.1))
    net.penalise(np.array([1, 1]), np.array([0, 0]), np.array([0.5, 0.5]), day=0)
    assert net.get(1, 0, 0) == pytest.approx(0.125)
    # Rates outside [0, 1] (a timeliness factor times a gain) are clipped, not amplified.
    net.reward(np.array([2, 2]), np.array([0, 1]), np.array([1.7, -0.3]), day=0)
    assert net.get(2, 0, 0) == 1.0 and net.get(2, 1, 0) == pytest.approx(0.5)


def test_network_slow_decay_closes_the_reduced_share_in_a_year():
    net = _network(decay=0.4)
    net.penalise(0, 1, 0.5, day=0)  # 0.5 -> 0.25
    net.slow_decay(0, 1, 0.5, day=0)  # decay 0.4 -> 0.2 a year for this pair only
    assert net.get(0, 1, 365) == pytest.approx(0.25 + 0.2 * 0.25)
    net.penalise(1, 0, 0.5, day=0)
    assert net.get(1, 0, 365) == pytest.approx(0.25 + 0.4 * 0.25)


@pytest.mark.parametrize("decay", [0.0, 0.3, 1.0])
def test_network_mean_equals_the_off_diagonal_mean_of_the_snapshot(decay):
    rng = np.random.default_rng(7)
    n = 6
    net = TrustNetwork(rng.uniform(0.2, 0.9, (n, n)), decay_per_year=decay)
    day = 0
    for _ in range(40):
        i, j = rng.integers(0, n, 5), rng.integers(0, n, 5)
        rule = rng.integers(0, 4)
        if rule == 0:
            net.reward(i, j, 0.1, day)
        elif rule == 1:
            net.penalise(i, j, 0.4, day)
        elif rule == 2:
            net.slow_decay(i[:2], j[:2], 0.5, day)
        else:
            net.reward(i, j, rng.uniform(0, 0.3, i.size), day)
        snapshot = net.snapshot(day)
        expected = (snapshot.sum() - np.trace(snapshot)) / (n * (n - 1))
        assert net.mean(day) == pytest.approx(expected, rel=1e-12, abs=1e-12)
        day += int(rng.integers(0, 40))
    # A write dated before the last mean (allowed, if unusual) still gives the exact mean.
    net.penalise(np.array([0, 1]), np.array([1, 2]), 0.5, day - 50)
    snapshot = net.snapshot(day)
    expected = (snapshot.sum() - np.trace(snapshot)) / (n * (n - 1))
    assert net.mean(day) == pytest.approx(expected, rel=1e-12, abs=1e-12)


@njit
def _shares_by_pow(decay, days):
    out = np.empty(days.size)
    for k in range(days.size):
        out[k] = (1.0 - decay) ** (days[k] / 365)
    return out


def test_trust_from_the_kept_shares_is_the_computed_trust_to_the_bit():
    from sim.kernel_state import KEEP_DAYS
    from sim.kernel_trust import trust_get

    # The kept shares: what a kernel's own pow gives for each whole day, bit for bit.
    days = np.arange(KEEP_DAYS, dtype=np.float64)
    for decay in (0.0, 0.05, 0.1, 0.3, 0.999, 1.0):
        kept = TrustNetwork(np.full((2, 2), 0.4), decay_per_year=decay).keep
        assert np.array_equal(kept, _shares_by_pow(decay, days))
    net = TrustNetwork(np.full((3, 3), 0.4), decay_per_year=0.1)
    assert net.keep[0] == 1.0 and net.keep[365] == 0.9
    with pytest.raises(ValueError):  # no real share for a decay above 1
        TrustNetwork(np.full((2, 2), 0.4), decay_per_year=1.5)

    net.penalise([0, 1, 2], [1, 2, 0], 0.5, day=3)
    net.decay[2, 0] = 0.05  # a pair with its own decay: computed, not kept
    elapsed = [0.0, 1.0, 7.0, 362.0, 2.5, KEEP_DAYS - 1.0, KEEP_DAYS, 9000.0]
    for day in (3.0 + e for e in elapsed):
        for i, j in ((0, 1), (1, 2), (2, 0), (1, 1)):
            decay, last = net.decay[i, j], net.arrays().last[i, j]
            share = (1.0 - decay) ** ((day - last) / 365.0)
            base = net.baseline[i, j]
            expected = base + (net.arrays().value[i, j] - base) * share
            assert trust_get(net.arrays(), i, j, day) == expected == net.get_one(i, j, day)
