"""The compiled kernels: their numbers, their cache, and one compiled version for every run.

The kernels' rules are tested through the model (tests/test_mechanisms.py and the rest)
and against references where one exists (tests/test_queue_reference.py,
tests/test_hot_path_identity.py); here are the properties of the compiled layer itself.
"""

from __future__ import annotations

import shutil

import numba
import numpy as np
import pytest
from conftest import tiny_scenario

import sim.kernel_cache as kernel_cache
import sim.kernel_draws as kernel_draws
from sim.kernel_pick import (
    count_true,
    distinct,
    group_by,
    insert_right,
    pick,
    pick_equal,
    pick_not,
    repeat_each,
    sort_values,
)
from sim.kernel_queues import stable_order
from sim.kernel_trust import off_diagonal_mean, pair_order, pairwise_sum
from sim.model import CooperationModel
from sim.scenario import load_scenario, shipped_scenarios


@pytest.mark.parametrize("size", [0, 1, 2, 7, 8, 9, 15, 16, 17, 100, 128, 129, 300, 1000, 4099])
def test_pairwise_sum_adds_as_numpy_does_bit_for_bit(size):
    """Trust's running sums add like ndarray.sum (pairwise), so the daily mean is unchanged."""
    rng = np.random.default_rng(size)
    for _ in range(20):
        values = rng.normal(size=size) * 10.0 ** rng.integers(-12, 3, size=size)
        assert pairwise_sum(values) == values.sum()
    # And it is not plain left-to-right addition (which rounds differently).
    if size == 1000:
        values = np.array([1.0, 1e-16, 1e-16, 1e-16] * 250)
        assert pairwise_sum(values) == values.sum() != sum(values.tolist())


@pytest.mark.parametrize("size", [1, 2, 3, 12, 40, 195])
def test_off_diagonal_mean_adds_as_numpy_does_bit_for_bit(size):
    """The daily mean of relations: numpy's (sum - trace) / (n (n - 1)), to the last bit."""
    rng = np.random.default_rng(size)
    for _ in range(10):
        matrix = rng.uniform(0, 1, (size, size)) * 10.0 ** rng.integers(-3, 3, (size, size))
        got = off_diagonal_mean(matrix)
        if size < 2:
            assert np.isnan(got)
        else:
            assert got == (matrix.sum() - np.trace(matrix)) / (size * (size - 1))


def _struct_type(name: str):
    scenario = load_scenario(name)
    small = {"run.years": 0.1, "run.warmup_years": 0.0}
    if scenario.world.data_file is None:  # a data file's rows are the states
        small["world.n_states"] = 6
    scenario = scenario.with_overrides(small)
    model = CooperationModel(scenario, rng=0)
    model.step()
    return numba.typeof(model.kernel_state(1)[0])


@pytest.mark.parametrize(
    ("size", "distinct"),
    [(0, 1), (1, 1), (7, 2), (64, 5), (1000, 40), (200, 5), (5000, 3), (300, 1)]
    + [(size, 1) for size in (16, 17, 32, 33, 49, 65)],
)
def test_stable_order_sorts_as_numpy_s_lexsort(size, distinct):
    """The queue pool's merge orders arrivals (group, then a float priority) as lexsort."""
    rng = np.random.default_rng(size)
    group = rng.integers(0, distinct, size).astype(np.int32)
    priority = -rng.integers(0, 3, size) / 2.0  # negative, with ties
    np.testing.assert_array_equal(stable_order(group, priority), np.lexsort((priority, group)))


@pytest.mark.parametrize("size", [0, 1, 2, 9, 300])
def test_selections_give_what_numpy_gives(size):
    """The compiled selections in place of boolean indexing."""
    rng = np.random.default_rng(size)
    values = rng.integers(-5, 40, size)
    keys = rng.integers(0, 4, size)
    mask = keys == 1
    np.testing.assert_array_equal(pick(values, mask), values[mask])
    np.testing.assert_array_equal(pick_not(values, mask), values[~mask])
    np.testing.assert_array_equal(pick_equal(values, keys, np.int64(2)), values[keys == 2])
    assert count_true(mask) == np.count_nonzero(mask)


