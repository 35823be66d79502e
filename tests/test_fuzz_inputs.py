"""Property-based fuzzing of scenario and experiment files through the real CLI.

Hypothesis mutates small valid files (wrong types, missing and unknown keys,
out-of-range and huge numbers, NaN and infinity, empty lists, unicode, cyclic or
missing ``extends``, files that are not TOML at all) and drives ``sim.cli.main``
in-process. Every input must end either in a valid run (exit 0, a complete output
folder) or in a clean error (exit 2, the file and the key named on stderr, nothing
written); never a traceback.

Runs are kept tiny: ``run`` always gets ``--years 0.02``. Valid inputs that would
still be slow (many states x a high arrival rate, big sweeps) are only validated
and collected in ``EXPENSIVE``, printed at the end of the module (``pytest -s``).
"""

from __future__ import annotations

import itertools
import json
import math
import os
import signal
import tomllib
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.cli import main
from sim.experiment import load_experiment, planned_size
from sim.scenario import ScenarioError, load_scenario, parameter_table

PARAMS = parameter_table()
SECTIONS = sorted({row["section"] for row in PARAMS})
FUZZ_YEARS = 0.02
TIME_LIMIT_S = 60  # a single example taking longer than this is a hang: fail and show it
RUN_FILES = {"outcomes.json", "outcomes.parquet", "series.parquet", "ledger.parquet"}

COUNTS = {"scenario": 0, "experiment": 0, "valid": 0, "error": 0, "expensive": 0}
EXPENSIVE: list[str] = []
_fresh = itertools.count()

# CI runs a fixed, reproducible set; COOPSIM_FUZZ_EXAMPLES=5000 hunts with fresh random inputs.
HUNT = int(os.environ.get("COOPSIM_FUZZ_EXAMPLES", "0"))
FUZZ = settings(
    max_examples=HUNT or 150,
    deadline=None,
    derandomize=not HUNT,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    print_blob=True,
)


@pytest.fixture(scope="module", autouse=True)
def _report_counts():
    yield
    print(f"\nfuzz counts: {COUNTS}")
    for line in EXPENSIVE:
        print(f"  valid but over the test cap (validated, not run): {line}")


class _Hang(Exception):
    pass


def _alarm(signum, frame):  # pragma: no cover - only when an example hangs
    raise _Hang(f"an example took more than {TIME_LIMIT_S} s")


def cli(capsys, argv: list[str]) -> tuple[int, str, str]:
    """Run the CLI in-process with a time limit; any exception escaping is a test failure."""
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(TIME_LIMIT_S)
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse errors
        code = exc.code
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    out, err = capsys.readouterr()
    assert "Traceback" not in err, err
    return code, out, err


# ------------------------------------------------------------------ value strategies
TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
NUMBERS = st.one_of(
    st.integers(-(10**6), 10**6),
    st.sampled_from([0, 1, -1, 2, 400, 401, 10**9, 2**63 - 1, -(2**63)]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, -0.0, 1e-300, 1e308, -1e308, math.nan, math.inf, -math.inf]),
)
SCALARS = st.one_of(NUMBERS, st.booleans(), TEXT)
VALUES = st.one_of(
    SCALARS,
    st.lists(SCALARS, max_size=3),
    st.dictionaries(TEXT, SCALARS, max_size=3),
    st.just([]),
    st.just({}),
    st.just("__import__('os').system('touch /tmp/pwned')"),
)


def _value_near(row: dict[str, Any]) -> st.SearchStrategy:
    """Values around a parameter's allowed range: inside, on the edges, outside."""
    lo, hi = row["min"], row["max"]
    if row["type"] == "int" and lo is not None and hi is not None:
        return st.one_of(st.integers(int(lo) - 2, int(hi) + 2), st.sampled_from([lo, hi]))
    if row["type"] == "float" and lo is not None and hi is not None:
        return st.one_of(st.floats(lo, hi), st.sampled_from([lo, hi, lo - 1e-9, hi * 10 + 1, -1.0]))
    return VALUES


