"""Process 1: new cases, the foreign links each needs, and the partner states (gravity rule)."""

from __future__ import annotations

import numpy as np

from sim import frictions
from sim.requests import (
    EXTRADITION_CODE as _EXTRADITION,
)
from sim.requests import (
    Kind,
    spans,
)
from sim.scenario import (
    DAYS_PER_YEAR,
)
from sim.teams import team_is_proposed


class CaseGeneration:
    """Part of :class:`~sim.model.CooperationModel`: case generation and partner choice."""

    # ------------------------------------------------------------------ process 1: cases
    def _generate_cases(self) -> None:
        w, c, rng = self.world, self.config.cases, self.case_rng
        if w.n_states < 2:
            return
        rate = self._daily_rate
        policy = self.policy
        if policy.demand_growth.any():
            years = np.maximum(0.0, self.day - policy.demand_start_day) / DAYS_PER_YEAR
            rate = rate * (1.0 + policy.demand_growth) ** years
        counts = rng.poisson(rate)
        n = int(counts.sum())
        if n == 0:
            return
        origin = np.arange(w.n_states).repeat(counts)
        case_type = draw_categories(rng, self._type_cdf, n)
        severity = rng.beta(c.severity_shape, c.severity_shape_b, size=n)
        mean_sens = self._type_sensitivity[case_type].clip(0.02, 0.98)
        k = c.sensitivity_concentration
        sensitivity = rng.beta(k * mean_sens, k * (1 - mean_sens))
        deadline = (
            self.day
            + 1
            + frictions.to_whole_days(
                rng.gamma(c.deadline_shape, c.deadline_days_mean / c.deadline_shape, size=n)
            )
        )
        links = np.minimum(1 + rng.poisson(c.mean_foreign_links - 1.0, size=n), w.n_states - 1)
        case_ids = self.cases.append(
            origin=origin,
            case_type=case_type,
            severity=severity,
            political_sensitivity=sensitivity,
            t_created=self.day,
            t_deadline=deadline,
            needed=links,
        )
        self.latest_case[origin, case_type] = case_ids
        requested = self._gravity_partners(origin, links)
        case_of_link = case_ids.repeat(links)
        requesting = origin.repeat(links)
        # What each foreign link needs: evidence, or a person (whose whereabouts may be unknown).
        k = case_of_link.size
        kind = np.where(rng.random(k) < c.extradition_share, Kind.EXTRADITION, Kind.MLA_EVIDENCE)
        extradition = kind == _EXTRADITION
        hidden = extradition & (rng.random(k) < self.config.interpol.location_unknown_share)
        coercive = ~extradition & (rng.random(k) < c.coercive_share)
        national = extradition & (rng.random(k) < c.national_share)
        consent = extradition & self._consents(rng, requesting, requested, national)
        in_team = self._propose_teams(case_ids, case_of_link, requested, links)
        known = ~hidden
        self._create_requests(
            case_of_link[known],
            requesting[known],
            requested[known],
            kind[known],
            coercive[known],
            consent[known],
            national[known],
            in_team[known] & ~extradition[known],
        )
        self.fugitives_unlocated += np.count_nonzero(hidden)
        self.interpol.search(case_of_link[hidden], requesting[hidden], requested[hidden])
        self.intelligence.produce(case_ids)
        self._open += case_ids.size
        self._file_deadlines(case_ids, deadline)

    def _consents(self, rng, requesting, requested, national) -> np.ndarray:
        """Whether each person sought would consent to surrender (drawn once, at the request).

        The person weighs the strength of the case against them, whether they are a
        national of the state holding them, conditions in the requesting state and
        how long contesting would take there (a warrant hearing in the bloc, a full
        extradition hearing elsewhere).
        """
        w, j = self.world, self.config.judicial
        strength = rng.random(requesting.size)
        mr = w.mr_bloc[requesting] & w.mr_bloc[requested]
        contest_days = np.where(mr, self.config.mutual_recognition.hearing_days, j.extradition_days)
        p = frictions.consent_probability(
            strength, national, w.rights_standard[requesting], contest_days / DAYS_PER_YEAR, j
        )
        return rng.random(requesting.size) < p

    def _file_deadlines(self, case_ids: np.ndarray, deadline: np.ndarray) -> None:
        """File cases under their deadline day."""
        self._case_deadlines.add(case_ids, deadline)

    def _propose_teams(self, case_ids, case_of_link, requested, links) -> np.ndarray:
        """Form joint teams for qualifying cases; returns, per link, whether it is in a team."""
        cfg = self.config.jit
        in_team = np.zeros(case_of_link.size, dtype=bool)
        # The size and severity test for all new cases at once; only the few cases
        # that pass it go on to the members' agreement (trust, capacity, chance).
        origin = self.cases.origin[case_ids]
        shift = self.policy.team_threshold_shift[origin]
        threshold = np.maximum(0.0, cfg.severity_threshold - shift)
        min_states, relief = cfg.min_states, None
        # An operation's or an agreement's joint work: teams on easier terms.
        terms = self.operations.team_terms(case_ids, requested, links, cfg.min_states, threshold)
        if terms is not None:
            min_states, threshold, relief = terms
        proposed = team_is_proposed(
            links + 1,
            self.cases.severity[case_ids],
            min_states=min_states,
            severity_threshold=threshold,
        )
        candidates = proposed.nonzero()[0]
        if candidates.size == 0:
            return in_team
        # Members of each candidate: its origin, then its partners.
        starts = links.cumsum() - links
        sizes = links[candidates] + 1
        member_start = sizes.cumsum() - sizes
        members = np.empty(int(sizes.sum()), dtype=np.int64)
        members[member_start] = origin[candidates]
        slot = np.ones(members.size, dtype=bool)
        slot[member_start] = False
        members[slot] = requested[spans(starts[candidates], links[candidates])]
        formed = self.teams.consider(
            case_ids[candidates], members, sizes, None if relief is None else relief[candidates]
        )
        in_team[spans(starts[candidates[formed]], links[candidates[formed]])] = True
        return in_team

    def _gravity_partners(self, origin: np.ndarray, links: np.ndarray) -> np.ndarray:
        """Draw ``links[k]`` distinct partner states for each case by the gravity rule.

        Each case draws ``links[k]`` uniforms at a time until it has that many
        distinct partners other than its origin. Almost every case succeeds with its
        first draws, so those are made for all cases at once; at the first case that
        needs more, the generator is rewound to that case, which is drawn on its own
        (:meth:`_gravity_partners_one`), and the batch resumes after it. The random
        stream is consumed exactly as case-by-case drawing would consume it.
        """
        rng, cum = self.case_rng, self._gravity_cum  # partners are part of the case
        last = cum.shape[1] - 1
        origin = np.asarray(origin, dtype=np.int64)
        links = np.asarray(links, dtype=np.int64)
        parts: list[np.ndarray] = []
        first = 0
        while first < origin.size:
            o, k = origin[first:], links[first:]
            state = rng.bit_generator.state
            u = rng.random(int(k.sum()))
            owner = np.arange(o.size).repeat(k)
            origin_of_draw = o[owner]
            x = u * cum[origin_of_draw, last]
            # searchsorted(row, x, side="right"), row by row.
            p = np.minimum(count_at_most(cum, origin_of_draw, x), last)
            bad = p == o[owner]
            if k.max(initial=1) > 1:
                key = owner * (last + 1) + p
                order = np.argsort(key, kind="stable")
                repeated = (key[order][1:] == key[order][:-1]).nonzero()[0]
                bad[order[repeated + 1]] = True
            if not bad.any():
                parts.append(p)
                break
            stop = int(owner[np.argmax(bad)])  # the first case that needs more draws
            done = int(k[:stop].sum())
            parts.append(p[:done])
            rng.bit_generator.state = state
            if done:
                rng.random(done)
            parts.append(self._gravity_partners_one(int(o[stop]), int(k[stop])))
            first += stop + 1
        if not parts:
            return np.zeros(0, dtype=np.int64)
        return np.concatenate(parts).astype(np.int64, copy=False)

    def _gravity_partners_one(self, o: int, k: int) -> np.ndarray:
        """Partners of one case, drawing ``k`` uniforms at a time until ``k`` are distinct."""
        row = self._gravity_cum[o]
        chosen: list[int] = []
        while len(chosen) < k:
            u = self.case_rng.random(k)
            for p in np.searchsorted(row, u * row[-1], side="right").tolist():
                p = min(p, len(row) - 1)
                if p != o and p not in chosen and len(chosen) < k:
                    chosen.append(p)
        return np.asarray(chosen, dtype=np.int64)


