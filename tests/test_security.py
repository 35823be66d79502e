"""Inputs are data only, and the Dask scheduler coopsim starts listens on loopback.

Scenario and experiment files are read with ``tomllib`` and validated; nothing in
them is evaluated, unpickled or imported. The package source is checked for the
calls that could turn data into code.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import sim
from sim.cli import main
from sim.experiment import make_executor

PACKAGE = Path(sim.__file__).resolve().parent
PAYLOAD = "__import__('os').system('touch /tmp/pwned')"

# Calls that execute or deserialise code: forbidden everywhere in sim/.
FORBIDDEN_NAMES = {"eval", "exec", "__import__", "compile", "execfile"}
FORBIDDEN_ATTRS = {
    ("pickle", "load"),
    ("pickle", "loads"),
    ("cloudpickle", "load"),
    ("cloudpickle", "loads"),
    ("dill", "load"),
    ("dill", "loads"),
    ("marshal", "load"),
    ("marshal", "loads"),
    ("yaml", "load"),
    ("yaml", "unsafe_load"),
    ("yaml", "full_load"),
    ("shelve", "open"),
}
# The one dynamic import: sim/__init__.py's lazy loader, over a fixed table of its own modules.
ALLOWED_IMPORT_MODULE = {"__init__.py"}


def _calls(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            yield node


def test_package_source_has_no_eval_exec_pickle_or_dynamic_imports():
    found = []
    files = sorted(PACKAGE.rglob("*.py"))
    assert len(files) > 10
    for path in files:
        rel = path.relative_to(PACKAGE)
        text = path.read_text(encoding="utf-8")
        if "pickle" in text and "import pickle" in text:
            found.append(f"{rel}: imports pickle")
        for call in _calls(path):
            func = call.func
            if isinstance(func, ast.Name) and func.id in FORBIDDEN_NAMES:
                found.append(f"{rel}:{call.lineno}: {func.id}(")
            if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
                if (func.value.id, func.attr) in FORBIDDEN_ATTRS:
                    found.append(f"{rel}:{call.lineno}: {func.value.id}.{func.attr}(")
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            if name == "import_module" and path.name not in ALLOWED_IMPORT_MODULE:
                found.append(f"{rel}:{call.lineno}: import_module(")
    assert not found, "code-from-data calls in sim/: " + "; ".join(found)


def test_the_lazy_loader_imports_only_its_own_table():
    with pytest.raises(AttributeError):
        sim.__getattr__("os")
    allowed = {"sim.model", "sim.store", "sim.metrics", "sim.api", "sim.outcomes", "sim.ema"}
    assert set(sim._LAZY.values()) <= allowed


@pytest.mark.parametrize(
    ("text", "key"),
    [
        (f'extends = "baseline"\nname = 1\n[world]\ndata_file = "{PAYLOAD}"\n', "name"),
        (f'extends = "baseline"\n[agencies]\nqueue_discipline = "{PAYLOAD}"\n', "queue_discipline"),
        (f'extends = "baseline"\n[world]\nn_states = "{PAYLOAD}"\n', "world.n_states"),
        (f'extends = "{PAYLOAD}"\n', "extends"),
        (
            f'extends = "baseline"\n[nsc_law]\nenabled = true\napplies_to = "{PAYLOAD}"\n',
            "applies_to",
        ),
    ],
    ids=["data_file", "choice", "number", "extends", "applies_to"],
)
def test_code_in_a_scenario_value_is_just_an_invalid_string(text, key, tmp_path, capsys):
    marker = Path("/tmp/pwned")
    existed = marker.exists()
    path = tmp_path / "evil.toml"
    path.write_text(text)
    for argv in (["validate", str(path)], ["run", str(path), "--years", "0.02", "--json"]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert str(path) in err and key in err
    assert marker.exists() == existed, "a scenario value was executed"


def test_code_in_a_valid_text_field_stays_text(tmp_path, capsys):
    path = tmp_path / "named.toml"
    path.write_text(
        f'extends = "baseline"\nname = "{PAYLOAD}"\ndescription = "{PAYLOAD}"\n'
        "[world]\nn_states = 3\n"
    )
    assert main(["run", str(path), "--years", "0.02", "--warmup-years", "0", "--json"]) == 0
    assert PAYLOAD in capsys.readouterr().out  # echoed as the scenario's name, nothing more


def test_code_in_an_experiment_file_is_rejected(tmp_path, capsys):
    path = tmp_path / "evil_exp.toml"
    path.write_text(
        f'name = "x"\nreplications = 2\n[levers]\nscenarios = ["{PAYLOAD}"]\n'
        f'[overrides]\n"run.years" = "{PAYLOAD}"\n'
    )
    out = tmp_path / "o"
    assert main(["sweep", str(path), "--workers", "1", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and "levers.scenarios" in err
    assert not out.exists()


def test_dask_local_cluster_of_the_cli_binds_to_loopback():
    """``coopsim sweep --dask-local`` builds its executor with make_executor(dask_local=True)."""
    pytest.importorskip("distributed")
    from urllib.parse import urlparse

    with make_executor(workers=1, dask_local=True) as executor:
        scheduler = executor._cluster.scheduler_address
        assert urlparse(scheduler).hostname == "127.0.0.1", scheduler
        workers = executor._client.scheduler_info()["workers"]
        assert workers
        assert all(urlparse(addr).hostname == "127.0.0.1" for addr in workers), list(workers)
        assert executor.describe()["scheduler"] == "LocalCluster 127.0.0.1"