@st.composite
def parameter_mutation(draw) -> tuple[str, Any]:
    row = draw(st.sampled_from(PARAMS))
    value = draw(st.one_of(_value_near(row), VALUES))
    return f"{row['section']}.{row['key']}", value


# ------------------------------------------------------------------ scenario files
def _tiny_scenario_dict() -> dict[str, Any]:
    return {"extends": "baseline", "world": {"n_states": 4}, "run": {"years": FUZZ_YEARS}}


def _set(data: dict[str, Any], dotted: str, value: Any) -> None:
    node = data
    keys = dotted.split(".")
    for key in keys[:-1]:
        if not isinstance(node.get(key), dict):
            node[key] = {}
        node = node[key]
    node[keys[-1]] = value


MUTATIONS = ("param", "param", "param", "unknown", "delete", "section_scalar", "extends", "top")


@st.composite
def scenario_case(draw) -> dict[str, Any]:
    """A scenario file's content: either raw bytes, or a mutated dict and the keys touched."""
    if draw(st.integers(0, 9)) == 0:  # not TOML at all, or almost TOML
        raw = draw(
            st.one_of(
                st.binary(max_size=64),
                TEXT.map(lambda t: t.encode()),
                st.sampled_from(
                    [b"[[[ nope\n", b"\xff\xfe\x00[world]", b"world = {\n", b"a = 1\na = 2\n", b""]
                ),
            )
        )
        return {"raw": raw, "keys": []}
    data = _tiny_scenario_dict()
    keys: list[str] = []
    extra: dict[str, Any] = {}
    for kind in draw(st.lists(st.sampled_from(MUTATIONS), min_size=1, max_size=3)):
        if kind == "param":
            dotted, value = draw(parameter_mutation())
            _set(data, dotted, value)
            keys.append(dotted)
        elif kind == "unknown":
            section = draw(st.sampled_from([*SECTIONS, "wörld", "x"]))
            key = draw(TEXT.filter(lambda t: t.strip() != ""))
            dotted = f"{section}.{key}" if draw(st.booleans()) else key
            _set(data, dotted, draw(VALUES))
            # An unknown section is named before its keys: record the whole path.
            keys.append(dotted)
        elif kind == "delete":
            for key in ("extends", "world", "run"):
                if draw(st.booleans()):
                    data.pop(key, None)
        elif kind == "section_scalar":
            section = draw(st.sampled_from(SECTIONS))
            data[section] = draw(SCALARS)
            keys.append(section)
        elif kind == "top":
            key = draw(st.sampled_from(["name", "description", "source"]))
            data[key] = draw(VALUES)
            keys.append(key)
        else:  # extends: missing, cyclic, self, wrong type, odd names
            choice = draw(
                st.sampled_from(
                    ["missing", "cycle", "self", "type", "unicode", "long", "nul", "shipped"]
                )
            )
            keys.append("extends")
            if choice == "missing":
                data["extends"] = "no_such_parent.toml"
            elif choice == "cycle":
                data["extends"] = "parent.toml"
                extra["parent.toml"] = {"extends": "{self}"}
            elif choice == "self":
                data["extends"] = "{self}"
            elif choice == "type":
                data["extends"] = draw(st.one_of(NUMBERS, st.booleans(), st.just([]), st.just("")))
            elif choice == "unicode":
                data["extends"] = draw(TEXT)
            elif choice == "long":
                data["extends"] = "p" * 300 + ".toml"
            elif choice == "nul":
                data["extends"] = "a\x00b.toml"
            else:
                data["extends"] = draw(st.sampled_from(["baseline", "nsc_law", "real_world"]))
    return {"data": data, "keys": keys, "extra": extra}


