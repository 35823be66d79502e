"""Processes 3-7, queue service and the cases' deadlines, compiled: the Python side.

The stage handlers (transmission, review and decision, the judicial stage,
execution and the response) are :mod:`sim.kernel_stages`; queues and their service
are :mod:`sim.kernel_queues`; :mod:`sim.kernel_day` runs them, and the cases'
deadlines, in the day's order in two calls. This part of the model makes them.
"""

from __future__ import annotations

from sim.kernel_day import PASSES, STEPS, move_requests


class Stages:
    """Part of :class:`~sim.model.CooperationModel`: moving requests and queue service."""

    def _move_requests(self, steps: int) -> None:
        """Run the day's steps in the mask ``steps`` (``MORNING`` or ``EVENING``).

        Compiled (:func:`sim.kernel_day.move_requests`): the passes over today's requests
        (:func:`sim.kernel_stages.advance_due`), every agency's queue service (the rule of
        :meth:`sim.agents.Agency.take_today` for all agencies at once,
        :func:`sim.kernel_queues.serve_queues`), the passes again, and the cases whose
        deadline is today (:func:`sim.kernel_day.expire_cases`). The call stops before a
        step its outbox is too small for; it is then filed and resumed with a larger one.
        """
        step = PASSES
        room = 1
        while step < STEPS:
            state, out = self.kernel_state(room)
            step, room = move_requests(
                state, self.streams, self.agency_table.size, self.day, step, steps
            )
            self._file(out)
