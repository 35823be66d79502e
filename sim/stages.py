"""Processes 3-8 after case generation, compiled: the Python side of the day's call.

The stage handlers (transmission, review and decision, the judicial stage,
execution and the response) are :mod:`sim.kernel_stages`; queues and their service
are :mod:`sim.kernel_queues`; :mod:`sim.kernel_day` runs them, intelligence's
delivery, INTERPOL's reviews and arrests and the cases' deadlines, in the day's order
in one call. This part of the model makes that call and takes Python's turns in it.
"""

from __future__ import annotations

from sim.kernel_day import PASSES, PYTHON_TURN, REBUILD_TRUST, STEPS, run_day
from sim.lifecycle import empty


class Stages:
    """Part of :class:`~sim.model.CooperationModel`: the day after case generation."""

    def _run_day(self, held=None) -> None:
        """Move requests, deliver intelligence, review notices, arrest, expire cases.

        Compiled (:func:`sim.kernel_day.run_day`): the passes over today's requests
        (:func:`sim.kernel_stages.advance_due`), every agency's queue service (the rule of
        :meth:`sim.agents.Agency.take_today` for all agencies at once,
        :func:`sim.kernel_queues.serve_queues`), the passes again, today's intelligence,
        INTERPOL's reviews, arrests and the extraditions they start, the passes a third
        time, the cases whose deadline is today and the day's series. The call stops
        before a step its outbox is too small for (it is then filed and resumed with a
        larger one), before Python's step, a running INTERPOL operation's own searches,
        and before the series when trust's running sums must be rebuilt (after a write
        to trust from Python).

        Args:
            held: The struct and outbox of case generation's last call, when no array
                of the struct was replaced since: the first call takes them (its
                outbox emptied) instead of checking the struct again. Each step checks
                its room itself, so what case generation used of the room is safe.
        """
        step, room = PASSES, 1
        while step < STEPS:
            if self._room_for_agencies():  # the record writes every agency's backlog
                held = None
            if held is not None:
                state, out = held[0], empty(held[1])
                held = None
            else:
                state, out = self.kernel_state(room)
            step, room = run_day(state, self.streams, self.agency_table.size, self.day, step)
            self._file(out)
            if room == PYTHON_TURN:  # before the arrests, an operation's own searches
                self.interpol.search_intensified()
                step, room = step + 1, 1
            elif room == REBUILD_TRUST:  # trust was written from Python since the last day
                self.trust.rebuild_sums(self.day)
                room = 1
