"""The scenario schema: every parameter of the model, with its unit, default and range.

A scenario file is TOML. It may start with ``extends = "baseline"`` (a shipped
scenario by name) or ``extends = "other.toml"`` (a file relative to this one), and
then states only what it changes. Loading merges the chain, validates the result
against the schema below and returns a frozen :class:`Scenario`.

The schema is the single source of truth for parameters: the CLI's ``describe``,
the ODD parameter tables and the error messages all read it. Its sections are
declared by subject in :mod:`sim.schema_world`, :mod:`sim.schema_procedure`,
:mod:`sim.schema_channels`, :mod:`sim.schema_levers` and :mod:`sim.schema_agreements`
(building blocks in :mod:`sim.schema_base`); this module assembles them into
:class:`Scenario`, reads scenario files and re-exports the sections.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Collection
from pathlib import Path
from typing import Any

from pydantic import (
    BaseModel,
    Field,
    ValidationError,
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
    DraftingSection,
    ExecutionSection,
    JudicialSection,
    ReviewSection,
    TransmissionSection,
    TrustSection,
)
from sim.schema_world import (
    AgenciesSection,
    CasesSection,
    RunSection,
    WorldSection,
)

# Re-exported: the schema's sections and building blocks are part of this module's API.
__all__ = [
    "APPLIES_TO_GROUPS",
    "AdoptableLeverSection",
    "AdoptionSection",
    "AgenciesSection",
    "BilateralAgreementsSection",
    "BudgetCutsSection",
    "CASE_TYPES",
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
    "some_case_types",
]

LEVERS = (
    "nsc_law",
    "legal_harmonization",
    "treaty_expansion",
    "mutual_recognition",
    "secure_platform",
    "rapid_channels",
    "joint_task_forces",
    "capacity_building",
    "diplomatic_engagement",
    "confidentiality_standards",
    "bilateral_agreements",
    "e_evidence",
    "coordinated_operation",
    "counterterrorism_agreement",
)
ADOPTABLE_LEVERS = (
    "nsc_law",
    "treaty_expansion",
    "secure_platform",
    "mutual_recognition",
    "joint_task_forces",
)
STRESS_TESTS = ("geopolitical_tension", "demand_surge", "budget_cuts")


class Scenario(Section):
    """A complete, validated scenario: the input of one model run."""

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
    nsc_law: NscLawSection = NscLawSection()
    legal_harmonization: LegalHarmonizationSection = LegalHarmonizationSection()
    treaty_expansion: TreatyExpansionSection = TreatyExpansionSection()
    secure_platform: SecurePlatformSection = SecurePlatformSection()
    rapid_channels: RapidChannelsSection = RapidChannelsSection()
    joint_task_forces: JointTaskForcesSection = JointTaskForcesSection()
    diplomatic_engagement: DiplomaticEngagementSection = DiplomaticEngagementSection()
    confidentiality_standards: ConfidentialityStandardsSection = ConfidentialityStandardsSection()
    bilateral_agreements: BilateralAgreementsSection = BilateralAgreementsSection()
    e_evidence: EEvidenceSection = EEvidenceSection()
    coordinated_operation: CoordinatedOperationSection = CoordinatedOperationSection()
    counterterrorism_agreement: CounterterrorismAgreementSection = (
        CounterterrorismAgreementSection()
    )
    geopolitical_tension: GeopoliticalTensionSection = GeopoliticalTensionSection()
    demand_surge: DemandSurgeSection = DemandSurgeSection()
    budget_cuts: BudgetCutsSection = BudgetCutsSection()

    # Where the scenario came from; not a model parameter.
    source: str = Field(default="", exclude=True, description="File the scenario was loaded from.")

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
        return validate_dict(data, source=self.source or "<scenario>", overridden=overrides)


# --------------------------------------------------------------------------------------
# Loading: extends, merging, error messages
# --------------------------------------------------------------------------------------

PACKAGE_DIR = Path(__file__).resolve().parent
DAYS_PER_YEAR = 365  # one step is one day; a simulated year is 365 of them


def warmup_days(scenario: Scenario) -> int:
    """Days of warm-up before the measurement window (the window's first day)."""
    return int(round(scenario.run.warmup_years * DAYS_PER_YEAR))


def shipped_dir_candidates(kind: str, package_dir: Path = PACKAGE_DIR) -> tuple[Path, Path]:
    """Where shipped files of a kind (``"scenarios"``, ``"experiments"``) can be.

    An installed wheel carries them inside the package (``sim/_scenarios``, mapped
    by ``force-include`` in pyproject.toml); a clone or an editable install has them
    next to the package. The package's own copy comes first, so that an unrelated
    ``scenarios`` folder beside an installed package is never taken for ours.
    """
    return package_dir / f"_{kind}", package_dir.parent / kind


def shipped_dir(kind: str, package_dir: Path = PACKAGE_DIR) -> Path:
    """Return the folder of the shipped files of a kind (see :func:`shipped_dir_candidates`)."""
    candidates = shipped_dir_candidates(kind, package_dir)
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    return candidates[-1]


def shipped_scenarios_dir() -> Path:
    """Return the folder holding the shipped scenario files."""
    return shipped_dir("scenarios")


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


def set_dotted(data: dict[str, Any], dotted: str, value: Any) -> None:
    """Set ``data["a"]["b"] = value`` for ``dotted = "a.b"``, creating sections as needed."""
    keys = dotted.split(".")
    node = data
    for key in keys[:-1]:
        node = node.setdefault(key, {})
        if not isinstance(node, dict):
            raise ScenarioError(f"{dotted}: '{key}' is a value, not a section")
    node[keys[-1]] = value


def deep_merge(base: dict[str, Any], child: dict[str, Any]) -> dict[str, Any]:
    """Merge ``child`` over ``base``: sections merge key by key, values replace."""
    merged = dict(base)
    for key, value in child.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _resolve_extends(name: str, current: Path) -> Path:
    """Find the file named by ``extends`` in ``current``."""
    if name.endswith(".toml"):
        return (current.parent / name).resolve()
    return (shipped_scenarios_dir() / f"{name}.toml").resolve()


def read_toml_file(path: Path, kind: str = "scenario", where: str = "") -> dict[str, Any]:
    """Read a TOML data file (nothing in it is executed), with errors for the user.

    Args:
        path: The file.
        kind: What the file is, for messages ("scenario", "experiment").
        where: Extra context for messages, e.g. which file named this one.

    Returns:
        The parsed TOML tables.

    Raises:
        ScenarioError: If the file is missing, unreadable or not valid TOML.
    """
    try:
        found = path.is_file()
    except (OSError, ValueError) as exc:  # e.g. a file name too long for the file system
        raise ScenarioError(f"{path}: cannot use this file name{where}: {exc}") from None
    if not found:
        raise ScenarioError(f"{path}: {kind} file not found{where}")
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{path}: not valid TOML: {exc}") from None
    except UnicodeDecodeError:
        raise ScenarioError(f"{path}: not a text (UTF-8) TOML file") from None
    except OSError as exc:  # e.g. no permission to read it
        raise ScenarioError(f"{path}: cannot read: {exc.strerror}") from None


def load_raw(path: str | Path) -> dict[str, Any]:
    """Read a scenario file and everything it extends into one merged dict.

    Args:
        path: The scenario file.

    Returns:
        The merged dict, without ``extends``.

    Raises:
        ScenarioError: On missing files, bad TOML or a cycle of ``extends``.
    """
    chain: list[Path] = []
    current = Path(path).resolve()
    referrer: Path | None = None
    layers: list[dict[str, Any]] = []
    while True:
        if current in chain:
            cycle = " -> ".join(str(p) for p in [*chain, current])
            raise ScenarioError(f"{chain[0]}: extends: cycle of 'extends': {cycle}")
        chain.append(current)
        where = f" (named by 'extends' in {referrer})" if referrer else ""
        data = read_toml_file(current, "scenario", where)
        if "source" in data:
            raise ScenarioError(
                f"{current}: source: unknown key (the file a scenario comes from is recorded "
                "by coopsim itself)"
            )
        if len(chain) == 1:
            # A scenario that names nothing is called after its own file, not its parent.
            data.setdefault("name", current.stem)
        parent = data.pop("extends", None)
        layers.append(data)
        if parent is None:
            break
        if not isinstance(parent, str) or not parent.strip():
            raise ScenarioError(
                f'{current}: extends: expected the name of a shipped scenario (e.g. "baseline") '
                f"or a .toml file relative to this one, found {parent!r}"
            )
        try:
            target = _resolve_extends(parent.strip(), current)
        except (OSError, ValueError) as exc:  # e.g. a NUL character in the name
            raise ScenarioError(
                f"{current}: extends: cannot use {parent!r} as a file name: {exc}"
            ) from None
        referrer, current = current, target
    merged: dict[str, Any] = {}
    for layer in reversed(layers):
        merged = deep_merge(merged, layer)
    return merged


def describe_field(section: type[BaseModel], key: str) -> str:
    """Say what a field allows, for error messages: type, range, unit and default."""
    field = section.model_fields.get(key)
    if field is None:
        return ""
    lo = hi = None
    for meta in field.metadata:
        lo = getattr(meta, "ge", lo)
        hi = getattr(meta, "le", hi)
    unit = (field.json_schema_extra or {}).get("unit", "")
    kind = getattr(field.annotation, "__name__", str(field.annotation))
    parts = [f"type {kind}"]
    if lo is not None or hi is not None:
        parts.append(f"range [{'-inf' if lo is None else lo}, {'inf' if hi is None else hi}]")
    if unit:
        parts.append(f"unit {unit}")
    parts.append(f"default {field.default!r}")
    return "; allowed: " + ", ".join(parts)


def _section_for(loc: tuple[Any, ...]) -> tuple[type[BaseModel], str]:
    """Walk the schema along an error location to the owning section and key."""
    section: type[BaseModel] = Scenario
    for key in loc[:-1]:
        field = section.model_fields.get(str(key))
        annotation = getattr(field, "annotation", None)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            section = annotation
        else:
            break
    return section, str(loc[-1]) if loc else ""


def format_validation_error(
    exc: ValidationError, source: str, overridden: Collection[str] = ()
) -> str:
    """Turn a pydantic error into lines naming the file, key path and what is allowed.

    Args:
        exc: The pydantic error.
        source: The scenario file (or what the data came from).
        overridden: Dotted keys whose values came from overrides, not the file: their
            errors name the override instead of the file.
    """
    lines = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        key_path = ".".join(str(p) for p in loc) or "(top level)"
        from_override = any(key_path == k or key_path.startswith(f"{k}.") for k in overridden)
        where = f"override {key_path} (applied to {source})" if from_override else None
        section, key = _section_for(loc)
        found = err.get("input")
        if err["type"] == "extra_forbidden":
            allowed = ", ".join(sorted(k for k in section.model_fields if k != "source"))
            msg = f"unknown key; allowed keys here: {allowed}"
        else:
            shown = repr(found)
            if len(shown) > 60:
                shown = shown[:57] + "..."
            msg = f"{err['msg']} (found {shown}){describe_field(section, key)}"
        lines.append(f"{where}: {msg}" if where else f"{source}: {key_path}: {msg}")
    return "\n".join(lines)


def validate_dict(
    data: dict[str, Any], source: str = "<dict>", overridden: Collection[str] = ()
) -> Scenario:
    """Validate a merged scenario dict.

    Args:
        data: Scenario content (sections and keys as in a TOML file).
        source: File name to put in error messages.
        overridden: Dotted keys set by overrides (their errors name the override).

    Returns:
        The validated Scenario.

    Raises:
        ScenarioError: Naming the file, the key path and what is allowed.
    """
    try:
        scenario = Scenario.model_validate({**data, "source": source})
    except ValidationError as exc:
        raise ScenarioError(format_validation_error(exc, source, overridden)) from None
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
    data = load_raw(path)
    for dotted, value in (overrides or {}).items():
        try:
            set_dotted(data, dotted, coerce_override(dotted, value))
        except ScenarioError as exc:  # e.g. the file says `run = 5` and --years is given
            raise ScenarioError(f"{path}: override {exc}") from None
    return validate_dict(data, source=str(path), overridden=overrides or ())


def resolve_named_file(path: str | Path, shipped_dir: Path) -> Path:
    """Accept a path, or the bare name of a file shipped in ``shipped_dir``.

    Raises:
        ScenarioError: If the operating system rejects the name (too long, NUL byte).
    """
    candidate = Path(path)
    try:
        exists = candidate.exists()
    except (OSError, ValueError) as exc:  # e.g. a file name too long for the file system
        raise ScenarioError(f"{path}: cannot use this file name: {exc}") from None
    if not exists and not str(path).endswith(".toml"):
        shipped = shipped_dir / f"{path}.toml"
        if shipped.is_file():
            return shipped
    return candidate


def resolve_scenario_path(path: str | Path) -> Path:
    """Accept a path, or the bare name of a shipped scenario."""
    return resolve_named_file(path, shipped_scenarios_dir())


def shipped_scenarios() -> dict[str, Path]:
    """Map the name of each shipped scenario to its file."""
    folder = shipped_scenarios_dir()
    return {p.stem: p for p in sorted(folder.glob("*.toml"))}


def parameter_table() -> list[dict[str, Any]]:
    """List every model parameter: section, key, type, unit, default, range, meaning."""
    rows = []
    for section_name, field in Scenario.model_fields.items():
        annotation = field.annotation
        if not (isinstance(annotation, type) and issubclass(annotation, Section)):
            continue
        for key, sub in annotation.model_fields.items():
            lo = hi = None
            for meta in sub.metadata:
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


def is_finite_number(value: Any) -> bool:
    """Return True for an int or float that is neither NaN nor infinite."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
