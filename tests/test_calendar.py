"""The calendars give back, for a day, exactly the ids filed under it, in filing order.

The model's calendars (``sim.kernel_calendar.DayCalendar``): filed and taken as Python
does (a batch at a time) and as the kernels do (one id at a time, after Python reserved
room).

Days are taken in order, as the model takes them, and ids are filed under today or later.

Checked against the plainest reference (a list of (id, day) pairs, scanned) over
random sequences of filings and takings, through the calendar's growth and compaction.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.kernel_calendar import DayCalendar, file_entry, take


class ListCalendar:
    """The reference: every filed pair in a list; taking a day scans it."""

    def __init__(self):
        self.pairs: list[tuple[int, int]] = []

    def add(self, ids, days):
        days = np.broadcast_to(np.asarray(days), np.shape(ids)).astype(np.int64)
        self.pairs += list(zip(np.asarray(ids).tolist(), days.tolist(), strict=True))

    def pop(self, day):
        taken = [i for i, d in self.pairs if d == day]
        self.pairs = [(i, d) for i, d in self.pairs if d != day]
        return taken or None


operations = st.lists(
    st.one_of(
        st.tuples(
            st.just("add"),
            st.lists(st.integers(0, 10**6), max_size=40),
            st.one_of(st.integers(0, 300), st.lists(st.integers(0, 300), min_size=40, max_size=40)),
        ),
        st.tuples(st.just("pop"), st.integers(0, 3)),  # days to move on, then take
    ),
    max_size=60,
)


@settings(max_examples=150, deadline=None)
@given(operations)
def test_a_day_gives_back_what_was_filed_under_it_in_filing_order(ops):
    calendar, reference = DayCalendar(2_000, initial_capacity=16), ListCalendar()
    today = 0
    for op in ops:
        if op[0] == "add":
            _, ids, ahead = op
            ids = np.array(ids, dtype=np.int64)
            if isinstance(ahead, int):
                days = np.full(ids.size, today + ahead)
            else:
                days = today + np.array(ahead[: ids.size], dtype=np.int64)
            calendar.file(ids, days)
            reference.add(ids, days)
        else:
            today += op[1]
            got, expected = calendar.pop(today), reference.pop(today)
            assert got.tolist() == (expected or [])
        assert len(calendar) == len(reference.pairs)


def test_fractional_days_are_truncated():
    calendar = DayCalendar(10)
    calendar.file(np.array([1, 2]), np.array([3.7, 3.2]))
    assert calendar.pop(3).tolist() == [1, 2]
    assert len(calendar) == 0 and calendar.pop(3).size == 0


@settings(max_examples=150, deadline=None)
@given(operations)
def test_the_compiled_calendar_takes_what_the_reference_gives(ops):
    """The kernels' calendar (sim.kernel_calendar), filed as the kernels do (with room
    reserved before) or as Python does (a batch), and taken as the kernels do, through
    growth and compaction."""
    horizon = 2_000
    calendar, reference = DayCalendar(horizon, initial_capacity=16), ListCalendar()
    today = 0
    for op in ops:
        if op[0] == "add":
            _, ids, ahead = op
            ahead = [ahead] * len(ids) if isinstance(ahead, int) else ahead[: len(ids)]
            days = today + np.array(ahead, dtype=np.int64)
            if len(ids) % 2:  # as a kernel files, one by one after Python reserved room
                calendar.reserve(len(ids))
                for request, day in zip(ids, days.tolist(), strict=True):
                    file_entry(*calendar.arrays(), np.int64(request), np.int64(day))
            else:  # as Python files a batch
                calendar.file(np.array(ids, dtype=np.int64), days)
            reference.add(np.array(ids, dtype=np.int64), days)
        else:
            today += op[1]
            expected = reference.pop(today) or []
            assert calendar.due_on(today) == len(expected)
            assert take(*calendar.arrays(), np.int64(today)).tolist() == expected
        assert len(calendar) == len(reference.pairs)


def test_the_compiled_calendar_refuses_a_filing_without_room():
    calendar = DayCalendar(10, initial_capacity=16)
    for request in range(16):
        file_entry(*calendar.arrays(), np.int64(request), np.int64(3))
    with pytest.raises(IndexError, match="too little room"):
        file_entry(*calendar.arrays(), np.int64(16), np.int64(3))
    calendar.reserve(1)  # grows
    file_entry(*calendar.arrays(), np.int64(16), np.int64(4))
    assert take(*calendar.arrays(), np.int64(3)).tolist() == list(range(16))
    assert calendar.due_on(4) == 1 and len(calendar) == 1
