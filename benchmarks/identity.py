"""Same runs, bit for bit? Fingerprints of whole runs, to compare code before and after.

A change meant to leave the model's realisation alone (a faster implementation, a
module split, the compiled day of docs/compiled_pipeline.md) must give the same
runs. This script runs a fixed set of cases (shipped scenarios, seeds, short
horizons) and records a SHA-256 digest of every ledger column, every case-book
column, every daily series, the per-agency backlog and the final trust matrix:

    uv run python benchmarks/identity.py --write before.json    # on the old code
    uv run python benchmarks/identity.py --check before.json    # on the new code

``--check`` prints, for each case, the arrays that differ and, for the daily series,
the first 30-day block that differs (where to start looking), and exits 1 if anything
does.
Digests hold for one machine and one numpy: vectorised maths may round differently
on another CPU, so compare on the same machine (as docs/performance.md's rounds did).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import numpy as np

# (scenario, seed, overrides): short runs of the shipped scenarios that exercise every
# mechanism: reforms start early so their effects are in the window.
CASES: tuple[tuple[str, int, dict], ...] = (
    ("baseline", 3, {"run.years": 1.0, "run.warmup_years": 0.0}),
    ("baseline", 7, {"run.years": 0.5, "run.warmup_years": 0.5, "world.n_states": 25}),
    ("nsc_law_package", 5, {"run.years": 1.0, "run.warmup_years": 0.0}),
    ("future_directions", 5, {"run.years": 1.0, "run.warmup_years": 0.0}),
    ("real_world_eu_reform", 5, {"run.years": 0.5, "run.warmup_years": 0.0}),
    ("bilateral_agreements", 2, {"run.years": 1.0, "run.warmup_years": 0.0}),
    ("case_interpol_operation", 2, {"run.years": 1.0, "run.warmup_years": 0.0}),
    ("nsc_law_endogenous", 2, {"run.years": 1.0, "run.warmup_years": 0.0}),
    ("baseline", 1, {"run.years": 0.5, "agencies.queue_discipline": "reciprocity"}),
    # The operations at work inside a short run (the shipped ones start after a year).
    *(
        (
            name,
            seed,
            {"run.years": 0.8, "run.warmup_years": 0.0, "coordinated_operation.start_year": 0.1},
        )
        for name in ("case_interpol_operation", "case_unodc_operation")
        for seed in (1, 2, 3)
    ),
)


def digest(values: np.ndarray) -> str:
    """SHA-256 of an array's dtype, shape and bytes."""
    values = np.ascontiguousarray(values)
    h = hashlib.sha256(f"{values.dtype.str}{values.shape}".encode())
    h.update(values.tobytes())
    return h.hexdigest()


BLOCK_DAYS = 30  # the daily series are also fingerprinted by blocks of this many days


def fingerprint(model) -> dict[str, str | list[str]]:
    """Digests of everything a run produced, by name (``ledger.t_closed``, ``series.leaks``).

    A daily series also has one digest per block of :data:`BLOCK_DAYS` days
    (``blocks.leaks``), so a difference can be traced to the month it starts in.
    """
    days = model.day
    out: dict[str, str | list[str]] = {}
    out |= {f"ledger.{n}": digest(model.ledger.col(n)) for n in sorted(model.ledger._cols)}
    out |= {f"cases.{n}": digest(model.cases.col(n)) for n in sorted(model.cases._cols)}
    for name, values in sorted(model.series.items()):
        out[f"series.{name}"] = digest(values[:days])
        out[f"blocks.{name}"] = [
            digest(values[start : min(start + BLOCK_DAYS, days)])
            for start in range(0, days, BLOCK_DAYS)
        ]
    out["agency_backlog"] = digest(model.agency_backlog[:days])
    trust = model.trust.snapshot(days)
    out["trust"] = digest(trust)
    # The values too, for floats: how far apart two runs are where the digests differ
    # (vectorised and compiled maths may round the last bit differently).
    out["values.trust"] = trust.ravel().tolist()
    out["values.mean_trust"] = model.series["mean_trust"][:days].tolist()
    return out


