"""Tables in rows (sim.columns.RowTable): a request's fields in one cache line."""

from __future__ import annotations

import numpy as np
import pytest

from sim import metrics, replaced_arrays
from sim.columns import LINE, ColumnTable, RowTable, row_dtype
from sim.model import CooperationModel
from sim.requests import COLUMNS, CaseStatus, Outcome, Stage
from sim.scenario import load_scenario

FIELDS = {"case": (np.int32, 0), "kind": (np.int8, 0), "t_closed": (np.int32, -1)}


def field_addresses(table: RowTable, row: int) -> list[int]:
    """Where each field of ``row`` lives in memory."""
    return [table._cols[name][row:].ctypes.data for name in FIELDS]


def test_fields_are_aligned_as_a_c_struct_and_padded_to_the_row():
    dtype = row_dtype({"kind": np.int8, "case": np.int32, "flag": np.bool_}, 16)
    assert dtype.itemsize == 16
    assert [dtype.fields[n][1] for n in ("kind", "case", "flag")] == [0, 4, 8]
    ledger = row_dtype(dict(COLUMNS), 64)
    assert all(ledger.fields[n][1] % np.dtype(t).itemsize == 0 for n, t in COLUMNS.items())
    with pytest.raises(ValueError, match="fields of 72 bytes .* do not fit rows of 64"):
        row_dtype({f"x{k}": np.int64 for k in range(9)}, 64)


def test_a_rows_fields_share_one_cache_line_and_the_columns_are_views_of_it():
    table = RowTable(FIELDS, initial_capacity=100)
    assert table._buffer.ctypes.data % LINE == 0
    assert all(table._cols[name].strides == (LINE,) for name in FIELDS)
    for row in (0, 1, 57, 99):
        line = table._buffer.ctypes.data + row * LINE
        assert all(line <= a < line + LINE for a in field_addresses(table, row))
    ids = table.append(case=[7, 8, 9], kind=2)
    table.t_closed[ids[1]] = 30  # written in place through the column, by row id
    assert table._buffer[1].tolist() == (8, 2, 30)
    np.testing.assert_array_equal(table.col("t_closed"), [-1, 30, -1])
    assert table.allocated_bytes() == 100 * LINE


def test_growing_keeps_the_rows_and_notes_the_old_columns_and_added_rows_get_fills():
    table = RowTable(FIELDS, initial_capacity=16)
    table.append(case=np.arange(10), t_closed=np.arange(10) * 3)
    old = table._cols["case"]
    table.reserve(100)  # grows to 128 rows
    assert table.capacity == 128 and replaced_arrays.was_noted(old)
    np.testing.assert_array_equal(table.col("case"), np.arange(10))
    np.testing.assert_array_equal(table.t_closed[:10], np.arange(10) * 3)
    # Room is zero bytes, untouched until rows are added; then they hold the fills.
    assert not table._buffer[10:].view(np.uint8).any()
    table.extend(100)
    assert np.all(table.t_closed[10:110] == -1) and np.all(table.kind[10:110] == 0)
    assert not table._buffer[110:].view(np.uint8).any()
    assert table._buffer.ctypes.data % LINE == 0


def test_read_as_columns_gives_contiguous_copies_and_the_rows_after():
    table = RowTable(FIELDS, initial_capacity=16)
    rng = np.random.default_rng(3)
    table.append(case=rng.integers(0, 1000, 50_000), kind=rng.integers(0, 5, 50_000))
    table.t_closed[:20_000] = rng.integers(0, 3650, 20_000)
    strided = {name: table.col(name).copy() for name in FIELDS}
    with table.read_as_columns():
        for name in FIELDS:
            column = table.col(name)
            assert column.flags.c_contiguous and not np.shares_memory(column, table._buffer)
            np.testing.assert_array_equal(column, strided[name])
        with pytest.raises(ValueError, match="read-only"):
            table.col("t_closed")[0] = 5  # a write to a copy would be lost
        with table.read_as_columns():  # nested: the same copies
            assert table.col("case").flags.c_contiguous
        with pytest.raises(RuntimeError, match="cannot grow while read as columns"):
            table.reserve(1_000_000)
    assert np.shares_memory(table.col("case"), table._buffer)
    table.append(case=[1])  # grows, and works, after
    assert len(table) == 50_001 and table.col("case")[-1] == 1
    with table.read_as_columns(["kind"]):  # only these copied; the rest as outside
        assert table.col("kind").flags.c_contiguous
        assert np.shares_memory(table.col("case"), table._buffer)
        np.testing.assert_array_equal(table.col("kind")[:50_000], strided["kind"])


def test_a_column_table_reads_as_columns_as_it_is():
    table = ColumnTable(FIELDS, initial_capacity=16)
    table.append(case=[1, 2])
    with table.read_as_columns():
        assert table.col("case") is not None and table.col("case").flags.c_contiguous
    assert table.allocated_bytes() == 16 * (4 + 1 + 4)


