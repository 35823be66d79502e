"""Each submodel uses only the members of the model its contract lists (sim.contracts)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from sim import contracts
from sim.contracts import CONTRACTS, members
from sim.model import CooperationModel
from sim.scenario import load_scenario

PACKAGE = Path(__file__).resolve().parent.parent / "sim"


def model_members_used(source: str) -> set[str]:
    """Members read or called on the model: ``m.x``, ``model.x`` or ``self.model.x``."""
    used = set()
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Attribute):
            continue
        owner = node.value
        if isinstance(owner, ast.Name) and owner.id in ("m", "model"):
            used.add(node.attr)
        elif (
            isinstance(owner, ast.Attribute)
            and owner.attr == "model"
            and isinstance(owner.value, ast.Name)
            and owner.value.id == "self"
        ):
            used.add(node.attr)
    return used


def test_the_scanner_sees_every_way_a_submodel_reaches_the_model():
    source = (
        "def f(self, model):\n"
        "    m = self.model\n"
        "    return m.ledger, model.world, self.model.day, self.other.trust\n"
    )
    assert model_members_used(source) == {"ledger", "world", "day"}


@pytest.mark.parametrize("module", sorted(CONTRACTS))
def test_a_submodel_reaches_only_what_its_contract_lists(module):
    contract = CONTRACTS[module]
    used = model_members_used((PACKAGE / f"{module}.py").read_text())
    beyond = used - members(contract)
    assert used, f"sim/{module}.py: the scan found no use of the model"
    assert not beyond, (
        f"sim/{module}.py uses model members its contract {contract.__name__} does not list: "
        f"{sorted(beyond)}; add them to sim/contracts.py if the dependency is intended"
    )


@pytest.fixture(scope="module")
def model():
    return CooperationModel(load_scenario("baseline", {"world.n_states": 4}), rng=1)


def test_the_contracts_are_narrow(model):
    # Each contract lists a small part of what the model offers: the point of having them.
    offered = {n for n in (*dir(type(model)), *vars(model)) if not n.startswith("_")}
    assert len(offered) > 60
    for module, contract in CONTRACTS.items():
        assert len(members(contract)) <= len(offered) // 4, module
    assert "ledger" not in members(contracts.TeamsHost)


def test_the_model_fulfils_every_contract(model):
    for module, contract in CONTRACTS.items():
        missing = [name for name in sorted(members(contract)) if not hasattr(model, name)]
        assert not missing, (module, missing)


def attributes_assigned(source: str) -> list[str]:
    """Every attribute set in ``source``: ``x.y = ``, ``x.y += ``, ``x.y: T = ``, ``a, x.y = ``
    and ``setattr(x, ...)`` (not ``x.y[k] = ...``, a write into an array)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            flat = [e for t in targets for e in (t.elts if isinstance(t, ast.Tuple) else [t])]
            found += [ast.unparse(t) for t in flat if isinstance(t, ast.Attribute)]
        elif isinstance(node, ast.Call) and ast.unparse(node.func) == "setattr":
            found.append(ast.unparse(node))
    return found


def test_lever_effects_write_arrays_and_call_methods_never_set_an_attribute():
    # An effect writes into the arrays of PolicyState and the world, and asks the
    # model's services and the submodels' own methods for the rest: setting another
    # object's attribute by name is how parameters went dead unnoticed.
    source = "body.budget += 1\nw.x[k] = 2\nm.meetings.extra = 3\na, b.c = 1, 2\nd.e: int = 4\n"
    assert attributes_assigned(source + "setattr(f, 'g', 5)\n") == [
        "body.budget",
        "m.meetings.extra",
        "b.c",
        "d.e",
        "setattr(f, 'g', 5)",
    ]
    assert attributes_assigned((PACKAGE / "lever_effects.py").read_text()) == []
