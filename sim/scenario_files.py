"""Scenario files on disk: where shipped files are, reading TOML, ``extends`` chains.

Nothing here knows the schema: :mod:`sim.scenario` validates what these functions
read (and re-exports them, as they were declared there first).
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sim.schema_base import ScenarioError

PACKAGE_DIR = Path(__file__).resolve().parent


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
        if path.is_dir():
            article = "an" if kind[0] in "aeiou" else "a"
            raise ScenarioError(f"{path}: a folder, not {article} {kind} file{where}")
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
    return merge_layers(load_layers(path))


def merge_layers(layers: list[tuple[Path, dict[str, Any]]]) -> dict[str, Any]:
    """The files of an ``extends`` chain (the scenario first) merged, the scenario's last."""
    merged: dict[str, Any] = {}
    for _, layer in reversed(layers):
        merged = deep_merge(merged, layer)
    return merged


def origin_of(layers: list[tuple[Path, dict[str, Any]]], loc: tuple) -> str | None:
    """The file(s) of an ``extends`` chain that set the key at ``loc`` (the scenario first).

    The first file whose value reaches ``loc`` (or stops at a value, not a table, on the
    way: an error inside a list or a union names the key that holds it). A table that
    several files fill key by key names each of them.
    """
    tables = []
    for path, layer in layers:
        value: Any = layer
        for part in loc:
            if not isinstance(value, dict):
                return str(path)  # a list or a scalar set here holds the error
            if part not in value:
                break
            value = value[part]
        else:
            if not isinstance(value, dict):
                return str(path) if not tables else " and ".join(tables)
            tables.append(str(path))
    return " and ".join(tables) if tables else None


def load_layers(path: str | Path) -> list[tuple[Path, dict[str, Any]]]:
    """Read a scenario file and the files it extends, each as read (the scenario first).

    Raises:
        ScenarioError: On missing files, bad TOML or a cycle of ``extends``.
    """
    chain: list[Path] = []
    current = Path(path).resolve()
    referrer: Path | None = None
    layers: list[tuple[Path, dict[str, Any]]] = []
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
        layers.append((current, data))
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
    return layers


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


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """``"; did you mean 'x'?"`` for the closest of ``choices`` to ``word``, or ``""``."""
    import difflib

    choices = list(choices)
    close = difflib.get_close_matches(word, choices, n=2, cutoff=0.6)
    if not close:  # a dotted name whose last part is right: "agencies.capacity_court"
        tail = word.rsplit(".", 1)[-1]
        close = [c for c in choices if c.rsplit(".", 1)[-1] == tail][:2]
    return "; did you mean " + " or ".join(repr(c) for c in close) + "?" if close else ""


def resolve_scenario_path(path: str | Path) -> Path:
    """Accept a path, or the bare name of a shipped scenario."""
    return resolve_named_file(path, shipped_scenarios_dir())


def shipped_scenarios() -> dict[str, Path]:
    """Map the name of each shipped scenario to its file."""
    folder = shipped_scenarios_dir()
    return {p.stem: p for p in sorted(folder.glob("*.toml"))}
