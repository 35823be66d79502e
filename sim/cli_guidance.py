"""Help for mistyped names: a scenario or experiment argument that names nothing.

Each is checked before any work starts, with a "did you mean" among the files of its
kind next to it and the shipped ones (:mod:`sim.cli_common` re-exports these).
"""

from __future__ import annotations

import os
from pathlib import Path

from sim.cli_common import CliError


def _did_you_mean(word: str, choices) -> str:
    from sim.experiment import did_you_mean

    return did_you_mean(word, choices)


def _of_kind(path: Path, kind: str) -> bool:
    """Whether a TOML file next to a misspelt name is a file of ``kind`` (to suggest it)."""
    from sim.experiment_spec import is_robustness_file, is_scenario_file
    from sim.scenario import read_toml_file

    try:
        data = read_toml_file(path)
    except Exception:  # noqa: BLE001 - unreadable: not a suggestion
        return False
    if kind == "scenario":
        return is_scenario_file(data)
    return not is_scenario_file(data) and (kind != "robustness" or is_robustness_file(data))


def check_named_file(ref: str, kind: str, shipped: dict[str, Path], what: str) -> None:
    """Refuse a scenario or experiment reference that names nothing, suggesting names.

    Args:
        ref: What the user typed: a file, or the name of a shipped file.
        kind: ``scenario`` or ``experiment``.
        shipped: The shipped names and their files.
        what: Where the user typed it (``the SCENARIO argument``, ``--reference``).

    Raises:
        CliError: When ``ref`` is neither an existing file nor a shipped name.
    """
    path = Path(ref)
    try:
        if path.exists() or (not ref.endswith(".toml") and ref in shipped):
            return
    except (OSError, ValueError):
        return  # the loader reports a name the OS rejects
    names = ", ".join(shipped) or "(none)"
    if ref.endswith(".toml") or "/" in ref or os.sep in ref:
        nearby = (
            []
            if not path.parent.is_dir()
            else sorted(p.name for p in path.parent.glob("*.toml") if _of_kind(p, kind))
        )
        hint = _did_you_mean(path.name, nearby) if nearby else ""
        if not hint:
            hint = _did_you_mean(path.stem, shipped)
        raise CliError(f"{what}: {ref}: {kind} file not found{hint}; shipped {kind} files: {names}")
    raise CliError(
        f"{what}: {ref!r} is neither {'an' if kind[0] in 'aeiou' else 'a'} {kind} file nor the "
        f"name of a shipped one{_did_you_mean(ref, shipped)}; shipped {kind} files: {names}"
    )


def check_scenario_arg(ref: str, what: str) -> None:
    """A scenario argument that names no file and no shipped scenario is refused."""
    from sim.scenario import shipped_scenarios

    check_named_file(ref, "scenario", shipped_scenarios(), what)


def check_experiment_arg(ref: str, what: str, robust: bool = False) -> None:
    """An experiment argument that names no file and no shipped experiment is refused.

    Args:
        ref: What the user typed.
        what: Where they typed it.
        robust: ``coopsim robust``'s argument: only robustness files are offered.
    """
    from sim.experiment import shipped_experiments

    shipped = shipped_experiments()
    if robust:
        from sim.experiment_spec import is_robustness_file
        from sim.scenario import read_toml_file

        shipped = {n: p for n, p in shipped.items() if is_robustness_file(read_toml_file(p))}
    kind = "robustness" if robust else "experiment"
    check_named_file(ref, kind, shipped, what)
