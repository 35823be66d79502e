"""The model over whole (tiny) runs: invariants, reproducibility and mechanism directions.

Mechanism tests compare two arms over the same seeds (common random numbers) and
look at the mean over seeds; each run is a 12-state world over one year (~0.2 s).
"""

from __future__ import annotations

import functools
import json

import mesa
import numpy as np
import pytest
from conftest import assert_one_outcome_per_request, ledger_columns, tiny_run, tiny_scenario
from scipy.stats import spearmanr

import sim
from sim import replaced_arrays
from sim.kernel_state import FIELDS
from sim.metrics import to_jsonable
from sim.requests import (
    TIME_COLUMNS,
    CaseStatus,
    Instrument,
    Kind,
    Outcome,
    RefusalGround,
    Stage,
)
from sim.scenario import DAYS_PER_YEAR

SEEDS = (1, 2, 3)


@functools.cache
def _cached(seed: int, overrides_json: str):
    return tiny_run(seed, **json.loads(overrides_json))


def run_arm(seed: int, **overrides):
    """A tiny run, cached so that arms shared between tests run once."""
    return _cached(seed, json.dumps(overrides, sort_keys=True))


def arm_mean(metric, seeds=SEEDS, **overrides) -> float:
    values = [metric(run_arm(seed, **overrides)) for seed in seeds]
    assert all(np.isfinite(values)), values
    return float(np.mean(values))


# ---------------------------------------------------------------- invariants

# A plain tiny baseline, and a stressed one where queues overflow and cases go cold
# while requests wait or are still being drafted (exercises lazy queue removal).
VARIANTS = {
    "baseline": {},
    "stressed": {
        "cases__deadline_days_mean": 120.0,
        "agencies__central_authority_capacity": 0.05,
        "agencies__capacity_floor": 0.05,
        "review__max_clarification_rounds": 1,
    },
}


@pytest.fixture(scope="module", params=sorted(VARIANTS))
def result(request):
    return tiny_run(seed=3, **VARIANTS[request.param])


_cols = ledger_columns


def test_run_produces_traffic(result):
    o = result.outcomes
    assert o["requests_total"] > 100
    assert o["cases_total"] > 100
    assert o["requests_executed"] > 0


def test_each_request_has_exactly_one_outcome(result):
    assert_one_outcome_per_request(_cols(result.model))


def test_outcome_counts_add_up_and_match_the_ledger(result):
    o, c = result.outcomes, _cols(result.model)
    issued = c["t_issued"] >= 0
    parts = ("executed", "refused", "lapsed", "withdrawn", "open", "drafting")
    assert sum(o[f"requests_{p}"] for p in parts) == o["requests_total"]
    assert o["requests_total"] == c["outcome"].size
    assert o["requests_issued"] == int(issued.sum())
    for name, code in zip(
        parts[:4],
        (Outcome.EXECUTED, Outcome.REFUSED, Outcome.LAPSED, Outcome.WITHDRAWN),
        strict=True,
    ):
        assert o[f"requests_{name}"] == int(np.count_nonzero(c["outcome"] == code)), name
    assert o["requests_open"] == int(np.count_nonzero(c["outcome"][issued] == Outcome.OPEN))
    assert o["requests_drafting"] == int(np.count_nonzero(c["outcome"][~issued] == Outcome.OPEN))
    rates = o["completion_rate"] + o["refusal_rate"] + o["lapse_rate"]
    assert rates <= 1.0 + 1e-12
    assert sum(o["refusal_rate_by_ground"].values()) == pytest.approx(o["refusal_rate"])


def test_executed_requests_passed_every_stage(result):
    c = _cols(result.model)
    executed = c["outcome"] == Outcome.EXECUTED
    for name in ("t_issued", "t_received", "t_decided", "t_executed"):
        assert np.all(c[name][executed] >= 0), name
    judicial = (c["kind"] == Kind.EXTRADITION) | c["coercive"]
    # Only extraditions and coercive measures see a court.
    assert np.all(c["t_judicial"][~judicial] == -1)


