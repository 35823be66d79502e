"""INTERPOL: notices and diffusions to find persons sought abroad.

When a case needs a person whose whereabouts are unknown, the originating
state's national central bureau asks the INTERPOL secretariat for a Red Notice.
The secretariat reviews it (rejecting a share on political or human-rights
grounds) and diffuses accepted notices to every member. Some bureaus instead
send a diffusion straight to members: faster (no review) but less often
successful. If the member where the person is locates and arrests them, the
case continues as a formal extradition request to that member.

Notices are kept in the secretariat's own record, not in the request ledger:
they go to an international body, not to a state.
"""

from __future__ import annotations

from collections import defaultdict
from enum import IntEnum
from typing import TYPE_CHECKING

import mesa
import numpy as np

from sim.frictions import noisy_days, to_whole_days

if TYPE_CHECKING:
    from sim.model import CooperationModel


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

    COLUMNS = (
        "case",
        "requesting",
        "located_in",
        "diffusion",
        "status",
        "t_requested",
        "t_reviewed",
        "t_located",
    )

    def __init__(self, model: CooperationModel):
        super().__init__(model)
        self.record: dict[str, list] = {c: [] for c in self.COLUMNS}
        self._reviews: dict[int, list[int]] = defaultdict(list)
        self._searches: dict[int, list[int]] = defaultdict(list)

    def search(self, cases: np.ndarray, requesting: np.ndarray, located_in: np.ndarray) -> int:
        """Start searches for persons of unknown whereabouts; returns how many began.

        States outside INTERPOL cannot ask, and a person in a non-member state
        cannot be found this way (the search runs but never locates them).
        """
        m = self.model
        cfg, rng = m.config.interpol, m.rng
        member = m.world.interpol_member[requesting]
        cases, requesting, located_in = cases[member], requesting[member], located_in[member]
        diffusion = rng.random(cases.size) < cfg.diffusion_share
        review = to_whole_days(
            noisy_days(rng, np.full(cases.size, cfg.review_days), m.config.drafting.noise_sigma)
        )
        for k in range(cases.size):
            notice = len(self.record["case"])
            for column, value in (
                ("case", int(cases[k])),
                ("requesting", int(requesting[k])),
                ("located_in", int(located_in[k])),
                ("diffusion", bool(diffusion[k])),
                ("status", NoticeStatus.UNDER_REVIEW),
                ("t_requested", m.day),
                ("t_reviewed", -1),
                ("t_located", -1),
            ):
                self.record[column].append(value)
            if diffusion[k]:
                self._circulate(notice)
            else:
                self._reviews[m.day + int(review[k])].append(notice)
        return int(cases.size)

    def _circulate(self, notice: int) -> None:
        """Send a notice or diffusion to members; schedule whether and when it locates."""
        m = self.model
        cfg = m.config.interpol
        self.record["status"][notice] = NoticeStatus.CIRCULATING
        p = (
            cfg.diffusion_locate_probability
            if self.record["diffusion"][notice]
            else (cfg.locate_probability)
        )
        located_in = self.record["located_in"][notice]
        if m.world.interpol_member[located_in] and m.rng.random() < p:
            days = to_whole_days(noisy_days(m.rng, cfg.locate_days, m.config.drafting.noise_sigma))
            self._searches[m.day + int(days)].append(notice)
        else:
            self.record["status"][notice] = NoticeStatus.NOT_LOCATED

    def daily(self) -> None:
        """Review today's notice requests and report today's arrests."""
        m = self.model
        cfg = m.config.interpol
        reviews = self._reviews.pop(m.day, [])
        if reviews:
            ids = np.asarray(reviews)
            # Gather only today's rows, not the whole record.
            case = np.asarray([self.record["case"][n] for n in reviews])
            requesting = np.asarray([self.record["requesting"][n] for n in reviews])
            p = rejection_probability(
                m.cases.political_sensitivity[case],
                m.world.death_penalty[requesting],
                base=cfg.rejection_base,
                political=cfg.rejection_political,
                human_rights=cfg.rejection_human_rights,
            )
            rejected = m.rng.random(ids.size) < p
            for k, notice in enumerate(ids.tolist()):
                self.record["t_reviewed"][notice] = m.day
                if rejected[k]:
                    self.record["status"][notice] = NoticeStatus.REJECTED
                else:
                    self._circulate(notice)
        arrests = self._searches.pop(m.day, [])
        # A person found after the case went cold is of no use to it any more.
        still_open = [n for n in arrests if m.case_is_open(self.record["case"][n])]
        found = set(still_open)
        for notice in arrests:
            self.record["status"][notice] = (
                NoticeStatus.LOCATED if notice in found else NoticeStatus.NOT_LOCATED
            )
            self.record["t_located"][notice] = m.day if notice in found else -1
        if still_open:
            record = self.record
            m.request_extradition_after_arrest(
                np.asarray([record["case"][n] for n in still_open]),
                np.asarray([record["requesting"][n] for n in still_open]),
                np.asarray([record["located_in"][n] for n in still_open]),
            )

    def outcomes(self) -> dict:
        """Counts and rates of notices and diffusions for the run's outcomes."""
        status = np.asarray(self.record["status"], dtype=int)
        diffusion = np.asarray(self.record["diffusion"], dtype=bool)
        notices = ~diffusion
        reviewed = notices & (np.asarray(self.record["t_reviewed"]) >= 0)
        rejected = status == NoticeStatus.REJECTED
        return {
            "red_notices_requested": int(notices.sum()),
            "red_notices_rejected": int((rejected & notices).sum()),
            "red_notice_rejection_rate": (
                float(rejected[reviewed].mean()) if reviewed.any() else float("nan")
            ),
            "diffusions": int(diffusion.sum()),
            "arrests_via_notices": int(((status == NoticeStatus.LOCATED) & notices).sum()),
            "arrests_via_diffusions": int(((status == NoticeStatus.LOCATED) & diffusion).sum()),
        }