def _write_case(folder: Path, case: dict[str, Any], name: str) -> Path:
    path = folder / name
    if "raw" in case:
        path.write_bytes(case["raw"])
        return path

    def fill(obj):
        if isinstance(obj, dict):
            return {k: fill(v) for k, v in obj.items()}
        return path.name if obj == "{self}" else obj

    path.write_text(tomli_w.dumps(fill(case["data"])), encoding="utf-8")
    for extra_name, content in case.get("extra", {}).items():
        (folder / extra_name).write_text(tomli_w.dumps(fill(content)), encoding="utf-8")
    return path


def expected_cases(scenario) -> float:
    """A generous estimate of the case arrivals of a run (drives its cost)."""
    c, w = scenario.cases, scenario.world
    n = w.n_states if not w.data_file else 200
    threat = math.exp(c.threat_level_sigma**2 / 2)
    population_sigma = math.hypot(w.economic_size_sigma, w.income_sigma)
    spread = math.exp(min((c.arrivals_population_exponent * population_sigma) ** 2 / 2, 50))
    return n * c.arrivals_per_state_per_year * scenario.run.years * threat * spread


MAX_CASES = 20_000


def _assert_clean_error(err: str, path: Path, keys: list[str]) -> None:
    assert err.startswith("error: ") or f"{path}" in err, err
    assert str(path) in err or path.name in err, f"file not named: {err}"
    if keys:
        leaves = {k.rsplit(".", 1)[-1] for k in keys} | {k.split(".", 1)[0] for k in keys}
        leaves |= {"extends", "TOML", "UTF-8"}
        assert any(leaf in err for leaf in leaves), f"none of {keys} named in: {err}"


@FUZZ
@given(case=scenario_case())
def test_fuzzed_scenario_file_runs_or_fails_cleanly(case, tmp_path, capsys):
    folder = tmp_path / f"s{next(_fresh)}"
    folder.mkdir()
    path = _write_case(folder, case, "scen.toml")
    out_dir = folder / "results" / "run"
    COUNTS["scenario"] += 1

    try:
        scenario = load_scenario(path, {"run.years": FUZZ_YEARS, "run.warmup_years": 0.0})
    except ScenarioError:
        scenario = None
    if scenario is not None and expected_cases(scenario) > MAX_CASES:
        COUNTS["expensive"] += 1
        EXPENSIVE.append(f"scenario {json.dumps(case.get('data'), default=str)[:300]}")
        code, out, err = cli(capsys, ["validate", str(path)])
        assert code == 0, err
        return

    code, out, err = cli(
        capsys,
        [
            "run",
            str(path),
            "--years",
            str(FUZZ_YEARS),
            "--warmup-years",
            "0",
            "--json",
            "--out",
            str(out_dir),
        ],
    )
    assert code in (0, 2), (code, err)
    if code == 0:
        COUNTS["valid"] += 1
        outcomes = json.loads(out, parse_constant=lambda t: pytest.fail(f"bare {t} in JSON"))
        assert outcomes["days"] == round(FUZZ_YEARS * 365) or outcomes["days"] >= 0
        assert {p.name for p in out_dir.iterdir()} >= RUN_FILES | {"manifest.json"}
        assert json.loads((out_dir / "outcomes.json").read_text()) == outcomes
        vcode, _, verr = cli(capsys, ["validate", str(path)])
        if vcode != 0:  # only what --years and --warmup-years replaced may be invalid
            replaced = ("run.years", "run.warmup_years")
            lines = verr.splitlines()
            assert vcode == 2 and all(any(k in ln for k in replaced) for ln in lines), verr
    else:
        COUNTS["error"] += 1
        assert out == ""
        _assert_clean_error(err, path, case["keys"])
        assert not out_dir.exists() and not out_dir.parent.exists()
        # validate agrees, unless the error only shows when the world is built
        vcode, _, verr = cli(capsys, ["validate", str(path)])
        assert vcode in (0, 2)
        if vcode == 2:
            _assert_clean_error(verr, path, case["keys"])


# ------------------------------------------------------------------ experiment files
def _tiny_experiment_dict(scen: str) -> dict[str, Any]:
    return {
        "name": "fz",
        "replications": 2,
        "base_seed": 1,
        "levers": {"scenarios": [scen]},
        "overrides": {"run.years": FUZZ_YEARS, "run.warmup_years": 0.0, "world.n_states": 4},
    }


