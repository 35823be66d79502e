"""EMA Workbench adapter: coopsim as an ``ema_workbench.Model`` from dotted names.

Needs the optional extra: ``pip install 'coopsim[ema]'`` (ema-workbench >= 3.0).

Parameters and outcomes are named by their dotted keys (``agencies.court_capacity``,
``km_median_response_days.mla_evidence``); the Workbench wants Python identifiers, so
the model uses identifier-safe names (``agencies__court_capacity``,
``median_response_days__mla_evidence``), and :func:`dotted` maps them back.
Ranges come from the schema unless given; outcome directions (maximize, minimize,
info) come from the outcome registry (:mod:`sim.outcomes`).

Example::

    from ema_workbench import perform_experiments
    from ema_workbench.analysis import prim
    import sim.ema

    model = sim.ema.model(
        uncertainties=["agencies.central_authority_capacity", "review.sovereignty_refusal"],
        levers=["nsc_law.enabled"],
        outcomes=["completion_rate", "km_median_response_days.mla_evidence"],
        constants={"world.n_states": 12, "run.years": 1.0},
    )
    experiments, outcomes = perform_experiments(model, scenarios=16)
    box = prim.Prim(
        experiments[model.input_names], outcomes["completion_rate"] < 0.2, threshold=0.5
    ).find_box()
"""

from __future__ import annotations

import typing
from collections.abc import Iterable, Mapping
from typing import Any

from sim import outcomes as registry
from sim.scenario import ScenarioError, field_annotation, parameter_table

DEFAULT_OUTCOMES = (
    "completion_rate",
    "refusal_rate",
    "case_resolution_rate",
    "km_median_response_days.mla_evidence",
    "km_median_response_days.extradition",
    "mean_trust",
)
SCENARIO = "coopsim_scenario"  # constants that are not model parameters
SEED = "coopsim_seed"


def _workbench():
    try:
        import ema_workbench
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError(
            "sim.ema needs the EMA Workbench: pip install 'coopsim[ema]' (or: uv sync --extra ema)"
        ) from None
    return ema_workbench


def safe(dotted_name: str) -> str:
    """Identifier-safe name of a dotted parameter or outcome: ``a.b`` -> ``a__b``."""
    return registry.safe_name(dotted_name)


def dotted(safe_name: str) -> str:
    """Dotted name of an identifier-safe one: ``a__b`` -> ``a.b``."""
    return safe_name.replace(registry.SEPARATOR, ".")


def _parameters() -> dict[str, dict[str, Any]]:
    return {f"{r['section']}.{r['key']}": r for r in parameter_table()}


def _parameter(wb, name: str, spec: Any, rows: dict[str, dict[str, Any]]):
    """An EMA parameter for a dotted model parameter, from the schema and an optional spec.

    ``spec`` is None (the schema's range / choices), ``(low, high)`` for a number,
    or a list of values (categories).
    """
    row = rows.get(name)
    if row is None:
        close = [p for p in rows if p.rsplit(".", 1)[-1] == name.rsplit(".", 1)[-1]]
        hint = f"; did you mean {close[0]!r}?" if close else "; see sim.parameters()"
        raise ScenarioError(f"sim.ema: {name}: unknown parameter{hint}")
    kind = row["type"]
    annotation = field_annotation(name)
    if isinstance(spec, list) or (spec is None and typing.get_origin(annotation) is typing.Literal):
        values = list(spec) if spec is not None else list(typing.get_args(annotation))
        return wb.CategoricalParameter(safe(name), values)
    if kind == "bool":
        if spec is not None:
            raise ScenarioError(
                f"sim.ema: {name}: a switch takes no range (it is True or False), found {spec!r}"
            )
        return wb.BooleanParameter(safe(name))
    if kind not in ("int", "float"):
        raise ScenarioError(
            f"sim.ema: {name}: a {kind} parameter needs a list of values (categories)"
        )
    low, high = (row["min"], row["max"]) if spec is None else spec
    lo_ok = row["min"] is None or low >= row["min"]
    hi_ok = row["max"] is None or high <= row["max"]
    if not (low < high and lo_ok and hi_ok):
        raise ScenarioError(
            f"sim.ema: {name}: range [{low}, {high}] is empty or leaves the allowed range "
            f"[{row['min']}, {row['max']}] ({row['unit']})"
        )
    if kind == "int":
        return wb.IntegerParameter(safe(name), int(low), int(high))
    return wb.RealParameter(safe(name), float(low), float(high))