def category_cdf(p: np.ndarray) -> np.ndarray:
    """The cumulative distribution ``Generator.choice`` builds from probabilities ``p``."""
    cdf = np.asarray(p, dtype=np.float64).cumsum()
    cdf /= cdf[-1]
    return cdf


def draw_categories(rng: np.random.Generator, cdf: np.ndarray, n: int) -> np.ndarray:
    """``rng.choice(len(cdf), size=n, p=p)`` with ``cdf = category_cdf(p)``, draw for draw.

    The same uniforms and the same lookup as ``Generator.choice``, without its
    per-call checks of ``p`` (about 30 us, paid every simulated day).
    """
    return cdf.searchsorted(rng.random(n), side="right")


# Below this many row entries (draws x states) comparing whole rows beats a binary search.
_DENSE_LOOKUP_LIMIT = 65_536


def count_at_most(cum: np.ndarray, rows: np.ndarray, x: np.ndarray) -> np.ndarray:
    """For each ``i``, how many entries of ``cum[rows[i]]`` are ``<= x[i]``.

    ``cum`` has non-decreasing rows (cumulative weights), so this equals
    ``np.searchsorted(cum[rows[i]], x[i], side="right")`` row by row. Small
    batches compare whole rows at once; large ones binary-search every row at
    once, so the work grows with ``len(rows) * log(n)`` instead of
    ``len(rows) * n`` (a day of a world-scale run draws thousands of partners
    among hundreds of states).

    Args:
        cum: Matrix whose rows are non-decreasing.
        rows: Row of each query.
        x: Value of each query.

    Returns:
        Counts in ``[0, cum.shape[1]]``, int64.
    """
    n = cum.shape[1]
    if rows.size * n <= _DENSE_LOOKUP_LIMIT:
        return np.count_nonzero(cum[rows] <= x[:, None], axis=1).astype(np.int64)
    flat = cum.ravel()
    before_row = rows * n - 1  # flat index of entry j of row r is before_row + j + 1
    count = np.zeros(rows.size, dtype=np.int64)
    step = 1 << (n.bit_length() - 1)  # the largest power of two <= n
    # Binary lifting: grow each count by `step` while the entry it would include is <= x.
    while step:
        candidate = count + step
        fits = (flat[before_row + np.minimum(candidate, n)] <= x) & (candidate <= n)
        count += step * fits
        step >>= 1
    return count