@pytest.mark.parametrize("size", [0, 1, 5, 300])
def test_grouping_by_key_gives_each_key_s_selection_in_order(size):
    """The passes take every stage's requests from one grouping, as one selection a stage did."""
    rng = np.random.default_rng(size)
    values = rng.permutation(10 * size + 1)[:size].astype(np.int64)
    keys = rng.integers(0, 12, size)
    keys[keys == 5] = 4  # a key no value has: an empty group
    grouped, start = group_by(values, keys, np.int64(12))
    assert start[0] == 0 and start[-1] == size and np.all(np.diff(start) >= 0)
    for key in range(12):
        want = pick_equal(values, keys, np.int64(key))
        np.testing.assert_array_equal(grouped[start[key] : start[key + 1]], want)
    if size:
        keys[-1] = 12
        with pytest.raises(IndexError, match="a key outside"):
            group_by(values, keys, np.int64(12))


def test_a_selection_of_nothing_is_empty_and_leaves_the_values_alone():
    """Nothing selected gives an empty array of the values' type (a view: no allocation)."""
    values = np.arange(5, dtype=np.int64)
    nothing, everything = np.zeros(5, dtype=np.bool_), np.ones(5, dtype=np.bool_)
    empties = pick(values, nothing), pick_not(values, everything), pick_equal(values, values, 9)
    for empty in empties:
        assert empty.size == 0 and empty.dtype == values.dtype
        # A view of the values (numba wraps it in its own memory record): their buffer.
        assert empty.ctypes.data == values.ctypes.data
    chosen = pick(values, everything)  # something selected: a copy, not a view
    assert chosen.ctypes.data != values.ctypes.data
    chosen[0] = 99
    assert values[0] == 0


@pytest.mark.parametrize("size", [0, 1, 15, 16, 17, 32, 33, 64, 100, 1000, 4099])
def test_the_integer_sort_sorts_as_numpy_does(size):
    """Quicksort, parts of at most 16 by insertion: sorted, reversed, constant, with ties."""
    rng = np.random.default_rng(size)
    samples = (
        rng.integers(-50, 50, size),
        rng.integers(0, 3, size).astype(np.int32),
        np.arange(size),
        np.arange(size)[::-1].copy(),
        np.full(size, 7),
        rng.integers(-(2**62), 2**62, size),
    )
    for values in samples:
        want = np.sort(values)
        got = values.copy()
        sort_values(got)
        np.testing.assert_array_equal(got, want)
        assert got.dtype == values.dtype


@pytest.mark.parametrize("size", [0, 1, 2, 31, 32, 33, 500, 20_000])
@pytest.mark.parametrize("n", [2, 7, 195])
def test_trust_s_batch_order_is_a_stable_sort_of_its_pairs(size, n):
    """Pairs by key, a repeated pair's updates in batch order: small batches and counted."""
    rng = np.random.default_rng(size)
    i, j = rng.integers(0, n, size), rng.integers(0, n, size)
    key = i * n + j
    np.testing.assert_array_equal(pair_order(key, i, j, n), np.argsort(key, kind="stable"))


@pytest.mark.parametrize("size", [3, 40])
def test_trust_s_batch_order_refuses_a_state_out_of_range(size):
    """Both paths, so that a bad state cannot be merged in one and not in the other."""
    i, j = np.zeros(size, dtype=np.int64), np.ones(size, dtype=np.int64)
    j[-1] = 5
    with pytest.raises(IndexError, match="a state outside"):
        pair_order(i * 5 + j, i, j, np.int64(5))


