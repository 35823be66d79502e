"""The request ledger, the case book, agency queues and capacity."""

from __future__ import annotations

import mesa
import numpy as np
import pytest

from sim.agents import Agency, RequestQueue, State
from sim.requests import (
    COLUMNS,
    CaseBook,
    CaseStatus,
    Instrument,
    Kind,
    Ledger,
    Outcome,
    RefusalGround,
    Stage,
)

# ---------------------------------------------------------------- ledger


def test_append_sets_defaults_and_returns_consecutive_ids():
    led = Ledger(initial_capacity=4)
    ids = led.append(kind=np.array([Kind.EXTRADITION, Kind.MLA_EVIDENCE]), t_created=7)
    np.testing.assert_array_equal(ids, [0, 1])
    assert len(led) == 2
    np.testing.assert_array_equal(led.col("t_created"), [7, 7])  # scalars broadcast
    np.testing.assert_array_equal(led.col("outcome"), [Outcome.OPEN] * 2)
    np.testing.assert_array_equal(led.col("stage"), [Stage.DRAFTING] * 2)
    np.testing.assert_array_equal(led.col("refusal_ground"), [RefusalGround.NONE] * 2)
    for name in COLUMNS:
        if name.startswith("t_") and name != "t_created":
            np.testing.assert_array_equal(led.col(name), [-1, -1])
    np.testing.assert_array_equal(led.col("queue_agency"), [-1, -1])
    ids2 = led.append(kind=Kind.EXTRADITION, case=np.array([5]))
    np.testing.assert_array_equal(ids2, [2])


def test_ledger_grows_and_keeps_data():
    led = Ledger(initial_capacity=16)
    for k in range(10):
        led.append(case=np.arange(k * 7, (k + 1) * 7), t_created=k)
    assert len(led) == 70
    np.testing.assert_array_equal(led.col("case"), np.arange(70))
    np.testing.assert_array_equal(led.col("t_created"), np.repeat(np.arange(10), 7))
    # New rows beyond the old capacity still get the defaults.
    np.testing.assert_array_equal(led.col("t_closed"), -1)
    # A row of 64 bytes (sim.columns.RowTable) holds the 59 bytes of its fields.
    assert sum(np.dtype(t).itemsize for t in COLUMNS.values()) == 59
    assert led.nbytes() == 70 * 64


def test_rows_added_after_growing_get_their_fill_zero_or_not():
    led = Ledger(initial_capacity=16)
    led.extend(10)
    led.t_closed[:10] = 7
    led.reserve(40)  # grows: a new buffer of zero bytes, the rows kept
    assert led.capacity >= 50 and np.all(led.t_closed[:10] == 7)
    assert not led._buffer.view(np.uint8)[10 * 64 :].any()  # room: untouched zeros
    led.extend(40)  # rows added get their fills
    assert np.all(led.outcome[10:50] == Outcome.OPEN) and np.all(led.severity[10:50] == 0.0)
    assert np.all(led.t_closed[10:50] == -1) and np.all(led.queue_agency[10:50] == -1)


def test_a_run_that_grows_its_tables_is_the_run_that_does_not(monkeypatch):
    """Growing the ledger and the case book mid-run (struct rebuilt) changes nothing."""
    from conftest import tiny_scenario

    import sim.model_setup
    from sim.metrics import flatten
    from sim.model import CooperationModel

    config = tiny_scenario(run__years=2.0)
    roomy = CooperationModel(config, rng=5).run()
    monkeypatch.setattr(sim.model_setup.ModelSetup, "_ledger_rows", lambda self: 16)
    monkeypatch.setattr(sim.model_setup.ModelSetup, "_case_book_rows", lambda self: 16)
    tight = CooperationModel(config, rng=5)
    assert tight.ledger.capacity == 16 and tight.cases.capacity == 16
    tight.run()
    assert tight.ledger.capacity < roomy.ledger.capacity  # it grew, by doubling
    assert len(tight.ledger) == len(roomy.ledger) > 100
    for table in ("ledger", "cases"):
        for name in getattr(roomy, table)._cols:
            np.testing.assert_array_equal(
                getattr(tight, table).col(name), getattr(roomy, table).col(name), err_msg=name
            )
    assert repr(flatten(tight.outcomes())) == repr(flatten(roomy.outcomes()))


