"""The coopsim command in-process (``sim.cli.main``), plus one real subprocess."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import BASELINE_FILE

from sim.cli import build_parser, main

REPO = Path(__file__).resolve().parent.parent
RUN_ARGS = [
    "run",
    str(BASELINE_FILE),
    "--seed",
    "1",
    "--json",
    "--years",
    "0.5",
    "--warmup-years",
    "0",
]
REQUIRED_KEYS = (
    "requests_total",
    "completion_rate",
    "refusal_rate_by_ground",
    "median_response_days",
    "case_resolution_rate",
    "mean_trust",
)


def _no_nan(token):
    raise AssertionError(f"non-standard JSON constant {token}")


def _run(capsys, argv):
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_run_json_has_the_core_outcomes(capsys):
    code, out, err = _run(capsys, RUN_ARGS)
    assert code == 0, err
    outcomes = json.loads(out, parse_constant=_no_nan)  # standard JSON: NaN is null
    for key in REQUIRED_KEYS:
        assert key in outcomes, key
    assert outcomes["requests_total"] > 0
    assert outcomes["days"] == 182  # --years 0.5 was applied
    assert set(outcomes["median_response_days"]) >= {"mla_evidence", "extradition"}
    assert "sovereignty" in outcomes["refusal_rate_by_ground"]
    assert 0 <= outcomes["completion_rate"] <= 1


def test_run_twice_gives_byte_identical_output(capsys):
    _, first, _ = _run(capsys, RUN_ARGS)
    _, second, _ = _run(capsys, RUN_ARGS)
    assert first == second
    _, other_seed, _ = _run(capsys, [*RUN_ARGS[:3], "2", *RUN_ARGS[4:]])
    assert other_seed != first


def test_run_by_shipped_name_and_readable_summary(capsys):
    code, out, _ = _run(capsys, ["run", "baseline", "--years", "0.2", "--warmup-years", "0"])
    assert code == 0
    assert "requests" in out and "Kaplan-Meier median" in out


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('extends = "baseline"\n[world]\nn_statez = 12\n', "world.n_statez"),
        ('extends = "baseline"\n[agencies]\ncourt_capacity = -2.0\n', "agencies.court_capacity"),
    ],
    ids=["unknown-key", "negative-capacity"],
)
def test_run_bad_scenario_exits_2_names_file_and_key_and_writes_nothing(
    capsys, write_toml, tmp_path, text, key
):
    path = write_toml("bad.toml", text)
    out_dir = tmp_path / "results" / "run1"
    code, out, err = _run(capsys, ["run", str(path), "--json", "--out", str(out_dir)])
    assert code == 2
    assert str(path) in err and key in err
    assert out == ""
    assert not out_dir.exists() and not out_dir.parent.exists()


def test_run_missing_scenario_exits_2(capsys, tmp_path):
    code, _, err = _run(capsys, ["run", str(tmp_path / "nope.toml")])
    assert code == 2 and "nope.toml" in err


def test_run_out_writes_the_same_outcomes(capsys, tmp_path):
    out_dir = tmp_path / "run1"
    code, out, err = _run(capsys, [*RUN_ARGS, "--out", str(out_dir)])
    assert code == 0, err
    written = json.loads((out_dir / "outcomes.json").read_text())
    assert written == json.loads(out)


@pytest.mark.parametrize(
    "argv",
    [
        ["run", "baseline", "--years", "0"],
        ["run", "baseline", "--years", "many"],
        ["run", "baseline", "--seed", "-1"],
        ["run"],
        ["no-such-command"],
    ],
)
def test_bad_arguments_exit_2(capsys, argv):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    assert capsys.readouterr().err


def test_validate_good_files(capsys, write_toml):
    good = write_toml("good.toml", 'extends = "baseline"\n[world]\nnsc_share = 0.5\n')
    code, out, err = _run(capsys, ["validate", str(BASELINE_FILE), str(good)])
    assert code == 0, err
    assert f"{good}: ok" in out and f"{BASELINE_FILE}: ok" in out


def test_validate_reports_every_bad_file(capsys, write_toml):
    good = write_toml("good.toml", 'extends = "baseline"\n')
    bad1 = write_toml("bad1.toml", "[world]\nbogus = 1\n")
    bad2 = write_toml("bad2.toml", "[review]\nservice_days = -1\n")
    code, out, err = _run(capsys, ["validate", str(bad1), str(good), str(bad2)])
    assert code == 2
    assert f"{good}: ok" in out
    assert str(bad1) in err and "world.bogus" in err
    assert str(bad2) in err and "review.service_days" in err


def test_validate_not_toml(capsys, write_toml):
    bad = write_toml("bad.toml", "[[[ nope\n")
    code, _, err = _run(capsys, ["validate", str(bad)])
    assert code == 2 and "TOML" in err and "bad.toml" in err


def _commands() -> list[str]:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    return sorted(sub.choices)


def test_core_commands_exist():
    assert {"run", "validate", "scenarios", "describe"} <= set(_commands())


@pytest.mark.parametrize("command", _commands())
def test_help_of_every_command_exits_0_and_shows_an_example(capsys, command):
    with pytest.raises(SystemExit) as info:
        main([command, "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert "example" in out.lower()
    assert f"coopsim {command}" in out  # the example shows the command itself


def test_top_level_help(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    assert "COMMAND --help" in capsys.readouterr().out


def test_scenarios_lists_baseline(capsys):
    code, out, _ = _run(capsys, ["scenarios"])
    assert code == 0
    assert any(line.startswith("baseline") for line in out.splitlines())


def test_describe_prints_resolved_parameters_with_changes_marked(capsys, write_toml):
    path = write_toml("r.toml", 'extends = "baseline"\n[review]\nservice_days = 12.5\n')
    code, out, _ = _run(capsys, ["describe", str(path)])
    assert code == 0
    assert "n_states = 40" in out  # from the baseline
    line = next(ln for ln in out.splitlines() if ln.startswith("service_days"))
    assert "12.5" in line and "changed from default" in line
    assert "[review]" in out


def test_describe_bad_file_exits_2(capsys, write_toml):
    path = write_toml("bad.toml", "[review]\nservice_dayz = 1\n")
    code, _, err = _run(capsys, ["describe", str(path)])
    assert code == 2 and "review.service_dayz" in err


def test_real_subprocess_matches_in_process(capsys):
    script = Path(sys.executable).parent / "coopsim"
    if script.exists():
        cmd = [str(script)]
    elif shutil.which("uv"):
        cmd = ["uv", "run", "coopsim"]
    else:  # pragma: no cover - no console script installed
        cmd = [sys.executable, "-m", "sim.cli"]
    proc = subprocess.run(
        [
            *cmd,
            *RUN_ARGS,
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    _, in_process, _ = _run(capsys, RUN_ARGS)
    assert json.loads(proc.stdout) == json.loads(in_process)
