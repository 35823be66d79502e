"""INTERPOL: notices and diffusions to find persons sought abroad.

When a case needs a person whose whereabouts are unknown, the originating
state's national central bureau asks the INTERPOL secretariat for a Red Notice.
The secretariat reviews it (rejecting a share on political or human-rights
grounds) and diffuses accepted notices to every member. Some bureaus instead
send a diffusion straight to members: faster (no review) but less often
successful. If the member where the person is locates and arrests them, the
case continues as a formal extradition request to that member.

Every message of a search travels on INTERPOL's own channel
(``transmission.interpol_days`` one way): the request to the secretariat, the
notice or diffusion to members, and the member's report of the arrest.

Notices are kept in the secretariat's own record, not in the request ledger:
they go to an international body, not to a state.
"""

from __future__ import annotations

from enum import IntEnum
from typing import TYPE_CHECKING

import mesa
import numpy as np

from sim.frictions import noisy_days, to_whole_days
from sim.requests import Calendar, CaseStatus, ColumnTable
from sim.survival import km_quantiles

if TYPE_CHECKING:
    from sim.contracts import InterpolHost


class NoticeStatus(IntEnum):
    """Where a notice or diffusion stands."""

    UNDER_REVIEW = 0
    REJECTED = 1
    CIRCULATING = 2  # diffused to members, person not (yet) located
    LOCATED = 3
    NOT_LOCATED = 4


def rejection_probability(
    political_sensitivity, requester_death_penalty, *, base, political, human_rights
):
    """Chance the secretariat rejects a notice request (Art. 3 neutrality, human rights)."""
    p = (
        base
        + political * np.asarray(political_sensitivity)
        + human_rights * np.asarray(requester_death_penalty, dtype=float)
    )
    return np.clip(p, 0.0, 1.0)


