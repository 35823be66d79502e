"""docs/ODD.md carries the parameter tables of the schema; they must not drift."""

from sim.docs import ODD_FILE, replace_tables
from sim.scenario import parameter_table


def test_odd_parameter_tables_match_the_schema():
    text = ODD_FILE.read_text(encoding="utf-8")
    assert replace_tables(text) == text, (
        "docs/ODD.md parameter tables are out of date: run `uv run python -m sim.docs`"
    )


def test_every_parameter_has_unit_and_meaning_and_numbers_have_a_range():
    for row in parameter_table():
        where = f"{row['section']}.{row['key']}"
        assert row["unit"], f"{where} has no unit"
        assert row["description"], f"{where} has no description"
        if row["type"] in ("float", "int"):
            assert row["min"] is not None and row["max"] is not None, f"{where} has no range"