def test_stage_timestamps_are_ordered(result):
    c = _cols(result.model)
    order = [
        "t_created",
        "t_issued",
        "t_received",
        "t_decided",
        "t_judicial",
        "t_executed",
        "t_closed",
    ]
    assert order == [t for t in order if t in TIME_COLUMNS]
    assert np.all(c["t_created"] >= 0)
    last = result.model.day
    for k, later in enumerate(order[1:], start=1):
        present = c[later] >= 0
        assert np.all(c[later][present] <= last)
        for earlier in order[:k]:
            both = present & (c[earlier] >= 0)
            assert np.all(c[earlier][both] <= c[later][both]), f"{earlier} > {later}"
    # Reaching a stage implies reaching the ones before it.
    for later, earlier in [
        ("t_received", "t_issued"),
        ("t_decided", "t_received"),
        ("t_judicial", "t_decided"),
        ("t_executed", "t_decided"),
    ]:
        assert np.all(c[earlier][c[later] >= 0] >= 0), f"{later} without {earlier}"


def test_clarification_rounds_are_bounded(result):
    c = _cols(result.model)
    cap = result.model.config.review.max_clarification_rounds
    assert c["clarification_rounds"].min() >= 0 and c["clarification_rounds"].max() <= cap
    defect = c["refusal_ground"] == RefusalGround.FORM_DEFECT
    assert np.all(c["clarification_rounds"][defect] == cap)


def test_backlogs_match_live_queue_entries(result):
    model = result.model
    c = _cols(model)
    live = (c["outcome"] == Outcome.OPEN) & (c["queue_agency"] >= 0)
    per_agency = np.bincount(c["queue_agency"][live], minlength=len(model.agency_list))
    for agency in model.agency_list:
        assert agency.queue.waiting == per_agency[agency.index], agency.role
    for role, stage in (
        ("central_authority", Stage.REVIEW_QUEUE),
        ("court", Stage.JUDICIAL_QUEUE),
        ("law_enforcement", Stage.EXECUTION_QUEUE),
    ):
        in_stage = int(np.count_nonzero(live & (c["stage"] == stage)))
        assert model.backlog_by_role[role] == in_stage, role
        # The outcome is the backlog averaged over the window's days.
        series = result.series[f"backlog_{role}"].to_numpy()[model.window_start :]
        assert result.outcomes["backlog"][role] == pytest.approx(series.mean())
        assert series[-1] == in_stage


def test_series_backlogs_never_negative_and_counts_never_fall(result):
    s = result.series
    assert len(s) == result.model.horizon_days == 365
    for col in (
        "backlog_central_authority",
        "backlog_court",
        "backlog_law_enforcement",
        "cases_open",
    ):
        assert (s[col] >= 0).all(), col
    for col in ("cases_opened", "requests_issued", "executed", "refused", "lapsed", "withdrawn"):
        assert (np.diff(s[col].to_numpy()) >= 0).all(), col
    assert s["mean_trust"].between(0, 1).all()
    o = result.outcomes
    last = s.iloc[-1]
    assert last["requests_issued"] == o["requests_issued"]
    assert last["executed"] == o["requests_executed"]
    assert last["refused"] == o["requests_refused"]
    assert last["cases_opened"] == o["cases_total"]
    assert last["cases_open"] == o["cases_open"]


def test_series_lapses_match_outcomes_when_cases_go_cold_during_drafting():
    # Drafting takes ~300 days, cases go cold after ~30: most requests lapse unissued.
    result = tiny_run(seed=1, drafting__base_days=300.0, cases__deadline_days_mean=30.0)
    o, last = result.outcomes, result.series.iloc[-1]
    assert last["lapsed"] == o["requests_lapsed"]
    assert last["withdrawn"] == o["requests_withdrawn"]