class InterpolSecretariat(mesa.Agent):
    """The INTERPOL General Secretariat: reviews notices and diffuses them to members.

    Attributes:
        record: Columns of every notice and diffusion: case, requesting, located_in,
            diffusion, status, t_requested, t_reviewed, t_located.
    """

    COLUMNS = {
        "case": (np.int64, 0),
        "requesting": (np.int16, 0),
        "located_in": (np.int16, 0),
        "diffusion": (np.bool_, False),
        "status": (np.int8, NoticeStatus.UNDER_REVIEW),
        "t_requested": (np.int32, -1),
        "t_reviewed": (np.int32, -1),
        "t_located": (np.int32, -1),
    }

    def __init__(self, model: InterpolHost):
        super().__init__(model)
        self.record = ColumnTable(self.COLUMNS, initial_capacity=256)
        self._reviews = Calendar(256)  # notices, by the day their review ends
        self._searches = Calendar(256)  # notices that will locate, by that day

    def search(self, cases: np.ndarray, requesting: np.ndarray, located_in: np.ndarray) -> int:
        """Start searches for persons of unknown whereabouts; returns how many began.

        States outside INTERPOL cannot ask, and a person in a non-member state
        cannot be found this way (the search runs but never locates them).
        """
        m = self.model
        cfg, rng = m.config.interpol, m.rng
        member = m.world.interpol_member[requesting]
        cases, requesting, located_in = cases[member], requesting[member], located_in[member]
        if cases.size == 0:
            return 0
        diffusion = rng.random(cases.size) < cfg.diffusion_share
        review = to_whole_days(
            noisy_days(rng, np.full(cases.size, cfg.review_days), m.config.drafting.noise_sigma)
            + m.config.transmission.interpol_days
        )
        # A coordinated operation's notice requests are reviewed first.
        review = m.operations.notice_review_days(review, cases, requesting)
        notices = self.record.append(
            case=cases,
            requesting=requesting,
            located_in=located_in,
            diffusion=diffusion,
            t_requested=m.day,
        )
        # Diffusions go straight to members; notices wait for the secretariat's review.
        self._circulate(notices[diffusion])
        self._reviews.add(notices[~diffusion], m.day + review[~diffusion])
        return int(cases.size)

    def _circulate(self, notices: np.ndarray) -> None:
        """Send notices or diffusions to members; schedule whether and when each locates."""
        if notices.size == 0:
            return
        m = self.model
        cfg, record = m.config.interpol, self.record
        p = np.where(
            record.diffusion[notices], cfg.diffusion_locate_probability, cfg.locate_probability
        )
        found = m.world.interpol_member[record.located_in[notices]] & (
            m.rng.random(notices.size) < p
        )
        record.status[notices] = np.where(found, NoticeStatus.CIRCULATING, NoticeStatus.NOT_LOCATED)
        # Out to the members and back with the arrest, both on INTERPOL's channel.
        days = to_whole_days(
            noisy_days(
                m.rng, np.full(int(found.sum()), cfg.locate_days), m.config.drafting.noise_sigma
            )
            + 2.0 * m.config.transmission.interpol_days
        )
        self._searches.add(notices[found], m.day + days)

    def daily(self) -> None:
        """Review today's notice requests and report today's arrests."""
        m = self.model
        cfg, record = m.config.interpol, self.record
        ids = self._reviews.pop(m.day)
        if ids is not None:
            p = rejection_probability(
                m.cases.political_sensitivity[record.case[ids]],
                m.world.death_penalty[record.requesting[ids]],
                base=cfg.rejection_base,
                political=cfg.rejection_political,
                human_rights=cfg.rejection_human_rights,
            )
            rejected = m.rng.random(ids.size) < p
            record.t_reviewed[ids] = m.day
            record.status[ids[rejected]] = NoticeStatus.REJECTED
            self._circulate(ids[~rejected])
        # An INTERPOL operation's participants locate persons sought on their territory;
        # the arrest is reported on INTERPOL's channel, as any other.
        found = m.operations.intensified_searches()
        if found.size:
            record.status[found] = NoticeStatus.CIRCULATING
            self._searches.add(found, m.day + to_whole_days(m.config.transmission.interpol_days))
        ids = self._searches.pop(m.day)
        if ids is None:
            return
        # A search both scheduled and found by an operation is reported once, the first time.
        ids = ids[record.status[ids] == NoticeStatus.CIRCULATING]
        # A person found after the case went cold is of no use to it any more.
        found = m.cases.status[record.case[ids]] == CaseStatus.OPEN
        record.status[ids] = np.where(found, NoticeStatus.LOCATED, NoticeStatus.NOT_LOCATED)
        record.t_located[ids[found]] = m.day
        if found.any():
            ids = ids[found]
            m.request_extradition_after_arrest(
                record.case[ids],
                record.requesting[ids].astype(np.int64),
                record.located_in[ids].astype(np.int64),
            )

    def outcomes(self, since: int = 0) -> dict:
        """Notices and diffusions over the window that starts on day ``since``.

        Counts are of what happened in the window (requested, reviewed, located);
        the time to arrest is a Kaplan-Meier median over the notices and diffusions
        requested in the window and not rejected, those still circulating censored.
        """
        r = self.record
        notice = ~r["diffusion"]
        status = r["status"]
        located = status == NoticeStatus.LOCATED
        requested = r["t_requested"] >= since
        reviewed = notice & (r["t_reviewed"] >= since)
        rejected = status == NoticeStatus.REJECTED
        found_now = located & (r["t_located"] >= since)
        searched = requested & ~rejected
        followed = np.where(located, r["t_located"], self.model.day) - r["t_requested"]
        return {
            "red_notices_requested": int((requested & notice).sum()),
            "red_notices_rejected": int((reviewed & rejected).sum()),
            "red_notice_rejection_rate": (
                float(rejected[reviewed].mean()) if reviewed.any() else float("nan")
            ),
            "diffusions": int((requested & ~notice).sum()),
            "arrests_via_notices": int((found_now & notice).sum()),
            "arrests_via_diffusions": int((found_now & ~notice).sum()),
            "median_days_to_arrest": km_quantiles(followed[searched], located[searched])["median"],
        }