@pytest.mark.parametrize("size", [0, 1, 2, 9, 300])
def test_the_loops_in_place_of_numpy_s_functions_give_what_numpy_gives(size):
    """np.unique, np.repeat and np.searchsorted as the kernels call them, ties included."""
    rng = np.random.default_rng(size)
    keys = rng.integers(-3, 12, size)
    np.testing.assert_array_equal(distinct(keys), np.unique(keys))
    counts = rng.integers(0, 4, size)
    np.testing.assert_array_equal(repeat_each(keys, counts), np.repeat(keys, counts))
    cdf = np.cumsum(rng.integers(0, 3, size) / 2.0)  # sorted, with runs of equal values
    for value in [-1.0, 0.0, 0.5, 1.0, 2.5, 1e9, *cdf.tolist(), *(cdf + 0.25).tolist()]:
        assert insert_right(cdf, value) == np.searchsorted(cdf, value, side="right")
    ordered = np.unique(keys)  # trust's pairs: the first equal to an integer key
    for value in range(-5, 14):
        assert insert_right(ordered, np.int64(value) - 1) == np.searchsorted(ordered, value)


def test_every_shipped_scenario_uses_the_same_compiled_kernels():
    """Every array the kernels read has one dtype in every scenario: one compile serves all.

    A world built from a data file or a lever that stored an int where others store a
    float would give the struct another numba type, and every kernel would compile
    again for it (a minute) in each sweep worker that meets it.
    """
    names = sorted(shipped_scenarios())
    first = _struct_type(names[0])
    different = [name for name in names[1:] if _struct_type(name) != first]
    assert not different, f"these scenarios give the kernels other array types: {different}"


def test_cache_directory_follows_every_kernel_source(tmp_path, monkeypatch):
    """A change to any kernel module moves the cache: callers never run stale code."""
    package = tmp_path / "sim"
    shutil.copytree(kernel_cache.PACKAGE, package, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(kernel_cache, "PACKAGE", package)
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "cache"))
    before = kernel_cache.cache_dir()
    assert before.parent == tmp_path / "cache"
    assert before.name == f"numba-{kernel_cache.source_digest()}"
    other = package / "model.py"  # not a kernel: no new compile
    other.write_text(other.read_text() + "\n# a comment\n")
    assert kernel_cache.cache_dir() == before
    kernel = package / "kernel_rules.py"
    kernel.write_text(kernel.read_text() + "\n# a comment\n")
    assert kernel_cache.cache_dir() != before
    # So does a change to a module whose constants the kernels read (DAYS_PER_YEAR).
    changed = kernel_cache.cache_dir()
    units = package / "units.py"
    assert "units.py" in kernel_cache.READ_BY_KERNELS and units.exists()
    units.write_text(units.read_text() + "\n# a comment\n")
    assert kernel_cache.cache_dir() != changed
    # And to e-evidence's rules, which sim.kernel_eevidence compiles from their source.
    changed = kernel_cache.cache_dir()
    rules = package / "eevidence_rules.py"
    assert "eevidence_rules.py" in kernel_cache.READ_BY_KERNELS and rules.exists()
    rules.write_text(rules.read_text() + "\n# a comment\n")
    assert kernel_cache.cache_dir() != changed


def test_the_model_runs_from_the_numba_cache_of_its_own_source():
    active = kernel_cache.active_cache_dir()
    assert active == kernel_cache.cache_dir()
    assert active.name == f"numba-{kernel_cache.source_digest()}"
    # The session compiled the kernels into it, by module and function name only: no
    # subdirectory named after the package's path, so another copy of the same source
    # (an installed wheel) finds them.
    indexes = {path.name.split("-")[0] for path in active.glob("*.nbi")}
    assert {"kernel_stages.advance_due", "kernel_queues.serve_queues"} <= indexes
    assert not [path for path in active.iterdir() if path.is_dir()]