@pytest.mark.parametrize("scenario", ["baseline", "world_scale"])
def test_a_run_at_constant_demand_fits_the_rows_allocated_at_the_start(scenario):
    """The ledger and the case book start with room for the expected run, not far more."""
    import sim
    from sim.model import CooperationModel

    years = {"baseline": 5.0, "world_scale": 0.5}[scenario]
    config = sim.load_scenario(scenario, {"run.years": years})
    model = CooperationModel(config, rng=3)
    ledger_rows, case_rows = model.ledger.capacity, model.cases.capacity
    model.run()
    assert model.ledger.capacity == ledger_rows and model.cases.capacity == case_rows
    assert len(model.ledger) > ledger_rows / 1.5 and len(model.cases) > case_rows / 1.5


def test_rows_reserved_then_added_by_advancing_the_row_count_as_a_kernel_does():
    led = Ledger(initial_capacity=16)
    led.append(kind=np.full(10, Kind.MLA_EVIDENCE))
    column = led.kind
    led.reserve(4)  # room enough: nothing moves
    assert led.capacity == 16 and led.kind is column and led.size == 10
    led.reserve(20)  # grows: new buffers, the rows kept, none added
    assert led.capacity >= 30 and led.kind is not column and led.size == 10
    # A kernel advances the count, which the struct holds (the same array object), and
    # writes the reserved rows: every field, for room is zero bytes (sim.columns.RowTable).
    rows = led.n_rows
    rows[0] += 3
    np.testing.assert_array_equal(led.col("t_created")[10:], [0, 0, 0])  # not yet written
    led.kind[10:13] = Kind.EXTRADITION
    led.t_created[10:13] = -1
    assert led.size == 13 and len(led) == 13 and led.n_rows is rows
    np.testing.assert_array_equal(led.col("kind")[9:], [Kind.MLA_EVIDENCE] + [Kind.EXTRADITION] * 3)
    np.testing.assert_array_equal(led.extend(2), [13, 14])
    np.testing.assert_array_equal(led.col("t_created")[13:], [-1, -1])  # extend: fill values


def test_append_nothing_is_a_no_op():
    led = Ledger()
    assert led.append().size == 0
    assert led.append(case=np.array([], dtype=int)).size == 0
    assert len(led) == 0


def test_unknown_column_is_an_attribute_error():
    with pytest.raises(AttributeError):
        _ = Ledger().not_a_column


def test_to_dataframe_labels_and_response_days():
    led = Ledger()
    ids = led.append(
        kind=np.array([Kind.MLA_EVIDENCE, Kind.EXTRADITION]),
        instrument=Instrument.BILATERAL_TREATY,
        t_created=0,
        t_issued=10,
    )
    led.outcome[ids] = [Outcome.EXECUTED, Outcome.REFUSED]
    led.refusal_ground[ids[1]] = RefusalGround.SOVEREIGNTY
    led.t_closed[ids] = [70, 40]
    df = led.to_dataframe()
    assert list(df["kind"]) == ["mla_evidence", "extradition"]
    assert list(df["outcome"]) == ["executed", "refused"]
    assert list(df["refusal_ground"]) == ["none", "sovereignty"]
    assert list(df["instrument"]) == ["bilateral_treaty"] * 2
    assert df["response_days"].iloc[0] == 60
    assert np.isnan(df["response_days"].iloc[1])  # only executed requests have a response
    assert df["t_decided"].isna().all()  # -1 ("not reached") becomes missing
    assert "queue_agency" not in df.columns


def test_casebook_append_and_frame():
    book = CaseBook(initial_capacity=2)
    ids = book.append(origin=np.arange(40), case_type=np.arange(40) % 5, needed=2, t_created=3)
    assert len(book) == 40 and len(book.requests) == 40
    np.testing.assert_array_equal(ids, np.arange(40))
    np.testing.assert_array_equal(book.col("t_closed"), -1)
    np.testing.assert_array_equal(book.col("status"), CaseStatus.OPEN)
    book.status[0] = CaseStatus.RESOLVED
    book.t_closed[0] = 9
    from sim.scenario import CASE_TYPES

    df = book.to_dataframe(CASE_TYPES)
    assert df["status"].iloc[0] == "resolved" and df["t_closed"].iloc[0] == 9
    assert np.isnan(df["t_closed"].iloc[1])
    assert df["case_type"].iloc[1] == CASE_TYPES[1]


