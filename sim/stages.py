"""Processes 3-7 and queue service, compiled: the Python side of the day's stages.

The stage handlers (transmission, review and decision, the judicial stage,
execution and the response) are :mod:`sim.kernel_stages`; queues and their service
are :mod:`sim.kernel_queues`; :mod:`sim.kernel_day` runs them in the day's order in
one call. This part of the model calls it.
"""

from __future__ import annotations

from sim.kernel_day import PASSES, PASSES_AGAIN, move_requests


class Stages:
    """Part of :class:`~sim.model.CooperationModel`: moving requests and queue service."""

    def _move_requests(self, serve: bool) -> None:
        """Move every request whose stage ends today; with ``serve``, queue service and again.

        Compiled (:func:`sim.kernel_day.move_requests`): the passes over today's requests
        (:func:`sim.kernel_stages.advance_due`), every agency's queue service (the rule of
        :meth:`sim.agents.Agency.take_today` for all agencies at once,
        :func:`sim.kernel_queues.serve_queues`) and the passes again. The call stops
        before a step its outbox is too small for; it is then filed and resumed with a
        larger one.
        """
        step, last = PASSES, PASSES_AGAIN if serve else PASSES
        room = 1
        while step <= last:
            state, out = self.kernel_state(room)
            step, room = move_requests(
                state, self.streams, self.agency_table.size, self.day, step, last
            )
            self._file(out)