def test_the_struct_holds_each_array_under_its_own_name():
    """The kernels read the array they name: field by field, the model's own object."""
    import sim.model as model_module
    from sim.kernel_state import (
        FIELDS,
        WORLD_FIELDS,
        AgencyArrays,
        CalendarArrays,
        CaseArrays,
        LedgerArrays,
        WorldArrays,
    )

    scenario = load_scenario("case_interpol_operation").with_overrides(
        {"world.n_states": 8, "run.years": 0.3, "run.warmup_years": 0.0}
    )
    model = CooperationModel(scenario, rng=2).run()
    _, out = model.kernel_state(1)
    arrays = dict(zip(FIELDS, model._state_arrays, strict=True))
    c, p, op = model.cases, model.policy, model.operations.running()
    expected = {
        **{name: getattr(model.ledger, name) for name in LedgerArrays._fields},
        **{
            f"case_{k}": v
            for k, v in zip(
                CaseArrays._fields,
                (
                    c.origin,
                    c.case_type,
                    c.needed,
                    c.received,
                    c.status,
                    c._first,
                    c._count,
                    c.extra_first,
                    c.extra_next,
                    c.extra_request,
                    c.severity,
                    c.political_sensitivity,
                    c.t_deadline,
                    c.extra_last,
                    c.extras_used,
                    c.t_created,
                    c.t_closed,
                    c.team_slot,
                    c.n_rows,
                ),
                strict=True,
            )
        },
        **{name: getattr(model.world, name) for name in WORLD_FIELDS},
        "familiarity": model.familiarity,
        "listed_type": model._listed_type,
        "is_civil": model._is_civil,
        "nsc_of": model.nsc_of,
        "ca_of": model.ca_of,
        "court_of": model.court_of,
        "le_of": model.le_of,
        "channel_days": model._channel_days,
        "latest_case": model.latest_case,
        "procedure_clarity": p.procedure_clarity,
        "court_transparency": p.court_transparency,
        "court_safeguards": p.court_safeguards,
        "mr_bloc": model.world.mr_bloc,
        "treaty_matrix": model.world.treaty_matrix,
        "convention": model.world.convention,
        "platform": model.world.platform,
        "contact_point": model.world.contact_point,
        "drafting_skill": model.world.skill,
        "urgent_threshold": p.urgent_threshold,
        "formal_channel": p.formal_channel,
        "security_type": model.security_type,
        "traffic": model.traffic,
        "case_numbers": model._case_parameters,
        **{f"trust_{k}": v for k, v in model.trust.arrays()._asdict().items()},
        **{name: getattr(model.agency_table, name) for name in AgencyArrays._fields},
        **{f"pool_{k}": v for k, v in model.pool.arrays(model.ledger.capacity)._asdict().items()},
        **{f"cal_{k}": v for k, v in zip(CalendarArrays._fields, model._due.arrays(), strict=True)},
        **{
            f"deadline_{k}": v
            for k, v in zip(CalendarArrays._fields, model._deadlines.arrays(), strict=True)
        },
        **{f"share_{k}": v for k, v in model.intelligence.arrays()._asdict().items()},
        **{
            f"delivery_{k}": v
            for k, v in zip(
                CalendarArrays._fields, model.intelligence.deliveries.arrays(), strict=True
            )
        },
        **{f"notice_{k}": v for k, v in model.interpol.arrays()._asdict().items()},
        **{
            f"{prefix}_{k}": v
            for prefix, calendar in (
                ("review", model.interpol.reviews),
                ("search", model.interpol.searches),
            )
            for k, v in zip(CalendarArrays._fields, calendar.arrays(), strict=True)
        },
        **{f"team_{k}": v for k, v in model.teams.arrays()._asdict().items()},
        "series_rows": model._series_rows,
        "series_layout": model_module._LAYOUT_ROWS,
        "series_counted": model_module._COUNTED_ROWS,
        "series_slots": model_module._COUNTER_SLOTS,
        "series_backlog": model.agency_backlog,
        "series_capacity_days": model.agency_table.capacity_days,
        "series_trust_own": model.trust.mean_terms()[0],
        **out._asdict(),
        "params": model._parameters,
        "counters": model.counters,
    }
    prioritise = op is not None and op.params.prioritise_requests
    no_states, no_types, _ = model.operations._no_arrays()
    expected["op_participant"] = op.participant if prioritise else no_states
    expected["op_targeted"] = op.targeted if prioritise else no_types
    assert set(WorldArrays._fields) <= set(expected) and set(expected) == set(FIELDS)
    for name in FIELDS:
        assert arrays[name] is expected[name], name


