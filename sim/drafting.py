"""Process 2: drafting requests (instrument, channel, drafting time), and requests that follow."""

from __future__ import annotations

import numpy as np

from sim.kernel_drafting import draft
from sim.requests import (
    Kind,
)


class Drafting:
    """Part of :class:`~sim.model.CooperationModel`: drafting the requests of new links."""

    # ------------------------------------------------------------------ process 2: drafting
    def _create_requests(
        self, case_ids, requesting, requested, kind, coercive, consent, national, in_team
    ) -> np.ndarray:
        """Draft the requests of new case links: instrument, channel and drafting time.

        Compiled (:func:`sim.kernel_drafting.draft`) into ledger rows added here; the
        kernel also links the requests to their cases.
        """
        n = np.size(case_ids)
        if n == 0:
            return np.empty(0, dtype=np.int64)
        ids = self.ledger.extend(n)
        state, out = self.kernel_state(n)
        ints = (case_ids, requesting, requested, kind)
        flags = (coercive, consent, national, in_team)
        draft(
            state,
            self.streams,
            np.int64(ids[0]),
            *(np.ascontiguousarray(a, dtype=np.int64) for a in ints),
            *(np.ascontiguousarray(a, dtype=np.bool_) for a in flags),
            self.day,
        )
        self._file(out)
        return ids

    def open_formal_requests(
        self, requesting, requested, case_type, severity, sensitivity, deadline
    ) -> np.ndarray:
        """Data a provider did not give goes the formal route: a case and an MLA request each.

        The request asks the provider's state for the data; a court orders the
        provider to produce it (a coercive measure). The case goes cold at the
        investigation's deadline, like any other.

        Returns:
            The ledger ids of the new requests.
        """
        n = requesting.size
        no = np.zeros(n, dtype=bool)
        case_ids = self.cases.append(
            origin=requesting,
            case_type=case_type,
            severity=severity,
            political_sensitivity=sensitivity,
            t_created=self.day,
            t_deadline=deadline,
            needed=1,
        )
        ids = self._create_requests(
            case_ids,
            requesting,
            requested,
            np.full(n, Kind.MLA_EVIDENCE),
            np.ones(n, dtype=bool),
            no,
            no,
            no,
        )
        self._cases_opened(n)
        self._deadlines.file(case_ids, deadline)  # taken by sim.kernel_day.expire_cases
        return ids