def _as_specs(names: Iterable[str] | Mapping[str, Any] | None) -> dict[str, Any]:
    if names is None:
        return {}
    if isinstance(names, Mapping):
        return {dotted(k): (list(v) if isinstance(v, list) else v) for k, v in names.items()}
    return {dotted(n): None for n in names}


def run_coopsim(**kwargs: Any) -> dict[str, Any]:
    """The function the Workbench calls: one coopsim run, flat identifier-safe outcomes.

    Args:
        **kwargs: Identifier-safe parameter names with their values, plus the
            scenario (``coopsim_scenario``) and seed (``coopsim_seed``) constants.

    Returns:
        ``RunResult.flat_outcomes``.
    """
    from sim.api import run

    scenario = kwargs.pop(SCENARIO, "baseline")
    seed = kwargs.pop(SEED, 1)
    overrides = {dotted(k): v for k, v in kwargs.items()}
    return run(scenario, seed=seed, overrides=overrides).flat_outcomes


def model(
    uncertainties: Iterable[str] | Mapping[str, Any] = (),
    levers: Iterable[str] | Mapping[str, Any] = (),
    outcomes: Iterable[str] = DEFAULT_OUTCOMES,
    constants: Mapping[str, Any] | None = None,
    scenario: str = "baseline",
    seed: int = 1,
    name: str = "coopsim",
):
    """A ready ``ema_workbench.Model`` of coopsim.

    Args:
        uncertainties: Dotted parameter names (ranges from the schema), or a mapping
            of name to ``(low, high)`` or a list of values.
        levers: As ``uncertainties``, for the policy levers (switches become
            ``BooleanParameter``, choices ``CategoricalParameter``).
        outcomes: Flat outcome names (dotted or identifier-safe); each becomes a
            ``ScalarOutcome`` to maximize, minimize or just report, as the registry says.
        constants: Dotted parameter values fixed in every run (e.g. a small world).
        scenario: The scenario every run starts from (shipped name or file).
        seed: The seed of every run: experiments share it (common random numbers).
        name: The model's name in the Workbench (an identifier).

    Returns:
        The model; ``model.input_names`` lists the identifier-safe names of its
        uncertainties and levers (the columns of the experiments table to analyse).

    Raises:
        ScenarioError: For an unknown parameter or outcome, or a range outside the schema.
        ImportError: When the EMA Workbench is not installed.
    """
    wb = _workbench()
    rows = _parameters()
    unc, lev = _as_specs(uncertainties), _as_specs(levers)
    both = sorted(set(unc) & set(lev))
    if both:
        raise ScenarioError(f"sim.ema: {both[0]}: both an uncertainty and a lever")
    fixed = {dotted(k): v for k, v in (constants or {}).items()}
    if fixed:  # check the constants now (names, types, ranges), not in every run
        from sim.scenario import load_scenario

        load_scenario(scenario, fixed)
    wanted = []
    for out in outcomes:
        try:
            registry.info(out)
        except registry.UnregisteredOutcomeError as exc:
            raise ScenarioError(f"sim.ema: outcomes: {exc}") from None
        wanted.append(out)
    kinds = {
        "higher": wb.ScalarOutcome.MAXIMIZE,
        "lower": wb.ScalarOutcome.MINIMIZE,
        "neither": wb.ScalarOutcome.INFO,
    }
    m = wb.Model(name, function=run_coopsim)
    m.uncertainties = [_parameter(wb, k, v, rows) for k, v in unc.items()]
    m.levers = [_parameter(wb, k, v, rows) for k, v in lev.items()]
    m.outcomes = [
        wb.ScalarOutcome(safe(registry.dotted_name(o)), kind=kinds[registry.better(o)])
        for o in wanted
    ]
    m.constants = [
        wb.Constant(SCENARIO, str(scenario)),
        wb.Constant(SEED, seed),
        *(wb.Constant(safe(k), v) for k, v in fixed.items()),
    ]
    m.input_names = [safe(k) for k in [*unc, *lev]]
    return m
