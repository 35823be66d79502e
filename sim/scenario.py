"""The scenario schema: every parameter of the model, with its unit, default and range.

A scenario file is TOML. It may start with ``extends = "baseline"`` (a shipped
scenario by name) or ``extends = "other.toml"`` (a file relative to this one), and
then states only what it changes. Loading merges the chain, validates the result
against the schema below and returns a frozen :class:`Scenario`.

The schema is the single source of truth for parameters: the CLI's ``describe``,
the ODD parameter tables and the error messages all read it. Its sections are
declared by subject in :mod:`sim.schema_world`, :mod:`sim.schema_cases`,
:mod:`sim.schema_procedure`, :mod:`sim.schema_channels`, :mod:`sim.schema_levers` and
:mod:`sim.schema_agreements` (building blocks in :mod:`sim.schema_base`); this module
assembles them into :class:`Scenario`, validates scenario files (read by
:mod:`sim.scenario_files`; messages from :mod:`sim.scenario_errors`) and re-exports the
sections and helpers.

:class:`Scenario` is :class:`ScenarioBase` (the sections every scenario has) plus
one section per lever of the lever registry (:mod:`sim.levers`). Registering a
lever rebuilds it (``sim.scenario.Scenario`` then names the new class, a subclass
of :data:`BuiltinScenario`), so a ``[lever]`` table is validated like any other.
Code that needs the levers registered after it was imported reads
``sim.scenario.Scenario`` (or :func:`scenario_sections`) when it runs rather
than a name imported once, and asks ``isinstance(x, ScenarioBase)``, true of
every Scenario class. ``LEVERS``, ``STRESS_TESTS`` and ``ADOPTABLE_LEVERS`` are
the registry's, read when accessed.
"""

from __future__ import annotations

import math
import typing
import warnings
from collections.abc import Collection
from pathlib import Path
from typing import Any

from pydantic import (
    BaseModel,
    Field,
    ValidationError,
    create_model,
)

from sim import levers
from sim.scenario_errors import describe_field
from sim.scenario_errors import format_validation_error as _format_validation_error
from sim.scenario_files import (
    PACKAGE_DIR,
    deep_merge,
    did_you_mean,
    load_layers,
    load_raw,
    merge_layers,
    origin_of,
    read_toml_file,
    resolve_named_file,
    resolve_scenario_path,
    set_dotted,
    shipped_dir,
    shipped_dir_candidates,
    shipped_scenarios,
    shipped_scenarios_dir,
)
from sim.schema_agreements import (
    BilateralAgreementsSection,
    CoordinatedOperationSection,
    CounterterrorismAgreementSection,
)
from sim.schema_base import (
    APPLIES_TO_GROUPS,
    CASE_TYPES,
    LEGAL_FAMILIES,
    LISTED_OFFENCE_TYPES,
    QUEUE_DISCIPLINES,
    SECURITY_CASE_TYPES,
    AdoptableLeverSection,
    CaseTypeList,
    LeverSection,
    P,
    ScenarioError,
    Section,
    ShareMix,
    check_mix_total,
    some_case_types,
)
from sim.schema_channels import (
    AdoptionSection,
    CommunicationSection,
    DiplomacySection,
    ElectronicEvidenceSection,
    IntelligenceSection,
    InterpolSection,
    JitSection,
)
from sim.schema_levers import (
    BudgetCutsSection,
    CapacityBuildingSection,
    ConfidentialityStandardsSection,
    DemandSurgeSection,
    DiplomaticEngagementSection,
    EEvidenceSection,
    GeopoliticalTensionSection,
    JointTaskForcesSection,
    LegalHarmonizationSection,
    MutualRecognitionSection,
    NscLawSection,
    RapidChannelsSection,
    SecurePlatformSection,
    TreatyExpansionSection,
)
from sim.schema_procedure import (
    AgenciesSection,
    DraftingSection,
    ExecutionSection,
    JudicialSection,
    ReviewSection,
    TransmissionSection,
    TrustSection,
)
from sim.schema_world import (
    CasesSection,
    RunSection,
    WorldSection,
)
from sim.units import DAYS_PER_YEAR  # re-exported: most modules take it from here