def test_cases_are_consistent_with_their_requests(result):
    model = result.model
    cases, c = model.cases, _cols(model)
    status = cases.col("status")
    executed = np.bincount(c["case"][c["outcome"] == Outcome.EXECUTED], minlength=len(cases))
    refused = np.bincount(c["case"][c["outcome"] == Outcome.REFUSED], minlength=len(cases))
    open_requests = np.bincount(c["case"][c["outcome"] == Outcome.OPEN], minlength=len(cases))
    np.testing.assert_array_equal(cases.col("received"), executed)
    resolved = status == CaseStatus.RESOLVED
    assert resolved.any()
    # A resolved case has every needed request executed, before its deadline.
    assert np.all(executed[resolved] >= cases.col("needed")[resolved])
    # Resolved by the deadline: a case whose last answer arrives on its deadline day
    # resolves, because answers are handled before deadlines within a day.
    assert np.all(cases.col("t_closed")[resolved] <= cases.col("t_deadline")[resolved])
    cold = status == CaseStatus.COLD
    assert np.all(cases.col("t_closed")[cold] == cases.col("t_deadline")[cold])
    failed = status == CaseStatus.FAILED
    assert np.all(refused[failed] >= 1)
    closed = status != CaseStatus.OPEN
    assert np.all(open_requests[closed] == 0)  # a closed case leaves no request open
    assert np.all(cases.col("t_closed")[closed] >= cases.col("t_created")[closed])
    assert np.all(cases.col("t_closed")[~closed] == -1)
    for case in range(0, len(cases), max(1, len(cases) // 50)):
        ids = np.asarray(cases.requests[case], dtype=int)
        assert np.all(c["case"][ids] == case)
    o = result.outcomes
    assert (
        o["cases_resolved"] + o["cases_cold"] + o["cases_failed"] + o["cases_open"]
        == (o["cases_total"])
    )


def test_rates_and_trust_are_in_range(result):
    o = result.outcomes
    for key in (
        "completion_rate",
        "refusal_rate",
        "lapse_rate",
        "case_resolution_rate",
        "mean_trust",
    ):
        assert 0.0 <= o[key] <= 1.0, key
    for kind, median in o["median_response_days"].items():
        if np.isfinite(median):
            assert 0 <= median <= o["p90_response_days"][kind]


def test_tiny_worlds_do_not_crash():
    one = sim.run(
        tiny_scenario(world__n_states=1, run__years=0.1, run__warmup_years=0.0), seed=1
    ).outcomes
    assert one["requests_total"] == 0 and one["cases_total"] == 0
    json.dumps(to_jsonable(one))  # NaN outcomes still export
    two = sim.run(
        tiny_scenario(world__n_states=2, run__years=0.3, run__warmup_years=0.0), seed=1
    ).outcomes
    assert two["requests_total"] > 0


def test_run_years_override_sets_the_horizon():
    result = sim.run(tiny_scenario(), seed=1, years=0.5)
    assert result.model.horizon_days == 182 and len(result.series) == 182
    assert result.outcomes["days"] == 182


# ---------------------------------------------------------------- reproducibility


def _dump(result) -> str:
    return json.dumps(to_jsonable(result.outcomes), sort_keys=True)


def test_same_seed_gives_identical_outcomes_ledger_and_series():
    first = tiny_run(seed=5)
    np.random.seed(12345)  # the global numpy stream must not matter
    tiny_run(seed=6)  # nor another run in between
    second = tiny_run(seed=5)
    assert _dump(first) == _dump(second)
    assert first.model.ledger.size == second.model.ledger.size
    for name in first.model.ledger._cols:
        np.testing.assert_array_equal(
            first.model.ledger.col(name), second.model.ledger.col(name), err_msg=name
        )
    np.testing.assert_array_equal(first.model.cases.col("status"), second.model.cases.col("status"))
    assert first.series.equals(second.series)


def test_different_seed_gives_different_outcomes():
    assert _dump(tiny_run(seed=5)) != _dump(tiny_run(seed=7))


def test_stepping_by_hand_equals_run():
    scenario = tiny_scenario(run__years=0.3, run__warmup_years=0.0)
    model = sim.CooperationModel(scenario, rng=9)
    while model.running:
        model.step()
    assert json.dumps(to_jsonable(model.outcomes()), sort_keys=True) == _dump(
        sim.run(scenario, seed=9)
    )


# ---------------------------------------------------------------- mechanism directions


def median_mla(result) -> float:
    # Completed requests: in a one-year run the Kaplan-Meier median of a slow world is
    # not reached (fewer than half answered); tests of load use km_median_mla.
    return result.outcomes["median_response_days"]["mla_evidence"]


def km_median_mla(result) -> float:
    # Kaplan-Meier: under overload the slow requests are the ones still open at the end.
    return result.outcomes["km_median_response_days"]["mla_evidence"]


# Without a mutual-recognition bloc every request waits first come, first served
# (bloc requests jump the queue, which would change who gets served under overload).
FIFO_WORLD = {"world__mr_bloc_share": 0.0, "agencies__capacity_floor": 0.0}


def test_more_central_authority_capacity_shortens_median_response():
    # With capacity this scarce most requests are unanswered after a year, so the
    # Kaplan-Meier median is not reached: the naive median (answered ones) still shows it.
    scarce = arm_mean(median_mla, **FIFO_WORLD, agencies__central_authority_capacity=0.1)
    ample = arm_mean(median_mla, **FIFO_WORLD, agencies__central_authority_capacity=3.0)
    assert scarce > ample + 10, (scarce, ample)


def test_p1_response_time_grows_with_load_relative_to_capacity():
    # Central authorities staffed at 0.8 and 3 times the requests they expect: offered
    # load about 1 against about 0.26 (utilisation outcome); 220 against 198 days.
    loaded = arm_mean(km_median_mla, **FIFO_WORLD, agencies__central_authority_capacity=0.8)
    light = arm_mean(km_median_mla, **FIFO_WORLD, agencies__central_authority_capacity=3.0)
    assert loaded > light + 10, (light, loaded)


def _load_vs_review_time(result) -> float:
    """Rank correlation across requested states of load/capacity and review-stage days."""
    model = result.model
    c = _cols(model)
    n = model.world.n_states
    received = c["t_received"] >= 0
    decided = c["t_decided"] >= 0
    capacity = np.array([model.agency_list[model.ca_of[i]].capacity_per_day for i in range(n)])
    load = np.bincount(c["requested_state"][received], minlength=n) / capacity
    stage_days = (c["t_decided"] - c["t_received"]).astype(float)
    days = np.array(
        [
            stage_days[decided & (c["requested_state"] == i)].mean()
            if np.any(decided & (c["requested_state"] == i))
            else np.nan
            for i in range(n)
        ]
    )
    ok = np.isfinite(days)
    return float(spearmanr(load[ok], days[ok]).statistic)


def test_p1_loaded_authorities_take_longer_within_a_run():
    rho = arm_mean(
        _load_vs_review_time,
        seeds=(1, 2, 3),
        **FIFO_WORLD,
        world__n_states=25,
        agencies__central_authority_capacity=0.2,
    )
    assert rho > 0.3, rho


# One legal family (no legal distance at all) against four families. The
# dual-criminality base is raised in both arms so that a tiny world sees enough
# refusals; the same cached arms serve the clarification and drafting tests.
DUAL = {"review__dual_criminality_base": 0.3}
SAME_FAMILY = {**DUAL, "world__legal_family_shares": {"civil": 1.0}}
MIXED_FAMILIES = {
    **DUAL,
    "world__legal_family_shares": {"common": 1.0, "civil": 1.0, "religious": 1.0, "socialist": 1.0},
}


def test_legal_distance_brings_more_clarification_rounds():
    def rounds(r):
        return r.outcomes["clarification_rounds_per_request"]

    assert arm_mean(rounds, **MIXED_FAMILIES) > 1.5 * arm_mean(rounds, **SAME_FAMILY)
    # The same through the parameter: no extra chance per unit of legal distance vs a large one.
    none = arm_mean(rounds, seeds=(1, 2), review__clarification_per_legal_distance=0.0)
    large = arm_mean(rounds, seeds=(1, 2), review__clarification_per_legal_distance=0.9)
    assert large > 2 * none, (none, large)


def test_legal_distance_brings_dual_criminality_refusals():
    def dual(r):
        return r.outcomes["refusal_rate_by_ground"]["dual_criminality"]

    assert arm_mean(dual, **SAME_FAMILY) == 0.0  # no legal distance, no such ground
    mixed = arm_mean(dual, **MIXED_FAMILIES)
    assert mixed > 0.01, mixed


def test_legal_distance_lengthens_drafting():
    def drafting(r):
        c = _cols(r.model)
        issued = c["t_issued"] >= 0
        return float(np.mean(c["t_issued"][issued] - c["t_created"][issued]))

    near = arm_mean(drafting, **MIXED_FAMILIES)  # the default 20 days per unit of distance
    far = arm_mean(drafting, **MIXED_FAMILIES, drafting__legal_distance_days=200.0)
    assert far > near + 30, (near, far)
    # Without legal distance the parameter has nothing to act on.
    same_near = arm_mean(drafting, seeds=(1,), **SAME_FAMILY)
    same_far = arm_mean(drafting, seeds=(1,), **SAME_FAMILY, drafting__legal_distance_days=200.0)
    assert same_far == pytest.approx(same_near, rel=0.1)


def test_sovereignty_sensitivity_brings_sovereignty_refusals():
    def sovereignty(r):
        return r.outcomes["refusal_rate_by_ground"]["sovereignty"]

    low = arm_mean(sovereignty, world__sovereignty_sensitivity_mean=0.0)
    high = arm_mean(sovereignty, world__sovereignty_sensitivity_mean=1.0)
    assert high > 3 * low and high > 0.01, (low, high)


ALL_MR = {"world__mr_bloc_share": 1.0}
ALL_TREATY = {"world__mr_bloc_share": 0.0, "world__bilateral_treaty_density": 1.0}
ALL_COMITY = {
    "world__mr_bloc_share": 0.0,
    "world__bilateral_treaty_density": 0.0,
    "world__convention_share": 0.0,
}


def test_instrument_worlds_mutual_recognition_faster_than_treaty_faster_than_comity():
    def instruments(r):
        return np.bincount(_cols(r.model)["instrument"], minlength=len(Instrument))

    # The worlds really use the instrument they are built for.
    assert np.count_nonzero(instruments(run_arm(1, **ALL_MR))) == 1
    assert instruments(run_arm(1, **ALL_TREATY))[Instrument.BILATERAL_TREATY] > 0
    assert np.count_nonzero(instruments(run_arm(1, **ALL_COMITY))) == 1
    mr = arm_mean(median_mla, seeds=(1, 2, 3), **ALL_MR)
    treaty = arm_mean(median_mla, seeds=(1, 2, 3), **ALL_TREATY)
    comity = arm_mean(median_mla, seeds=(1, 2, 3), **ALL_COMITY)
    assert mr + 20 < treaty, (mr, treaty)
    assert treaty + 10 < comity, (treaty, comity)


def test_instruments_within_a_run_keep_the_same_order():
    def by(instrument):
        return lambda r: r.outcomes["median_response_days_by_instrument"][instrument]

    mr = arm_mean(by("mutual_recognition"))
    treaty = arm_mean(by("bilateral_treaty"))
    comity = arm_mean(by("comity"))
    assert mr < treaty < comity, (mr, treaty, comity)


def _security_extradition_judicial_days(result) -> float:
    c = _cols(result.model)
    heard = (c["kind"] == Kind.EXTRADITION) & c["security_case"] & (c["t_judicial"] >= 0)
    assert heard.sum() >= 5
    return float(np.mean(c["t_judicial"][heard] - c["t_decided"][heard]))


def test_national_security_courts_shorten_the_judicial_stage_of_security_cases():
    # Shorter hearings than the default 240 days, so that most finish inside one year
    # and the comparison is not dominated by which hearings happen to end in time.
    short = {"judicial__extradition_days": 60.0}
    with_nsc = arm_mean(_security_extradition_judicial_days, **short, world__nsc_share=1.0)
    without = arm_mean(_security_extradition_judicial_days, **short, world__nsc_share=0.0)
    assert with_nsc < 0.8 * without, (with_nsc, without)


def by_mesa(model_class):
    """``model_class`` with Mesa's own time (``mesa.Model._advance_time``), not the direct
    loop of sim.stepping: the reference a run is compared with. (A plain model's ``step()``
    is Mesa's wrapped step, which calls the model's ``_advance_time``: sim.stepping's.)"""
    return type(f"{model_class.__name__}ByMesa", (model_class,), {"_advance_time": _mesa_time})


_mesa_time = mesa.Model._advance_time


def test_the_reference_steps_every_day_through_mesa():
    scenario = tiny_scenario(run__years=0.1, run__warmup_years=0.0)
    stepped = by_mesa(_DirectDaysModel)(scenario, rng=2)
    while stepped.running:
        stepped.step()
    by_mesa_days = [entry[1] for entry in stepped.log if entry[0] == "by Mesa"]
    assert by_mesa_days == list(range(stepped.horizon_days))


def test_a_run_in_blocks_meets_a_reform_on_its_day_as_stepping_does():
    """run() advances Mesa a month of days a call; a reform due inside a block takes effect
    on its day, as when Mesa is stepped one day at a time."""
    scenario = tiny_scenario(
        run__years=0.5, run__warmup_years=0.0, nsc_law__enabled=True, nsc_law__start_year=0.123
    )
    start_day = round(0.123 * DAYS_PER_YEAR)
    assert start_day % 30 not in (0, 29)  # inside a block of the run, not at its edge
    stepped = by_mesa(sim.CooperationModel)(scenario, rng=4)
    while stepped.running:
        stepped.step()
    run = sim.CooperationModel(scenario, rng=4).run()
    assert run.day == stepped.day == run.time == run.horizon_days
    for name, values in stepped.series.items():
        np.testing.assert_array_equal(run.series[name], values, err_msg=name)
    assert json.dumps(to_jsonable(run.outcomes()), sort_keys=True) == json.dumps(
        to_jsonable(stepped.outcomes()), sort_keys=True
    )


class _SchedulingModel(sim.CooperationModel):
    """A model whose days schedule events half a day ahead, and that logs what runs when."""

    def __init__(self, *args, **kwargs):
        self.log = []
        super().__init__(*args, **kwargs)

    def step(self):
        if self.day in (3, 40, 41):
            self.schedule_event(self.half_day_later, after=0.5)
        self.log.append(("day", self.day, self.time))
        super().step()

    def half_day_later(self):
        self.log.append(("event", self.day, self.time))


def test_a_run_steps_days_and_events_in_mesas_order():
    """run() steps the days between Mesa's other events itself; an event a day schedules,
    a reform and the steps keep the order and times of stepping one day at a time."""
    scenario = tiny_scenario(
        run__years=0.3, run__warmup_years=0.0, nsc_law__enabled=True, nsc_law__start_year=0.05
    )
    stepped = by_mesa(_SchedulingModel)(scenario, rng=2)
    while stepped.running:
        stepped.step()
    run = _SchedulingModel(scenario, rng=2).run()
    assert run.log == stepped.log
    assert ("event", 4, 4.5) in run.log  # scheduled on day 3, inside the first block
    assert run.steps == stepped.steps == run.horizon_days
    assert run.time == stepped.time == run.horizon_days
    for name, values in stepped.series.items():
        np.testing.assert_array_equal(run.series[name], values, err_msg=name)


class _DirectDaysModel(_SchedulingModel):
    """A :class:`_SchedulingModel` that notes each day it steps outside the direct loop."""

    def step(self):
        if not self._trusted_day:
            self.log.append(("by Mesa", self.day, self.time))
        super().step()


def test_the_days_after_an_event_in_a_block_are_stepped_directly_again():
    """An event inside a block hands Mesa only the days that share a time with it: the
    rest of the block's days are stepped by the direct loop (sim.stepping), in trusted
    days, where a run used to leave the whole rest of the block to Mesa."""
    scenario = tiny_scenario(run__years=0.3, run__warmup_years=0.0)
    run = _DirectDaysModel(scenario, rng=2).run()
    by_mesa = [entry for entry in run.log if entry[0] == "by Mesa"]
    # Days 3, 40 and 41 schedule an event half a day later: Mesa runs those events and
    # at most the day each shares a time with; every other day is stepped directly.
    assert len(by_mesa) <= 3, by_mesa
    assert [e for e in run.log if e[0] == "event"] == [
        ("event", 4, 4.5),
        ("event", 41, 41.5),
        ("event", 42, 42.5),
    ]
    assert run.steps == run.horizon_days


class _ReplacingModel(sim.CooperationModel):
    """A model that replaces the traffic matrix, an array under the kernels' struct, at the
    end of day 119, the last of a block of days the run steps itself (``_BLOCK_DAYS``)."""

    note = False

    def step(self):
        super().step()
        if self.day == 120:
            if self.note:
                replaced_arrays.note(self.traffic)
            self.traffic = self.traffic.copy()


def test_an_array_replaced_without_a_note_stops_the_run_loudly():
    """On the days a run steps itself the struct is checked only after a noted replacement;
    one replaced unnoticed is found at the end of those days, and the run stops."""
    scenario = tiny_scenario(run__years=0.4, run__warmup_years=0.0)
    with pytest.raises(RuntimeError, match=r"without a note: \['traffic'\]"):
        _ReplacingModel(scenario, rng=1).run()


class _ReplacingMidBlock(sim.CooperationModel):
    """A model whose day 100 replaces the traffic matrix unnoted while another array is
    noted: the next call checks the struct because of the note."""

    def step(self):
        if self.day == 100:
            self.traffic = self.traffic.copy()
            replaced_arrays.note(np.zeros(1))
        super().step()


def test_an_unnoted_replacement_is_caught_at_the_next_check_not_only_at_the_end():
    """A check that a note triggers finds every array replaced since the last one and
    raises for those not noted: no kernel call runs on the old array after it."""
    scenario = tiny_scenario(run__years=0.4, run__warmup_years=0.0)
    model = _ReplacingMidBlock(scenario, rng=1)
    with pytest.raises(RuntimeError, match=r"without a note: \['traffic'\]"):
        model.run()
    assert model.day == 100  # stopped in the day of the replacement, at its first call


class _ReplacingTwice(sim.CooperationModel):
    """A model that replaces the traffic matrix on day 100 without a note, and the
    replacement again, with a note, after the day: the note must not excuse the first."""

    def step(self):
        if self.day == 100:
            self.traffic = self.traffic.copy()
        super().step()
        if self.day == 101:
            replaced_arrays.note(self.traffic)
            self.traffic = self.traffic.copy()


def test_a_noted_replacement_does_not_excuse_an_unnoted_one_before_it():
    """The check asks whether the array the struct held was noted as replaced, not the
    array now in place: day 100's calls ran on the old matrix, and the run stops."""
    scenario = tiny_scenario(run__years=0.4, run__warmup_years=0.0)
    with pytest.raises(RuntimeError, match=r"without a note: \['traffic'\]"):
        _ReplacingTwice(scenario, rng=1).run()


def test_a_noted_replacement_is_taken_up_on_the_next_call():
    """With the note, the next kernel call builds the struct over the new array: the run
    counts its requests in it, as a run without the replacement does."""
    scenario = tiny_scenario(run__years=0.4, run__warmup_years=0.0)
    model = _ReplacingModel(scenario, rng=1)
    model.note = True
    model.run()
    plain = sim.CooperationModel(scenario, rng=1).run()
    assert model._state_arrays[FIELDS.index("traffic")] is model.traffic
    np.testing.assert_array_equal(model.traffic, plain.traffic)
    assert model.traffic.sum() > 0


class _FailingDay(_SchedulingModel):
    """A model whose day 40 raises, once."""

    def step(self):
        if self.day == 40 and not getattr(self, "failed", False):
            self.failed = True
            raise RuntimeError("day 40 failed")
        super().step()


def test_a_day_that_raises_leaves_mesas_time_where_mesa_would():
    """After a day raised, going on neither turns time back nor steps a day twice: as in
    Mesa, whose step event for that day was spent, no further day is stepped."""
    scenario = tiny_scenario(run__years=0.3, run__warmup_years=0.0)
    model = _FailingDay(scenario, rng=2)
    with pytest.raises(RuntimeError, match="day 40 failed"):
        model.run()
    assert (model.day, model.time, model.steps) == (40, 41.0, 41)
    model.run_until(70)
    assert (model.day, model.time, model.steps) == (40, 70.0, 41)
    days = [day for kind, day, _ in model.log if kind == "day"]
    assert days == list(range(40))


class _StoppingModel(sim.CooperationModel):
    """A model whose day 20 stops Mesa's steps."""

    def step(self):
        super().step()
        if self.day == 21:
            self._default_schedule.stop()


def test_a_day_that_stops_the_steps_ends_them_as_in_mesa():
    """Mesa steps no day after the one that stopped its step generator; nor does a run."""
    scenario = tiny_scenario(run__years=0.3, run__warmup_years=0.0)
    model = _StoppingModel(scenario, rng=2)
    model.run_until(60)
    assert (model.day, model.time, model.steps) == (21, 60.0, 21)