EXP_KEYS = [
    "name",
    "description",
    "replications",
    "base_seed",
    "design",
    "sample_size",
    "levels",
    "second_order",
    "reference",
    "outcomes",
    "series",
    "confidence",
    "ci_method",
]
EXP_VALUES = st.one_of(
    VALUES,
    st.sampled_from(["grid", "lhs", "sobol", "morris", "t", "bootstrap", "tiny", "baseline"]),
    st.integers(0, 5),
    st.sampled_from([0.5, 0.9, 0.95, 1.0, 2**20, 10**7]),
)
UNCERTAIN_NAMES = st.one_of(
    st.sampled_from([f"{r['section']}.{r['key']}" for r in PARAMS]),
    TEXT,
)
RANGES = st.one_of(
    st.tuples(NUMBERS, NUMBERS).map(list),
    st.lists(NUMBERS, max_size=3),
    SCALARS,
    st.just([0.3, 0.5]),
    st.just([1, 4]),
)


@st.composite
def experiment_case(draw) -> dict[str, Any]:
    if draw(st.integers(0, 9)) == 0:
        raw = draw(st.one_of(st.binary(max_size=64), st.sampled_from([b"name = \n", b"[[x]"])))
        return {"raw": raw, "keys": []}
    data = _tiny_experiment_dict("tiny.toml")
    keys: list[str] = []
    kinds = ["top", "top", "uncertainty", "lever", "override", "delete", "unknown"]
    for kind in draw(st.lists(st.sampled_from(kinds), min_size=1, max_size=3)):
        if kind == "top":
            key = draw(st.sampled_from(EXP_KEYS))
            data[key] = draw(EXP_VALUES)
            keys.append(key)
        elif kind == "uncertainty":
            name = draw(UNCERTAIN_NAMES)
            if not isinstance(data.get("uncertainties"), dict):
                data["uncertainties"] = {}
            data["uncertainties"][name] = draw(RANGES)
            keys += ["uncertainties", name]
        elif kind == "lever":
            name = draw(st.one_of(st.just("scenarios"), UNCERTAIN_NAMES))
            values = draw(
                st.one_of(
                    st.lists(SCALARS, max_size=3),
                    st.just(["tiny.toml", "no_such.toml"]),
                    st.just(["tiny.toml", "baseline"]),
                    st.just([]),
                    SCALARS,
                )
            )
            if not isinstance(data.get("levers"), dict):
                data["levers"] = {}
            data["levers"][name] = values
            keys += ["levers", name]
        elif kind == "override":
            dotted, value = draw(parameter_mutation())
            if not isinstance(data.get("overrides"), dict):
                data["overrides"] = {}
            data["overrides"][dotted] = value
            keys += ["overrides", dotted]
        elif kind == "delete":
            key = draw(st.sampled_from(["name", "levers", "overrides", "replications"]))
            data.pop(key, None)
            keys.append(key)
        else:
            key = draw(TEXT.filter(lambda t: t.strip() != ""))
            data[key] = draw(VALUES)
            keys.append(key)
    return {"data": data, "keys": keys}


MAX_SWEEP_RUNS = 8