# Re-exported: the schema's sections and building blocks, and the file helpers of
# sim.scenario_files, are part of this module's API.
__all__ = [
    "PACKAGE_DIR",
    "APPLIES_TO_GROUPS",
    "AdoptableLeverSection",
    "AdoptionSection",
    "AgenciesSection",
    "BilateralAgreementsSection",
    "BudgetCutsSection",
    "CASE_TYPES",
    "DAYS_PER_YEAR",
    "CapacityBuildingSection",
    "CaseTypeList",
    "CasesSection",
    "CommunicationSection",
    "ConfidentialityStandardsSection",
    "CoordinatedOperationSection",
    "CounterterrorismAgreementSection",
    "DemandSurgeSection",
    "DiplomacySection",
    "DiplomaticEngagementSection",
    "DraftingSection",
    "EEvidenceSection",
    "ElectronicEvidenceSection",
    "ExecutionSection",
    "GeopoliticalTensionSection",
    "IntelligenceSection",
    "InterpolSection",
    "JitSection",
    "JointTaskForcesSection",
    "JudicialSection",
    "LEGAL_FAMILIES",
    "LISTED_OFFENCE_TYPES",
    "LegalHarmonizationSection",
    "LeverSection",
    "MutualRecognitionSection",
    "NscLawSection",
    "P",
    "QUEUE_DISCIPLINES",
    "RapidChannelsSection",
    "ReviewSection",
    "RunSection",
    "SECURITY_CASE_TYPES",
    "ScenarioError",
    "Section",
    "SecurePlatformSection",
    "ShareMix",
    "TransmissionSection",
    "TreatyExpansionSection",
    "TrustSection",
    "WorldSection",
    "check_mix_total",
    "deep_merge",
    "describe_field",
    "format_validation_error",
    "load_raw",
    "read_toml_file",
    "resolve_named_file",
    "resolve_scenario_path",
    "set_dotted",
    "shipped_dir",
    "shipped_dir_candidates",
    "shipped_scenarios",
    "shipped_scenarios_dir",
    "some_case_types",
]


class ScenarioBase(Section):
    """The sections every scenario has; :data:`Scenario` adds one per registered lever.

    ``mutual_recognition`` and ``capacity_building`` are levers declared here too:
    the model reads them with the lever off (the bloc's instrument, the coordinating
    body's baseline budget), and here they keep their place in scenario dumps.
    """

    name: str = P("unnamed", None, None, "text", "Short name of the scenario.")
    description: str = P("", None, None, "text", "One line saying what the scenario represents.")
    run: RunSection = RunSection()
    world: WorldSection = WorldSection()
    cases: CasesSection = CasesSection()
    agencies: AgenciesSection = AgenciesSection()
    drafting: DraftingSection = DraftingSection()
    transmission: TransmissionSection = TransmissionSection()
    review: ReviewSection = ReviewSection()
    judicial: JudicialSection = JudicialSection()
    execution: ExecutionSection = ExecutionSection()
    trust: TrustSection = TrustSection()
    mutual_recognition: MutualRecognitionSection = MutualRecognitionSection()
    communication: CommunicationSection = CommunicationSection()
    intelligence: IntelligenceSection = IntelligenceSection()
    interpol: InterpolSection = InterpolSection()
    jit: JitSection = JitSection()
    diplomacy: DiplomacySection = DiplomacySection()
    adoption: AdoptionSection = AdoptionSection()
    electronic_evidence: ElectronicEvidenceSection = ElectronicEvidenceSection()
    capacity_building: CapacityBuildingSection = CapacityBuildingSection()

    # Where the scenario came from; not a model parameter.
    source: str = Field(default="", exclude=True, description="File the scenario was loaded from.")

    def __reduce__(self):
        """Pickle as data, validated again by the receiving process's Scenario class.

        Worker processes (sweeps) get scenarios pickled. Pickling the class itself
        would fail once the registry has changed here, and a spawned worker would
        find a class without the levers registered after import. The sections of
        levers registered at run time travel first (by reference: unpickling them
        imports the module that registers them), then the scenario's content.
        """
        fields = type(self).model_fields
        plugins = tuple(
            lever.section
            for lever in levers.registered()
            if not lever.builtin and lever.name in fields
        )
        return (_restore_scenario, (plugins, self.model_dump(), self.source))

    def with_overrides(self, overrides: dict[str, Any]) -> Scenario:
        """Return a copy with dotted-key overrides applied and validated.

        Values from other tools are accepted where they are exact (see
        :func:`coerce_override`): numpy scalars, ``12.0`` for an integer, ``1``/``0``
        for a switch; errors name the override, not the scenario file.

        Args:
            overrides: Mapping like ``{"agencies.central_authority_capacity": 2.0}``.

        Returns:
            A new validated Scenario.

        Raises:
            ScenarioError: If a key is unknown or a value is not allowed.
        """
        data = self.model_dump()
        for dotted, value in overrides.items():
            set_dotted(data, dotted, coerce_override(dotted, value))
        _check_state_count(data, overrides, self.source or "<scenario>")
        return validate_dict(data, source=self.source or "<scenario>", overridden=overrides)


