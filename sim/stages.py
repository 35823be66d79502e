"""Processes 3-7 and queue service, compiled: the Python side of the day's stages.

The stage handlers (transmission, review and decision, the judicial stage,
execution and the response) are :mod:`sim.kernel_stages`; queues and their service
are :mod:`sim.kernel_queues`. This part of the model calls them.
"""

from __future__ import annotations

import numpy as np

from sim.kernel_queues import serve_queues
from sim.kernel_state import K_BACKLOG, O_TAKEN


class Stages:
    """Part of :class:`~sim.model.CooperationModel`: queue service."""

    def _serve_queues(self) -> tuple[np.ndarray, np.ndarray]:
        """Every agency with waiting work takes as many requests as its capacity allows.

        Compiled (:func:`sim.kernel_queues.serve_queues`): the rule of
        :meth:`sim.agents.Agency.take_today` for all agencies at once.

        Returns:
            The requests taken and their agencies, in service order.
        """
        waiting = int(self.counters[K_BACKLOG : K_BACKLOG + 3].sum())
        if waiting == 0:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
        state, out = self.kernel_state(waiting)
        serve_queues(state, self.streams, self.agency_table.size, self.day)
        self._file(out)
        taken = out.filed[O_TAKEN]
        return out.taken_ids[:taken].copy(), out.taken_agency[:taken].copy()
