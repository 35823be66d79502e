"""Error messages for the user from a pydantic validation error of a scenario.

Each line names the file (or the override), the key path and what the key
allows: type, range, unit and default, or the keys allowed where an unknown one
was found. :mod:`sim.scenario` passes the Scenario class it validated with.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from pydantic import BaseModel, ValidationError


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


def _section_for(loc: tuple[Any, ...], schema: type[BaseModel]) -> tuple[type[BaseModel], str]:
    """Walk the schema along an error location to the owning section and key."""
    section = schema
    for key in loc[:-1]:
        field = section.model_fields.get(str(key))
        annotation = getattr(field, "annotation", None)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            section = annotation
        else:
            break
    return section, str(loc[-1]) if loc else ""


def format_validation_error(
    exc: ValidationError,
    source: str,
    overridden: Collection[str] = (),
    *,
    schema: type[BaseModel],
    origin=None,
) -> str:
    """Turn a pydantic error into lines naming the file, key path and what is allowed.

    Args:
        exc: The pydantic error.
        source: The scenario file (or what the data came from).
        overridden: Dotted keys whose values came from overrides, not the file: their
            errors name the override instead of the file.
        schema: The model that was validated (the current Scenario class).
        origin: The file that set a key (its path, a tuple), or None: ``source``. A
            scenario's error names the file it ``extends`` when that file set the key.
    """
    lines = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        key_path = ".".join(str(p) for p in loc) or "(top level)"
        # An override at, above or inside the key (a table's entry) is the error's source.
        from_override = any(
            key_path == k or key_path.startswith(f"{k}.") or k.startswith(f"{key_path}.")
            for k in overridden
        )
        where = f"override {key_path} (applied to {source})" if from_override else None
        section, key = _section_for(loc, schema)
        found = err.get("input")
        if err["type"] == "extra_forbidden":
            allowed = ", ".join(sorted(k for k in section.model_fields if k != "source"))
            msg = f"unknown key; allowed keys here: {allowed}"
        else:
            shown = repr(found)
            if len(shown) > 60:
                shown = shown[:57] + "..."
            msg = f"{err['msg']} (found {shown}){describe_field(section, key)}"
        file = (origin(loc) if origin is not None else None) or source
        lines.append(f"{where}: {msg}" if where else f"{file}: {key_path}: {msg}")
    return "\n".join(lines)