SCENARIO_DOC = "A complete, validated scenario: the input of one model run."


def _lever_fields(lever_list: tuple[levers.Lever, ...], base: type[BaseModel]) -> dict[str, Any]:
    """A field (section class, its default) for every lever ``base`` does not declare.

    Raises:
        ValueError: If a lever's name is a section of another kind (``run``, ``name``)
            or an attribute of a scenario (``with_overrides``, ``copy``).
    """
    fields: dict[str, Any] = {}
    for lever in lever_list:
        declared = base.model_fields.get(lever.name)
        if declared is None and hasattr(base, lever.name):
            raise ValueError(
                f"lever {lever.name!r}: a scenario already has an attribute of that name"
            )
        if declared is None:
            fields[lever.name] = (lever.section, lever.section())
        elif declared.annotation is not lever.section:
            raise ValueError(
                f"lever {lever.name!r}: the scenario already has a {lever.name!r} of another kind"
            )
    return fields


def build_scenario_class(
    lever_list: tuple[levers.Lever, ...], base: type[ScenarioBase] = ScenarioBase
) -> type[ScenarioBase]:
    """A Scenario class: ``base`` plus one section per lever, in the levers' order.

    Args:
        lever_list: The levers whose sections the class holds.
        base: The class to extend (its sections come first).

    Returns:
        A pydantic model named ``Scenario``, strict like every section.
    """
    return create_model(
        "Scenario",
        __base__=base,
        __module__=__name__,
        __doc__=SCENARIO_DOC,
        **_lever_fields(lever_list, base),
    )


# The class of the built-in levers. A lever registered later gets a subclass of it
# (rebound to `Scenario` below), so that a Scenario validated before still passes
# every `isinstance(x, Scenario)` of modules that imported the name earlier.
BuiltinScenario = build_scenario_class(tuple(x for x in levers.registered() if x.builtin))
# Pickle finds a class by module and qualified name: this one stays findable (worker
# processes get scenarios pickled) while `Scenario` names a rebuilt class.
BuiltinScenario.__qualname__ = "BuiltinScenario"
Scenario = BuiltinScenario


# One class per set of registered levers: registering and removing a lever gives back
# the class scenarios validated earlier were made with.
_CLASSES: dict[tuple[tuple[str, type], ...], type[ScenarioBase]] = {(): BuiltinScenario}


def _follow_registry() -> None:
    """Rebind :data:`Scenario` to a class holding a section for every registered lever."""
    global Scenario
    added = tuple(x for x in levers.registered() if not x.builtin)
    key = tuple((x.name, x.section) for x in added)
    if key not in _CLASSES:
        _CLASSES[key] = build_scenario_class(added, BuiltinScenario)
    Scenario = _CLASSES[key]