def test_the_kernels_codes_are_the_model_s_enums():
    """The integer codes the kernels compare with are the Python enums' values."""
    from sim import kernel_drafting as kd
    from sim import kernel_interpol as ki
    from sim import kernel_lifecycle as kl
    from sim import kernel_queues as kq
    from sim import kernel_stages as ks
    from sim.interpol import NoticeStatus
    from sim.queues import ROLE_CODES
    from sim.requests import CaseStatus, Channel, Instrument, Kind, Outcome, RefusalGround, Stage

    assert (kl.OPEN, kl.EXECUTED, kl.REFUSED, kl.LAPSED, kl.WITHDRAWN) == tuple(Outcome)
    assert (kl.CASE_OPEN, kl.RESOLVED, kl.COLD, kl.FAILED) == tuple(CaseStatus)
    assert kl.CLOSED_STAGE == Stage.CLOSED
    assert (kl.MLA_EVIDENCE, kl.EXTRADITION) == (Kind.MLA_EVIDENCE, Kind.EXTRADITION)
    assert (kd.COMITY, kd.CONVENTION, kd.BILATERAL_TREATY, kl.MUTUAL_RECOGNITION) == tuple(
        Instrument
    )
    channels = (kd.DIPLOMATIC, kd.CENTRAL_AUTHORITY, kd.DIRECT, kd.SECURE_PLATFORM)
    assert channels == (
        Channel.DIPLOMATIC,
        Channel.CENTRAL_AUTHORITY,
        Channel.DIRECT,
        Channel.SECURE_PLATFORM,
    )
    assert (kl.JIT, kl.CONTACT_POINT) == (Channel.JIT, Channel.CONTACT_POINT_24_7)
    roles = (kl.CENTRAL_AUTHORITY, kl.COURT, kl.LAW_ENFORCEMENT)
    assert dict(zip(ROLE_CODES, roles, strict=True)) == ROLE_CODES
    # The stages by code, each stage's next after its queue, and the refusal grounds.
    stages = [s.name for s in Stage if s != Stage.CLOSED]
    assert [getattr(ks, name) for name in stages] == [int(Stage[name]) for name in stages]
    assert kd.DRAFTING == Stage.DRAFTING and ks.N_STAGES == len(Stage)
    assert kq.NEXT_STAGE == (Stage.REVIEW, Stage.JUDICIAL, Stage.EXECUTION)
    grounds = (ks.FORM_DEFECT, ks.SOVEREIGNTY, ks.HUMAN_RIGHTS)
    assert grounds == (
        RefusalGround.FORM_DEFECT,
        RefusalGround.SOVEREIGNTY,
        RefusalGround.HUMAN_RIGHTS,
    )
    assert ks.N_GROUND_CODES == len(RefusalGround)
    assert (ki.REJECTED, ki.CIRCULATING, ki.LOCATED, ki.NOT_LOCATED) == (
        NoticeStatus.REJECTED,
        NoticeStatus.CIRCULATING,
        NoticeStatus.LOCATED,
        NoticeStatus.NOT_LOCATED,
    )