def largest_difference(old: list, new: list) -> float:
    """Largest absolute difference between two equally long lists of floats (NaN: equal)."""
    a, b = np.asarray(old, dtype=float), np.asarray(new, dtype=float)
    if a.shape != b.shape:
        return float("inf")
    gap = np.abs(a - b)
    return float(np.nanmax(gap, initial=0.0))


def run_case(scenario: str, seed: int, overrides: dict):
    """One case's finished model."""
    from sim.model import CooperationModel
    from sim.scenario import load_scenario

    return CooperationModel(load_scenario(scenario, overrides), rng=seed).run()


def case_key(scenario: str, seed: int, overrides: dict) -> str:
    return f"{scenario} seed {seed} {json.dumps(overrides, sort_keys=True)}"


def compare(stored: dict, current: dict) -> list[str]:
    """What differs: names whose digests differ or that one side lacks; series with the
    first day of the first block that differs."""
    found = []
    for name in sorted(set(stored) | set(current)):
        old, new = stored.get(name), current.get(name)
        if old == new or name.startswith(("blocks.", "values.")):
            continue
        label = name
        values = f"values.{name.removeprefix('series.')}"
        if values in stored and values in current:
            gap = largest_difference(stored[values], current[values])
            label = f"{name} [largest difference {gap:.2g}]"
        blocks = f"blocks.{name.removeprefix('series.')}"
        if name.startswith("series.") and blocks in stored and blocks in current:
            pairs = zip(stored[blocks], current[blocks], strict=False)
            first = next((k for k, (a, b) in enumerate(pairs) if a != b), None)
            if first is None:  # equal as far as both go: one run is longer
                first = min(len(stored[blocks]), len(current[blocks]))
            found.append(f"{label} (from day {first * BLOCK_DAYS})")
        else:
            found.append(label)
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", metavar="FILE", help="record the fingerprints of every case")
    mode.add_argument("--check", metavar="FILE", help="compare with fingerprints recorded before")
    parser.add_argument("--only", type=int, nargs="*", help="case numbers (0-based) to run")
    parser.add_argument(
        "--all-scenarios",
        action="store_true",
        help="also every shipped scenario (seed 1, half a year, no warm-up)",
    )
    args = parser.parse_args(argv)
    cases = [c for i, c in enumerate(CASES) if args.only is None or i in args.only]
    if args.all_scenarios:
        from sim.scenario import shipped_scenarios

        short = {"run.years": 0.5, "run.warmup_years": 0.0}
        cases += [(name, 1, short) for name in sorted(shipped_scenarios())]
    if args.check:
        path = Path(args.check)
        if not path.is_file():
            parser.error(f"--check: {path} does not exist; write it first with --write")
        stored = json.loads(path.read_text(encoding="utf-8"))
    results, failed = {}, False
    for scenario, seed, overrides in cases:
        key = case_key(scenario, seed, overrides)
        model = run_case(scenario, seed, overrides)
        results[key] = fingerprint(model)
        if not args.check:
            print(f"{key}: {len(model.ledger):,} requests", file=sys.stderr)
            continue
        if key not in stored:
            print(f"{key}: not in {path}", file=sys.stderr)
            failed = True
            continue
        differ = compare(stored[key], results[key])
        failed |= bool(differ)
        print(f"{key}: {'same' if not differ else f'{len(differ)} differ'}", file=sys.stderr)
        for name in differ:
            print(f"    {name}", file=sys.stderr)
    if args.write:
        out = Path(args.write)
        partial = out.with_name(out.name + ".partial")
        partial.write_text(json.dumps(results, indent=1), encoding="utf-8")
        partial.replace(out)  # never a half-written fingerprint file under the final name
        print(f"written {out}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