def _restore_scenario(plugins: tuple[type, ...], data: dict[str, Any], source: str) -> Scenario:
    """Unpickle a scenario (:meth:`ScenarioBase.__reduce__`) against this process's levers.

    Raises:
        ScenarioError: If the scenario holds a lever this process has not registered.
    """
    unknown = sorted(set(data) - set(Scenario.model_fields))
    if unknown:
        raise ScenarioError(
            f"{source or '<scenario>'}: lever section(s) {unknown} are not registered in this "
            "process; register them in a module that worker processes import "
            f"(sections from {sorted({p.__module__ for p in plugins})}; see sim.levers)"
        )
    return validate_dict(data, source=source)


levers.on_change(_follow_registry)
_follow_registry()  # levers registered before this module was imported


def scenario_sections() -> dict[str, type[Section]]:
    """The sections of the current Scenario class, by name, in their order."""
    sections = {}
    for name, field in Scenario.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, Section):
            sections[name] = annotation
    return sections


# ``LEVERS``, ``STRESS_TESTS``, ``ADOPTABLE_LEVERS``: the registry's, read when accessed.
__getattr__ = levers.reexport(__name__, "LEVERS", "STRESS_TESTS", "ADOPTABLE_LEVERS")


# --------------------------------------------------------------------------------------
# Loading: overrides and validation (files: sim.scenario_files)
# --------------------------------------------------------------------------------------


def warmup_days(scenario: Scenario) -> int:
    """Days of warm-up before the measurement window (the window's first day)."""
    return int(round(scenario.run.warmup_years * DAYS_PER_YEAR))


def field_annotation(dotted: str) -> Any:
    """The declared type of a dotted parameter (``"world.n_states"`` -> ``int``), or None."""
    *sections, key = dotted.split(".")
    model: type[BaseModel] = Scenario
    for part in sections:
        field = model.model_fields.get(part)
        annotation = getattr(field, "annotation", None)
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return None
        model = annotation
    field = model.model_fields.get(key)
    return None if field is None else field.annotation


