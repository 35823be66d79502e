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

from sim.frictions import to_whole_days
from sim.kernel_calendar import DayCalendar
from sim.kernel_state import NoticeArrays
from sim.requests import ColumnTable
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
        # Notices by the day their review ends, and searches that will locate by that
        # day: reviewed and reported by the day's kernel call (sim.kernel_day).
        self.reviews = DayCalendar(model.horizon_days, initial_capacity=256)
        self.searches = DayCalendar(model.horizon_days, initial_capacity=256)
        cfg = model.config.interpol
        # The kernels' numbers (sim.kernel_interpol): circulate's, after those of the
        # kernel that starts or reviews searches.
        locating = (
            float(cfg.locate_probability),
            float(cfg.diffusion_locate_probability),
            float(cfg.locate_days),
            float(model.config.transmission.interpol_days),
            float(model.config.drafting.noise_sigma),
        )
        self._search_numbers = (float(cfg.diffusion_share), float(cfg.review_days), *locating)
        self._review_numbers = np.array(
            [cfg.rejection_base, cfg.rejection_political, cfg.rejection_human_rights, *locating],
            dtype=np.float64,
        )

    def reserve(self, n: int) -> None:
        """Room for ``n`` more searches: rows of the record and their calendars' entries."""
        self.record.reserve(n)
        self.reviews.reserve(n)
        self.searches.reserve(n)

    def search_arguments(self) -> tuple:
        """What :func:`sim.kernel_casegen.start_notices` reads besides the struct, today.

        An INTERPOL operation's cases are reviewed faster
        (:meth:`sim.operations.Operations.interpol_terms`).
        """
        return self.model.operations.interpol_terms(), self._search_numbers

    def arrays(self) -> NoticeArrays:
        """The record's columns and the reviews' numbers, as the day's kernel call takes them."""
        r = self.record
        return NoticeArrays(*self._columns(), self._review_numbers, r.t_requested, r.n_rows)

    def _columns(self) -> tuple:
        """The record's columns as the kernels take them (see :mod:`sim.kernel_interpol`)."""
        r = self.record
        return (
            r.case,
            r.requesting,
            r.located_in,
            r.diffusion,
            r.status,
            r.t_reviewed,
            r.t_located,
        )

    def search_intensified(self) -> None:
        """A running INTERPOL operation's own finds today (Python's step of the day's call).

        Its participants locate persons sought on their territory; the arrest is
        reported on INTERPOL's channel, as any other.
        """
        m = self.model
        found = m.operations.intensified_searches()
        if found.size:
            self.record.status[found] = NoticeStatus.CIRCULATING
            days = m.day + to_whole_days(m.config.transmission.interpol_days)
            self.searches.file(found, np.full(found.size, days))

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
