"""The outcome registry covers every outcome the model produces, and nothing else."""

import keyword

import numpy as np
import pytest

from sim import outcomes
from sim.metrics import flatten


def test_every_outcome_the_model_produces_is_registered(tiny_result):
    missing = [n for n in flatten(tiny_result.outcomes) if not outcomes.is_registered(n)]
    assert not missing, (
        f"outcomes without an entry in the registry (sim/outcome_registry.py): {missing}; add one "
        "entry each (name, plain label, unit, better direction, one-line description), "
        "then run `uv run python -m sim.docs`"
    )


def test_every_registry_entry_is_produced_by_the_model(tiny_result):
    produced = {outcomes.split_name(n)[0] for n in flatten(tiny_result.outcomes)}
    stale = sorted(set(outcomes.REGISTRY) - produced)
    assert not stale, f"registry entries the model no longer produces: {stale}"


def test_breakdowns_are_exactly_the_dict_valued_outcomes(tiny_result):
    for name, value in tiny_result.outcomes.items():
        entry = outcomes.REGISTRY[name]
        assert (entry.keys is not None) == isinstance(value, dict), name


def test_entries_are_complete():
    for e in outcomes.REGISTRY.values():
        assert e.better in ("higher", "lower", "neither"), e.name
        assert e.unit and e.label and e.description.endswith("."), e.name
        assert outcomes.SEPARATOR not in e.name, e.name


def test_an_unregistered_outcome_fails_with_a_clear_message():
    with pytest.raises(outcomes.UnregisteredOutcomeError, match="sim/outcome_registry.py"):
        outcomes.flatten({"completion_rate": 0.5, "brand_new_outcome": 3})
    with pytest.raises(outcomes.UnregisteredOutcomeError, match="breakdown by request kind"):
        outcomes.info("median_response_days")
    with pytest.raises(outcomes.UnregisteredOutcomeError, match="single value"):
        outcomes.info("completion_rate.low")


def test_flat_names_are_identifiers_and_map_back(tiny_result):
    flat = outcomes.flatten(tiny_result.outcomes)
    dotted = flatten(tiny_result.outcomes)
    assert len(flat) == len(dotted)
    for name, value in flat.items():
        assert name.isidentifier() and not keyword.iskeyword(name), name
        back = outcomes.dotted_name(name)
        assert back in dotted
        assert value == dotted[back] or (value != value and dotted[back] != dotted[back])
    assert "median_response_days__mla_evidence" in flat
    assert isinstance(flat["requests_open"], int)


def test_labels_units_and_directions():
    assert outcomes.label("median_response_days.mla_evidence") == (
        "median response time: MLA evidence"
    )
    assert outcomes.label("median_response_days__mla_evidence", with_unit=True) == (
        "median response time: MLA evidence (days)"
    )
    assert outcomes.unit("completion_rate") == "share"
    assert outcomes.better("completion_rate") == "higher"
    assert outcomes.better("refusal_rate_by_ground.sovereignty") == "lower"
    assert outcomes.unit("not_an_outcome") == ""
    assert outcomes.format_value(0.1234, "completion_rate") == "12.3%"
    assert outcomes.format_value(-0.02, "completion_rate", difference=True) == "-2.0 pp"
    assert outcomes.format_value(12.0, "median_case_resolution_days", difference=True) == "+12.0"
    assert outcomes.format_value(float("nan"), "leaks") == "n/a"


def test_duration_table_counts_every_request_sent_once_per_grouping():
    from conftest import tiny_run

    result = tiny_run(seed=2)
    table = result.durations
    led = result.model.ledger
    sent = int((led.col("t_issued") >= result.model.window_start).sum())
    for _, rows in table.groupby("grouping"):
        assert rows["n"].sum() == sent  # each request in exactly one group
    ends = table[["executed", "refused", "lapsed", "withdrawn"]].sum(axis=1)
    assert (ends <= 1 + 1e-9).all()
    kinds = table[table["grouping"] == "kind"].set_index("group")
    # Censoring: the Kaplan-Meier median keeps the slow requests still open.
    assert kinds.loc["extradition", "km_median"] >= kinds.loc["extradition", "naive_median"]


def test_window_rows_are_a_slice_of_a_creation_ordered_table_and_a_mask_otherwise():
    from sim.metrics import window_rows

    ordered = np.array([0, 0, 3, 5, 5, 9])
    rows = window_rows(ordered, 4)
    assert rows == slice(3, None)
    np.testing.assert_array_equal(ordered[rows], [5, 5, 9])
    assert window_rows(ordered, 0) == slice(0, None) and window_rows(ordered, 10) == slice(6, None)
    shuffled = np.array([5, 0, 9, 3])
    np.testing.assert_array_equal(window_rows(shuffled, 4), [True, False, True, False])