# ---------------------------------------------------------------- request queue


def test_queue_is_fifo_for_equal_priority():
    q = RequestQueue()
    for request in [5, 3, 9, 1]:
        q.push(request, deadline_class=1, priority=0.0)
    assert [q.pop_live(lambda r: True) for _ in range(4)] == [5, 3, 9, 1]
    assert q.pop_live(lambda r: True) is None
    assert q.waiting == 0


def test_queue_serves_lower_priority_value_first():
    q = RequestQueue()
    q.push(1, 1, priority=3.0)
    q.push(2, 1, priority=-1.0)
    q.push(3, 1, priority=0.5)
    assert [q.pop_live(lambda r: True) for _ in range(3)] == [2, 3, 1]


def test_queue_deadline_class_zero_before_one():
    q = RequestQueue()
    q.push(10, deadline_class=1, priority=-100.0)  # even a more urgent priority waits
    q.push(11, deadline_class=0, priority=50.0)
    q.push(12, deadline_class=1, priority=-100.0)
    q.push(13, deadline_class=0, priority=50.0)
    assert [q.pop_live(lambda r: True) for _ in range(4)] == [11, 13, 10, 12]


def test_queue_lazy_removal_skips_closed_requests_and_counts_stay_right():
    q = RequestQueue()
    for request in range(6):
        q.push(request, 1, 0.0)
    closed = {1, 2, 4}
    for _ in closed:
        q.forget()  # closed in place; the heap entry stays until reached
    assert q.waiting == len(q) == 3
    live = lambda r: r not in closed  # noqa: E731
    assert q.pop_live(live) == 0
    assert q.pop_live(live) == 3  # 1 and 2 are skipped
    assert q.waiting == 1
    assert q.pop_live(live) == 5
    assert q.waiting == 0
    assert q.pop_live(live) is None


# ---------------------------------------------------------------- agencies


def _agency(capacity, discipline="fifo"):
    model = mesa.Model(rng=0)
    state = State(model, 0, "S000")
    return Agency(model, state, capacity, discipline, skill=0.5, technology=0.5)


def test_fractional_capacity_accumulates_as_credit():
    agency = _agency(0.25)
    for request in range(10):
        agency.queue.push(request, 1, float(request))
    served_per_day = [len(agency.take_today(lambda r: True)) for _ in range(12)]
    assert served_per_day == [0, 0, 0, 1] * 3
    assert agency.effort == 3


@pytest.mark.parametrize(("capacity", "days"), [(2.5, 4), (1.9, 10)])
def test_capacity_above_one_is_served_on_average(capacity, days):
    agency = _agency(capacity)
    for request in range(100):
        agency.queue.push(request, 1, float(request))
    served = sum(len(agency.take_today(lambda r: True)) for _ in range(days))
    assert served >= int(capacity * days) - 1


def test_capacity_does_not_bank_while_idle():
    idle = _agency(2.0)
    for _ in range(10):
        idle.take_today(lambda r: True)  # nothing waiting: unused capacity is not banked
    for request in range(10):
        idle.queue.push(request, 1, 0.0)
    assert len(idle.take_today(lambda r: True)) == 2


def test_take_today_skips_closed_requests_without_using_capacity():
    agency = _agency(2.0)
    for request in range(5):
        agency.queue.push(request, 1, float(request))
    agency.queue.forget()
    agency.queue.forget()
    assert agency.take_today(lambda r: r >= 2) == [2, 3]


@pytest.mark.parametrize(
    ("discipline", "expected"),
    [("fifo", [0, 1, 2]), ("severity", [1, 2, 0]), ("reciprocity", [2, 0, 1])],
)
def test_queue_disciplines_order_requests(discipline, expected):
    agency = _agency(10.0, discipline)
    rows = [  # (severity, partner trust, arrival day)
        (0.1, 0.5, 0),
        (0.9, 0.2, 1),
        (0.5, 0.9, 2),
    ]
    for request, (severity, partner_trust, day) in enumerate(rows):
        agency.queue.push(request, 1, agency.priority(severity, partner_trust, day))
    assert agency.take_today(lambda r: True) == expected