@FUZZ
@given(case=experiment_case())
def test_fuzzed_experiment_file_sweeps_or_fails_cleanly(case, tmp_path, capsys):
    folder = tmp_path / f"e{next(_fresh)}"
    folder.mkdir()
    (folder / "tiny.toml").write_text(
        'extends = "baseline"\nname = "tiny"\n[world]\nn_states = 4\n'
        "[run]\nyears = 0.02\nwarmup_years = 0.0\n"
    )
    path = _write_case(folder, case, "exp.toml")
    out_dir = folder / "results" / "sweep"
    COUNTS["experiment"] += 1

    try:
        experiment = load_experiment(path)
    except ScenarioError:
        experiment = None
    if experiment is not None:
        policies, points, reps = planned_size(experiment.spec)
        scenarios = getattr(experiment.target, "scenarios", {})
        too_big = policies * points * reps > MAX_SWEEP_RUNS or any(
            s.run.years > 0.05 or expected_cases(s) > MAX_CASES for s in scenarios.values()
        )
        if too_big:
            COUNTS["expensive"] += 1
            EXPENSIVE.append(f"experiment {json.dumps(case.get('data'), default=str)[:300]}")
            return

    code, out, err = cli(capsys, ["sweep", str(path), "--workers", "1", "--out", str(out_dir)])
    assert code in (0, 2), (code, err)
    if code == 0:
        COUNTS["valid"] += 1
        manifest = json.loads((out_dir / "manifest.json").read_text())
        assert manifest["status"] == "complete"
        from sim.store import load_results

        results = load_results(out_dir)
        assert len(results.outcomes) == len(results.plan) == manifest["n_runs"]
        assert results.outcomes["run_id"].is_unique
    else:
        COUNTS["error"] += 1
        assert experiment is None, "load_experiment accepted what the CLI refused"
        _assert_clean_error(err, path, case["keys"])
        assert not out_dir.exists() and not out_dir.parent.exists()


# ------------------------------------------------------------------ fixed regressions
@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('extends = "' + "a" * 300 + '.toml"\n', "extends"),
        ('extends = "a\\u0000.toml"\n', "extends"),
        ("run = 5\n", "run"),
        ("[world]\nlegal_family_shares = {common = 1e308, civil = 1e308}\n", "legal_family"),
        ("[cases]\ntype_shares = {terrorism = 1e308, espionage = 1e308}\n", "type_shares"),
        ("[cases]\ntype_shares = {}\n", "type_shares"),
        ('[world]\ndata_file = "' + "b" * 300 + '.csv"\n', "data_file"),
        ('[world]\ndata_file = "x\\u0000.csv"\n', "data_file"),
    ],
    ids=[
        "long-extends",
        "nul-extends",
        "run-a-value",
        "family-overflow",
        "type-overflow",
        "type-empty",
        "long-data-file",
        "nul-data-file",
    ],
)
def test_inputs_that_once_crashed_now_exit_2(text, key, tmp_path, capsys):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    out_dir = tmp_path / "out"
    code, out, err = cli(
        capsys, ["run", str(path), "--years", str(FUZZ_YEARS), "--json", "--out", str(out_dir)]
    )
    assert code == 2, err
    assert str(path) in err and key in err
    assert not out_dir.exists()


LEVERS_TABLE = '[levers]\nscenarios = ["baseline"]\n'


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('name = "../escape"\nreplications = 2\n' + LEVERS_TABLE, "name"),
        ('name = ""\nreplications = 2\n' + LEVERS_TABLE, "name"),
        (
            'name = "huge"\ndesign = "grid"\nlevels = 1000\nreplications = 2\n'
            + LEVERS_TABLE
            + '[uncertainties]\n"world.initial_trust" = [0.1, 0.9]\n'
            '"world.nsc_share" = [0.1, 0.9]\n"world.mr_bloc_share" = [0.1, 0.9]\n',
            "replications",
        ),
    ],
    ids=["name-escapes", "name-empty", "plan-of-a-billion-runs"],
)
def test_experiment_inputs_that_once_hung_or_escaped_now_exit_2(text, key, tmp_path, capsys):
    path = tmp_path / "exp.toml"
    path.write_text(text)
    out_dir = tmp_path / "o"
    code, _, err = cli(capsys, ["sweep", str(path), "--workers", "1", "--out", str(out_dir)])
    assert code == 2, err
    assert str(path) in err and key in err
    assert not out_dir.exists()


def test_fuzz_base_files_are_valid():
    """The files the fuzzer mutates are themselves valid (so mutations are what fail)."""
    data = _tiny_scenario_dict()
    assert tomllib.loads(tomli_w.dumps(data)) == data
