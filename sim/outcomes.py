"""Outcome names: plain labels, units, better directions, flat names, formatted values.

The entries themselves (one per outcome of :func:`sim.metrics.compute_outcomes`)
are the data of :mod:`sim.outcome_registry`, re-exported here; this module holds
what is done with them. An outcome whose value is a dict (a breakdown, such as
``median_response_days`` by request kind) has one entry covering every key: its
flat names are ``base.key`` (dotted, as in stored results) or ``base__key``
(identifier-safe, for tools that need Python identifiers, such as the EMA
Workbench).

The registry is the single source of units and plain names for the tables
(:mod:`sim.analysis`), the figures (:mod:`sim.plots`) and the outcome table of
docs/ODD.md; ``tests/test_outcomes.py`` fails when the model produces an outcome
that has no entry.
"""

from __future__ import annotations

import math
from typing import Any

from sim.errors import CoopsimError
from sim.outcome_registry import (  # re-exported: the registry is read through this module
    COUNT_UNITS,
    ENTRIES,
    KEY_LABELS,
    REGISTRY,
    Better,
    OutcomeInfo,
)

__all__ = [
    "COUNT_UNITS",
    "KEY_LABELS",
    "REGISTRY",
    "SEPARATOR",
    "TABLE_FORMATS",
    "Better",
    "OutcomeInfo",
    "UnregisteredOutcomeError",
    "better",
    "dotted_name",
    "flatten",
    "format_value",
    "info",
    "is_registered",
    "key_label",
    "label",
    "registry_markdown",
    "safe_name",
    "split_name",
    "unit",
]

SEPARATOR = "__"  # between base name and key in identifier-safe names
# Formats of the readable tables (sim.analysis); here so the CLI can name them without
# importing pandas at start.
TABLE_FORMATS = ("text", "markdown", "csv", "latex")


class UnregisteredOutcomeError(CoopsimError, KeyError):
    """An outcome name with no registry entry."""

    def __str__(self) -> str:  # KeyError would show the message in quotes
        return str(self.args[0]) if self.args else ""


def split_name(name: str) -> tuple[str, str | None]:
    """Split a flat outcome name into (base, key); accepts dotted or identifier-safe names.

    Args:
        name: ``completion_rate``, ``median_response_days.extradition`` or
            ``median_response_days__extradition``.

    Returns:
        ``(base, key)``, key None for a single-valued outcome.
    """
    for sep in (".", SEPARATOR):
        if sep in name:
            base, key = name.split(sep, 1)
            return base, key
    return name, None


def info(name: str) -> OutcomeInfo:
    """The registry entry of a flat outcome name (dotted or identifier-safe).

    Raises:
        UnregisteredOutcomeError: Naming the outcome and where to register it.
    """
    from sim.scenario_files import did_you_mean

    base, key = split_name(name)
    entry = REGISTRY.get(base)
    if entry is None:
        raise UnregisteredOutcomeError(
            f"outcome {name!r} has no entry in the outcome registry (sim/outcome_registry.py)"
            f"{did_you_mean(base, REGISTRY)}; an outcome added to the model gets one there "
            "(name, plain label, unit, better direction, one-line description), then "
            "`uv run python -m sim.docs` regenerates docs/ODD.md"
        )
    if key is None and entry.keys is not None:
        raise UnregisteredOutcomeError(
            f"outcome {name!r} is a breakdown by {entry.keys}: name one key, e.g. {base}.<key>"
        )
    if key is not None and entry.keys is None:
        raise UnregisteredOutcomeError(
            f"outcome {name!r}: {base} is a single value, not a breakdown"
        )
    return entry


def is_registered(name: str) -> bool:
    """True when the flat outcome name has a registry entry."""
    try:
        info(name)
    except UnregisteredOutcomeError:
        return False
    return True


def safe_name(name: str) -> str:
    """Identifier-safe form of a flat outcome name: ``a.b`` -> ``a__b``."""
    return name.replace(".", SEPARATOR)


def dotted_name(name: str) -> str:
    """Dotted form of a flat outcome name: ``a__b`` -> ``a.b`` (dotted names unchanged)."""
    base, key = split_name(name)
    return base if key is None else f"{base}.{key}"


def key_label(key: str) -> str:
    """A readable breakdown key: ``mla_evidence`` -> ``MLA evidence``."""
    return KEY_LABELS.get(key, key.replace("_", " "))


def unit(name: str) -> str:
    """Unit of a flat outcome name; ``""`` for a name that is not registered."""
    return info(name).unit if is_registered(name) else ""


def better(name: str) -> Better:
    """Which direction is better for a flat outcome name ("neither" when unregistered)."""
    return info(name).better if is_registered(name) else "neither"


def label(name: str, with_unit: bool = False) -> str:
    """A plain name of a flat outcome: ``median response time: MLA evidence``.

    Args:
        name: Flat outcome name (dotted or identifier-safe). An unregistered name
            gets its underscores replaced by spaces.
        with_unit: Append the unit in parentheses.
    """
    base, key = split_name(name)
    entry = REGISTRY.get(base)
    text = entry.label if entry else base.replace("_", " ")
    if key is not None:
        text += ": " + key_label(key)
    u = unit(name)
    return f"{text} ({u})" if with_unit and u else text


def flatten(outcomes: dict[str, Any], safe: bool = True) -> dict[str, Any]:
    """Flatten nested outcomes to one level, checking every name is registered.

    Args:
        outcomes: Outcomes as returned by :func:`sim.metrics.compute_outcomes`.
        safe: Identifier-safe names (``median_response_days__mla_evidence``); False
            gives dotted names (``median_response_days.mla_evidence``).

    Returns:
        Flat dict of name to value (numpy scalars become Python numbers).

    Raises:
        UnregisteredOutcomeError: When the model produced an outcome with no entry.
    """
    flat: dict[str, Any] = {}
    for base, value in outcomes.items():
        items = value.items() if isinstance(value, dict) else [(None, value)]
        for key, v in items:
            dotted = base if key is None else f"{base}.{key}"
            info(dotted)
            if hasattr(v, "item") and not isinstance(v, str):
                v = v.item()
            flat[safe_name(dotted) if safe else dotted] = v
    return flat


def format_value(value: float, name: str, difference: bool = False) -> str:
    """A value in the outcome's unit: shares as percent (differences in points).

    Args:
        value: The number.
        name: Flat outcome name (for the unit).
        difference: The value is a difference (signed; shares in percentage points).
    """
    if value is None or not math.isfinite(value):
        return "n/a"
    if unit(name) == "share":
        return f"{100 * value:+.1f} pp" if difference else f"{100 * value:.1f}%"
    sign = "+" if difference else ""
    if abs(value) >= 1000:
        return f"{value:{sign},.0f}"
    if abs(value) >= 10:
        return f"{value:{sign}.1f}"
    return f"{value:{sign}.3g}"


def registry_markdown() -> str:
    """The registry as a markdown table (for docs/ODD.md)."""
    lines = [
        "| outcome | plain name | unit | better | meaning |",
        "|---|---|---|---|---|",
    ]
    for e in ENTRIES:
        name = f"`{e.name}.<key>`" if e.keys else f"`{e.name}`"
        meaning = f"{e.description} Key: {e.keys}." if e.keys else e.description
        lines.append(f"| {name} | {e.label} | {e.unit} | {e.better} | {meaning} |")
    return "\n".join(lines) + "\n"
