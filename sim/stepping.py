"""Mesa's time for the model: days stepped in a loop between Mesa's other events.

Mesa steps a model by popping its step generator's event, calling it and pushing
the next one: a few microseconds a day, 8% of a 40-state baseline run. The
:class:`DirectSteps` mixin steps the days before the next other event (a reform
taking effect, a coordination meeting, a round of talks) in a loop instead, at the
same times and in the same order, and leaves Mesa the rest: the events, and the
steps that share a time with one. It reads Mesa 3.5's step generator and event list
(``_default_schedule``, ``_event_list``, ``_user_step``); ``tests/test_model_core.py``
checks that a run's days, events and times are those of stepping one day at a time.
"""

from __future__ import annotations

import numpy as np

from sim.held_signals import held_signals
from sim.memory import ordinary_pages


class DirectSteps:
    """Part of :class:`~sim.model.CooperationModel`: advancing Mesa's time."""

    def _advance_time(self, until: float) -> None:
        # Mesa's advance to `until`: the days and the events due among them, with
        # signals held (sim.held_signals) so that none interrupts a kernel call, and the
        # arrays that grow meanwhile in ordinary pages (sim.memory).
        with held_signals(), ordinary_pages():
            while self.time < until:
                if self._step_directly(until):
                    continue
                # Mesa's turn: the events at the next time one is due (and a step at that
                # time, which goes first), then the loop steps the days after them again.
                due = min(
                    (e.time for e in self._event_list._events if not e.CANCELED), default=until
                )
                if not self.time < due < until:  # nothing due before `until`, or now
                    super()._advance_time(until)
                    break
                super()._advance_time(due)

    def _step_directly(self, until: float) -> bool:
        """Run the days Mesa would step before its next other event, without Mesa's events.

        Each day is stepped at the time Mesa would step it (``model.time`` is the end
        of the day, as in Mesa), and counted in ``model.steps``; the step generator then
        waits at the next day. Stops after a day that schedules an event (the event may
        come before the next day).

        Returns:
            Whether any day was stepped (call again: the next event may be further).
        """
        steps = self._default_schedule
        first = steps.next_scheduled_time
        if first is None or first > until or not steps.is_active or steps._paused:
            return False
        events = self._event_list._events
        pending = steps._current_event
        other = min((e.time for e in events if e is not pending and not e.CANCELED), default=np.inf)
        n_events = len(events)
        t, failed = first, True
        try:
            # Nothing but these days runs until the loop ends (sim.lifecycle).
            with self.trusted_days():
                # A step at the time of another event goes first (its priority is
                # higher), but Mesa runs that one, so that the two keep their order. A
                # day that stops or pauses the steps (their event changes) ends the loop.
                while (
                    t <= until
                    and t < other
                    and self.running
                    and len(events) == n_events
                    and steps._current_event is pending
                ):
                    self.time = t
                    self.steps += 1
                    self._user_step()
                    t += 1.0
                failed = False
        finally:
            if t > first or failed:
                # As Mesa after each step: the step counted, the next one scheduled
                # (a stopped or paused generator's then does nothing); after a day that
                # raised, none, as Mesa, whose event for that day was spent.
                pending.cancel()
                steps._execution_count += int(t - first)
                if failed:
                    steps._current_event = None
                else:
                    steps._schedule_next(t)
        return t > first