def test_the_outcomes_from_the_copies_equal_the_outcomes_from_the_rows():
    scenario = load_scenario("mutual_recognition", {"run.years": 0.5, "run.warmup_years": 0.2})
    model = CooperationModel(scenario, rng=2).run()
    ledger = model.ledger
    assert len(ledger) > 1000 and ledger.case.strides == (LINE,)
    assert model.cases.status.strides == (32,)  # two cases a line
    from_rows = metrics.compute_outcomes(model)  # through the strided columns
    assert repr(model.outcomes()) == repr(from_rows)  # through the copies (NaN included)


def test_rows_the_kernels_add_hold_the_fills_where_nothing_was_written_yet():
    # The kernels add ledger and case-book rows in room of zero bytes and write every
    # field that does not fill with zero (draft, record_cases).
    short = load_scenario("baseline", {"run.years": 0.25, "run.warmup_years": 0.0})
    model = CooperationModel(short, rng=4).run()
    led, cases = model.ledger, model.cases
    open_rows = led.col("outcome") == Outcome.OPEN
    drafting = led.col("stage") == Stage.DRAFTING
    assert open_rows.sum() > 50 and drafting.sum() > 5 and (~open_rows).sum() > 0
    assert np.all(led.col("t_closed")[open_rows] == -1)
    for name in ("t_issued", "t_received", "t_decided", "t_judicial", "t_executed"):
        assert np.all(led.col(name)[drafting] == -1), name
    assert np.all(led.col("queue_agency")[drafting] == -1)
    assert np.all(led.col("refusal_ground")[open_rows] == 0)
    open_cases = cases.col("status") == CaseStatus.OPEN
    assert open_cases.sum() > 20 and np.all(cases.col("t_closed")[open_cases] == -1)
    assert np.all(cases.col("t_closed")[~open_cases] >= 0)


def test_the_columns_copied_for_the_outcomes_are_those_they_read(monkeypatch):
    # A column the outcomes read and the lists leave out is read through its strided
    # view (slower, the same); one listed and never read is copied for nothing.
    from sim import model_outputs
    from sim.columns import ColumnTable

    read = {"Ledger": set(), "CaseBook": set()}
    seen_ledger, seen_cases = set(), set()
    col = ColumnTable.col

    def spy(table, name):
        if type(table).__name__ in read:
            read[type(table).__name__].add(name)
        return col(table, name)

    monkeypatch.setattr(ColumnTable, "col", spy)
    for scenario in ("baseline", "case_unodc_operation", "bilateral_agreements", "e_evidence"):
        config = load_scenario(scenario, {"run.years": 1.0, "run.warmup_years": 0.5})
        model = CooperationModel(config, rng=1).run()
        read["Ledger"].clear(), read["CaseBook"].clear()
        model.outcomes()
        assert read["Ledger"] <= set(model_outputs.LEDGER_COLUMNS_READ), scenario
        assert read["CaseBook"] <= set(model_outputs.CASE_COLUMNS_READ), scenario
        seen_ledger |= read["Ledger"]
        seen_cases |= read["CaseBook"]
    assert seen_ledger == set(model_outputs.LEDGER_COLUMNS_READ)
    assert seen_cases == set(model_outputs.CASE_COLUMNS_READ)


def test_a_copied_or_pickled_table_keeps_its_columns_views_of_its_rows():
    import copy
    import pickle

    table = RowTable(FIELDS, initial_capacity=16)
    table.append(case=[1, 2, 3], kind=4)
    for twin in (copy.deepcopy(table), pickle.loads(pickle.dumps(table))):
        assert twin._buffer.ctypes.data % LINE == 0
        assert np.shares_memory(twin.case, twin._buffer) and twin.col("case") is not None
        twin.t_closed[1] = 9  # a write through a column reaches the rows
        assert twin._buffer[1].tolist() == (2, 4, 9)
        twin.reserve(100)  # grows from its rows
        np.testing.assert_array_equal(twin.col("t_closed"), [-1, 9, -1])
    np.testing.assert_array_equal(table.col("t_closed"), [-1, -1, -1])  # the original
    # Only the filled rows are kept: the room reserved comes back as zeros.
    roomy = RowTable(FIELDS, initial_capacity=100_000)
    roomy.append(case=[1, 2, 3])
    assert len(pickle.dumps(roomy)) < 2_000
    back = pickle.loads(pickle.dumps(roomy))
    assert back.capacity == 100_000 and not back._buffer[3:].view(np.uint8).any()
    with roomy.read_as_columns():  # copied while read as columns: grows as any table
        twin = copy.deepcopy(roomy)
    twin.reserve(200_000)
    np.testing.assert_array_equal(twin.col("case"), [1, 2, 3])