def _plain(value: Any) -> Any:
    """Turn numpy scalars (and containers of them) into the Python values they hold."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if type(value).__module__ == "numpy" and hasattr(value, "item") and not isinstance(value, str):
        return value.item()  # np.float64 -> float, np.int64 -> int, np.True_ -> True
    return value


def coerce_override(dotted: str, value: Any) -> Any:
    """Make a value from another tool (numpy, a sampler) fit the parameter's type exactly.

    numpy scalars become Python numbers; an integer-valued float (``12.0``) is taken
    for an integer parameter; ``1``/``0`` (or ``1.0``/``0.0``) for a switch. Anything
    inexact is left as it is for the schema to refuse: a string for a number, ``2``
    for a switch, ``1.5`` for an integer.

    Args:
        dotted: The parameter, e.g. ``"world.n_states"``.
        value: The value given.

    Returns:
        The value to validate.
    """
    value = _plain(value)
    annotation = field_annotation(dotted)
    if annotation is int and isinstance(value, float) and value.is_integer():
        return int(value)
    if (
        annotation is bool
        and isinstance(value, int | float)
        and not isinstance(value, bool)
        and value in (0, 1)
    ):
        return bool(value)
    return value


def format_validation_error(
    exc: ValidationError,
    source: str,
    overridden: Collection[str] = (),
    *,
    schema: type[BaseModel] | None = None,
    origin=None,
) -> str:
    """A pydantic error as lines naming the file, the key path and what is allowed.

    See :func:`sim.scenario_errors.format_validation_error`; ``schema`` defaults to
    the current :data:`Scenario` class (with every registered lever).
    """
    return _format_validation_error(
        exc, source, overridden, schema=schema or Scenario, origin=origin
    )


def _check_state_count(data: dict[str, Any], overrides, source: str) -> None:
    """Warn of an override of ``world.n_states`` where a data file makes the states.

    The file's rows are the states (``world.data_file``), so the count is ignored: a
    warning, not silence (and not an error: moving the data file keeps its count).
    """
    world = data.get("world")
    if "world.n_states" in overrides and isinstance(world, dict) and world.get("data_file"):
        warnings.warn(
            f"{source}: override world.n_states is ignored: this world's states are the "
            f"rows of world.data_file ({world['data_file']})",
            stacklevel=3,
        )


def validate_dict(
    data: dict[str, Any], source: str = "<dict>", overridden: Collection[str] = (), origin=None
) -> Scenario:
    """Validate a merged scenario dict.

    Args:
        data: Scenario content (sections and keys as in a TOML file).
        source: File name to put in error messages.
        overridden: Dotted keys set by overrides (their errors name the override).
        origin: The file that set a key, by its path (a tuple), for a scenario that
            ``extends`` others; None: ``source`` for every key.

    Returns:
        The validated Scenario.

    Raises:
        ScenarioError: Naming the file, the key path and what is allowed.
    """
    try:
        scenario = Scenario.model_validate({**data, "source": source})
    except ValidationError as exc:
        message = format_validation_error(exc, source, overridden, origin=origin)
        raise ScenarioError(message) from None
    return scenario


def load_scenario(path: str | Path, overrides: dict[str, Any] | None = None) -> Scenario:
    """Load, merge (``extends``) and validate a scenario file.

    Args:
        path: A scenario file, or the name of a shipped scenario (``"baseline"``).
        overrides: Optional dotted-key values applied after the file (numpy scalars
            and exact integer-valued numbers accepted, see :func:`coerce_override`).

    Returns:
        The validated Scenario.

    Raises:
        ScenarioError: With a message naming the file and key (or the override).
    """
    path = resolve_scenario_path(path)
    name = str(path)
    if not path.exists() and not name.endswith(".toml") and "/" not in name and "\\" not in name:
        shipped = shipped_scenarios()
        raise ScenarioError(
            f"{name!r}: neither a scenario file nor a shipped scenario"
            f"{did_you_mean(name, shipped)}; shipped scenarios: {', '.join(shipped)}"
        )
    layers = load_layers(path)
    experiment_keys = sorted(
        {"replications", "levers", "uncertainties", "design"} & set(layers[0][1])
    )
    if experiment_keys:
        raise ScenarioError(
            f"{path}: {', '.join(experiment_keys)}: an experiment file, not a scenario; run it "
            "with `coopsim sweep FILE` or `coopsim compare --experiment FILE`"
        )
    data = merge_layers(layers)
    if overrides:
        # The file as written must be valid too: an override would hide a bad value of
        # the key it replaces, and the next run without it would fail on the file.
        validate_dict(data, source=str(path), origin=lambda loc: origin_of(layers, loc))
    for dotted, value in (overrides or {}).items():
        try:
            set_dotted(data, dotted, coerce_override(dotted, value))
        except ScenarioError as exc:  # e.g. the file says `run = 5` and --years is given
            raise ScenarioError(f"{path}: override {exc}") from None
    _check_state_count(data, overrides or {}, str(path))
    return validate_dict(
        data,
        source=str(path),
        overridden=overrides or (),
        origin=lambda loc: origin_of(layers, loc),
    )


def parameter_table() -> list[dict[str, Any]]:
    """List every model parameter: section, key, type, unit, default, range, meaning."""
    rows = []
    for section_name, section in scenario_sections().items():
        for key, sub in section.model_fields.items():
            lo = hi = None
            # A table of numbers (share mixes, distances) gives the range of each value.
            for meta in [*sub.metadata, *_value_metadata(sub.annotation)]:
                lo = getattr(meta, "ge", lo)
                hi = getattr(meta, "le", hi)
            rows.append(
                {
                    "section": section_name,
                    "key": key,
                    "type": getattr(sub.annotation, "__name__", str(sub.annotation)),
                    "unit": (sub.json_schema_extra or {}).get("unit", ""),
                    "default": sub.default,
                    "min": lo,
                    "max": hi,
                    "description": sub.description or "",
                }
            )
    return rows


def _value_metadata(annotation: Any) -> list[Any]:
    """The constraints on the values of a ``dict[str, Annotated[float, Field(...)]]``."""
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) is not dict or len(args) != 2:
        return []
    value = typing.get_args(args[1])
    return list(getattr(value[1], "metadata", [])) if len(value) == 2 else []


def is_finite_number(value: Any) -> bool:
    """Return True for an int or float that is neither NaN nor infinite."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