def test_outcomes_leave_the_ledger_and_the_case_book_as_they_were():
    """Outcomes index the window's rows as views: nothing may write through them."""
    from conftest import tiny_scenario

    from sim.model import CooperationModel

    model = CooperationModel(tiny_scenario(run__warmup_years=0.5), rng=2).run()
    before = {
        (table, name): getattr(model, table).col(name).copy()
        for table in ("ledger", "cases")
        for name in getattr(model, table)._cols
    }
    first = flatten(model.outcomes())
    assert repr(flatten(model.outcomes())) == repr(first)
    for (table, name), values in before.items():
        np.testing.assert_array_equal(getattr(model, table).col(name), values, err_msg=name)


def test_a_mutual_recognition_refusal_in_time_meets_the_decision_deadline():
    """A refusal is a decision: one made within the deadline meets it (the share counts
    requests still waiting at their deadline, and late decisions, as missed)."""
    import sim
    from sim.durations import decision_deadline_days
    from sim.requests import Instrument, Outcome

    result = sim.run(
        "mutual_recognition",
        seed=3,
        overrides={"world.n_states": 10, "run.years": 1.0, "run.warmup_years": 1.0},
    )
    model = result.model
    led, mrc = model.ledger, model.config.mutual_recognition
    mr = led.col("instrument") == Instrument.MUTUAL_RECOGNITION
    received, decided = led.col("t_received")[mr], led.col("t_decided")[mr]
    refused = led.col("outcome")[mr] == Outcome.REFUSED
    closed = led.col("t_closed")[mr]
    deadline = decision_deadline_days(led.col("kind")[mr], led.col("consent")[mr], mrc)
    due = (received >= model.window_start) & (received + deadline <= model.day)
    decided_in_time = (decided >= 0) & (decided - received <= deadline)
    refused_in_time = (decided < 0) & refused & (closed - received <= deadline)
    assert np.count_nonzero(due & refused_in_time) > 5  # the case this test is about
    expected = np.count_nonzero(due & (decided_in_time | refused_in_time)) / due.sum()
    assert result.outcomes["mr_deadline_met_share"]["decision"] == pytest.approx(expected)
    assert expected > np.count_nonzero(due & decided_in_time) / due.sum()


def test_the_durations_table_and_the_outcomes_agree_after_a_warm_up():
    """The per-group table (durations.csv) and the incidence frame take the outcomes'
    cohort: with a warm-up, the kind rows equal the outcomes' Kaplan-Meier medians and
    Aalen-Johansen shares."""
    import sim
    from sim.metrics_frames import duration_table, incidence_frame

    result = sim.run(
        "baseline",
        seed=3,
        overrides={"world.n_states": 10, "run.years": 1.0, "run.warmup_years": 1.0},
    )
    table = duration_table(result.model).set_index(["grouping", "group"])
    curves = incidence_frame(result.model)
    o = result.outcomes
    for kind in ("mla_evidence", "extradition"):
        row = table.loc[("kind", kind)]
        assert row["km_median"] == pytest.approx(o["km_median_response_days"][kind])
        assert row["executed"] == pytest.approx(o["ends_by_kind"][f"{kind}_executed"])
        last = curves[curves["kind"] == kind].iloc[-1]
        assert last["executed"] == pytest.approx(o["ends_by_kind"][f"{kind}_executed"])


@pytest.mark.parametrize(
    ("corrupt", "message"),
    [
        ("outcome", "a refused request has no refusal ground"),
        ("t_issued", "an executed request was never sent"),
    ],
)
def test_a_ledger_that_breaks_the_outcomes_assumptions_is_refused(corrupt, message):
    """The counts assume every refusal has a ground and every executed request was sent."""
    from conftest import tiny_scenario

    from sim.model import CooperationModel
    from sim.requests import Outcome, RefusalGround

    model = CooperationModel(tiny_scenario(), rng=3).run()
    led = model.ledger
    if corrupt == "outcome":
        row = np.flatnonzero(led.col("refusal_ground") == RefusalGround.NONE)[0]
        led.outcome[row] = Outcome.REFUSED
    else:
        row = np.flatnonzero(led.col("outcome") == Outcome.EXECUTED)[0]
        led.t_issued[row] = -1
    with pytest.raises(ValueError, match=message):
        model.outcomes()