def test_a_case_s_later_requests_follow_its_run_in_the_order_they_came():
    """CaseBook's requests per case: the run, then the later ones (linked per case).

    More later requests than the lists' first capacity, and a case book that grows past
    its own, so both kinds of array are replaced between lookups (which run the
    compiled ``request_ids`` on the current arrays).
    """
    from sim.requests import CaseBook

    book = CaseBook(initial_capacity=4)
    cases = book.append(origin=np.zeros(3, dtype=np.int16), t_created=0, t_deadline=9)
    book.add_requests(cases.repeat(2), np.arange(6))  # runs: 0-1, 2-3, 4-5
    expected = {0: [0, 1], 1: [2, 3], 2: [4, 5]}
    rng = np.random.default_rng(3)
    request = 6
    for _ in range(150):  # later requests, to random cases, some new ones
        if rng.random() < 0.1:
            new = book.append(origin=np.zeros(1, dtype=np.int16), t_created=0, t_deadline=9)
            book.add_requests(new, np.array([request]))
            expected[int(new[0])] = [request]
        else:
            case = int(rng.integers(0, book.size))
            book.add_requests(np.array([case]), np.array([request]))
            expected[case].append(request)
        request += 1
    assert book.size > 4 and book.n_extra > 64
    for case, ids in expected.items():
        assert book.requests[case] == ids
    # Several cases at once: each run in the order given (a case given twice, twice),
    # then the later requests by case, in case order.
    asked = np.array([2, 0, 2])
    runs = [r for c in asked.tolist() for r in expected[c][: book.request_runs[1][c]]]
    later = [r for c in sorted(set(asked.tolist())) for r in expected[c][book.request_runs[1][c] :]]
    assert book.request_ids(asked).tolist() == runs + later


def test_the_day_records_trust_after_a_write_from_python():
    """A write to trust from Python stops the day's record until Python rebuilds the sums."""
    from sim.kernel_state import T_VALID

    model = CooperationModel(tiny_scenario(world__n_states=8), rng=3)
    for _ in range(5):
        model.step()
    model.trust.slow_decay(0, 1, 0.5, model.day)  # a meeting's write: the sums go stale
    assert model.trust.sums[T_VALID] == 0.0
    day = model.day
    model.step()
    assert model.trust.sums[T_VALID] == 1.0  # rebuilt for the day's record
    assert model.series["mean_trust"][day] == model.trust.mean(day)
    off_diagonal = model.trust.snapshot(day)[~np.eye(8, dtype=bool)]
    assert np.isclose(model.series["mean_trust"][day], off_diagonal.mean(), rtol=1e-12)


@numba.njit
def _draws_by_method(rng, n):
    out = np.empty((n, 4))
    for k in range(n):
        out[k, 0] = rng.random()
        out[k, 1] = rng.standard_normal()
        out[k, 2] = rng.poisson(3.5)
        out[k, 3] = rng.beta(2.0, 5.0)
    return out


@numba.njit
def _draws_from_bits(rng, n):
    bits = rng.bit_generator
    out = np.empty((n, 4))
    for k in range(n):
        out[k, 0] = kernel_draws.uniform(bits)
        out[k, 1] = kernel_draws.standard_normal(bits)
        out[k, 2] = kernel_draws.poisson(bits, 3.5)
        out[k, 3] = kernel_draws.beta(bits, 2.0, 5.0)
    return out


@pytest.mark.parametrize("seed", [0, 1, 12345])
def test_draws_from_the_bit_generator_are_numbas_and_numpys_own(seed):
    """sim.kernel_draws gives the draws of numba's methods and of numpy, in their order."""
    by_method = _draws_by_method(np.random.default_rng(seed), 500)
    from_bits = _draws_from_bits(np.random.default_rng(seed), 500)
    np.testing.assert_array_equal(from_bits, by_method)
    rng = np.random.default_rng(seed)
    by_numpy = np.empty((500, 4))
    for k in range(500):
        by_numpy[k] = rng.random(), rng.standard_normal(), rng.poisson(3.5), rng.beta(2.0, 5.0)
    np.testing.assert_array_equal(from_bits, by_numpy)
    assert len(np.unique(from_bits[:, 2])) > 5  # the Poisson draws vary
