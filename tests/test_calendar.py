"""The calendar gives back, for a day, exactly the ids filed under it, in filing order.

Days are taken in order, as the model takes them, and ids are filed under today or later.

Checked against the plainest reference (a list of (id, day) pairs, scanned) over
random sequences of filings and takings, through the calendar's growth and compaction.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.columns import Calendar


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
    calendar, reference = Calendar(initial_capacity=16), ListCalendar()
    today = 0
    for op in ops:
        if op[0] == "add":
            _, ids, ahead = op
            ids = np.array(ids, dtype=np.int64)
            if isinstance(ahead, int):
                days = today + ahead
            else:
                days = today + np.array(ahead[: ids.size], dtype=np.int64)
            calendar.add(ids, days)
            reference.add(ids, days)
        else:
            today += op[1]
            got, expected = calendar.pop(today), reference.pop(today)
            assert (got if got is None else got.tolist()) == expected
        assert len(calendar) == len(reference.pairs)


def test_fractional_days_are_truncated():
    calendar = Calendar()
    calendar.add(np.array([1, 2]), np.array([3.7, 3.2]))
    assert calendar.pop(3).tolist() == [1, 2]
    assert len(calendar) == 0 and calendar.pop(3) is None
