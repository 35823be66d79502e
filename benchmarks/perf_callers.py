"""Who calls numba's reference counts (or libm, or malloc)? Callers read off perf's stack dumps.

perf names the kernels' samples with the map of ``benchmarks/perf_map.py``, but it
cannot say who called a function that the kernels call: JIT code has no frame
pointers and no unwind tables. Recorded with ``--call-graph dwarf``, though, every
sample carries a copy of the top of its stack; for a small function such as
``NRT_incref`` the return address into its caller is among the first words there.
This script reads those copies from ``perf report -D`` and counts, for the samples in
the target functions, the first word of the stack that falls inside a named kernel:

    uv run python benchmarks/perf_map.py world_scale --runs 5 &
    sleep 6; perf record -F 1999 --call-graph dwarf,512 -p $! -o perf.data -- sleep 6
    uv run python benchmarks/perf_callers.py perf.data /tmp/perf-<pid>.map NRT_incref NRT_decref
    uv run python benchmarks/perf_callers.py perf.data /tmp/perf-<pid>.map libm

A target is a function of the map or a shared library (its name before the first
dot: ``libm``, ``libc``). The first kernel word on the stack is usually, not always, the caller
(a stale word can precede it): a few hundred samples name the busy callers well.
docs/performance.md's tenth session's section says what it found.
"""

from __future__ import annotations

import argparse
import bisect
import re
import subprocess
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

#: Bytes of each stack copy searched for a return address (words of 8 bytes).
SEARCHED = 400


def read_map(path: Path) -> tuple[list[int], list[tuple[int, int, str]]]:
    """The map's functions by address: ``(starts, [(start, size, name)])``.

    Data that numba's engine also names (constants, environments) is left out: a
    pointer to it on the stack is not a return address.
    """
    symbols = []
    for line in path.read_text(encoding="utf-8").splitlines():
        start, size, name = line.split(" ", 2)
        if name.startswith(".") or "NumbaEnv" in name:
            continue
        symbols.append((int(start, 16), int(size, 16), name))
    symbols.sort()
    return [s[0] for s in symbols], symbols


def short_name(mangled: str) -> str:
    """``_ZN3sim13kernel_stages11advance_dueB2v1...`` as ``sim.kernel_stages.advance_due``."""
    rest = mangled[3:] if mangled.startswith("_ZN") else mangled
    parts = []
    while rest[:1].isdigit():
        digits = re.match(r"\d+", rest).group()
        length = int(digits)
        parts.append(rest[len(digits) : len(digits) + length])
        rest = rest[len(digits) + length :]
        if rest[:1] in ("B", "E"):
            break
    return ".".join(parts) if parts else mangled


def _named(address: int, starts: list[int], symbols: list) -> str | None:
    k = bisect.bisect_right(starts, address) - 1
    if k >= 0 and address < symbols[k][0] + symbols[k][1]:
        return short_name(symbols[k][2])
    return None


def count_callers(
    dump: Iterable[str], map_path: Path, targets: list[str]
) -> tuple[Counter, Counter]:
    """Samples in each target, and ``(target, caller)`` counts, from ``perf report -D``'s lines.

    A sample's dump comes as its raw bytes, then its ``PERF_RECORD_SAMPLE`` line (its
    instruction pointer), then the offset of the stack copy in those bytes and the
    library (``dso``) the pointer is in.
    """
    starts, symbols = read_map(map_path)
    in_target: Counter = Counter()
    callers: Counter = Counter()
    sample: dict = {}

    def finish() -> None:
        if "ip" not in sample or "stack" not in sample:
            return
        where = _named(sample["ip"], starts, symbols)
        library = Path(sample.get("dso", "")).name  # libm.so.6, not libmvec
        target = next(
            (t for t in targets if t == where or (where is None and library.startswith(t + "."))),
            None,
        )
        if target is None:
            return
        in_target[target] += 1
        raw = bytes(sample["raw"])
        begin = sample["stack"] + 8  # the copy's size comes first
        size = int.from_bytes(raw[sample["stack"] : begin], "little")
        for at in range(begin, min(begin + size, begin + SEARCHED, len(raw)) - 7, 8):
            caller = _named(int.from_bytes(raw[at : at + 8], "little"), starts, symbols)
            if caller is not None and caller not in targets:
                callers[(target, caller)] += 1
                return
        callers[(target, "?")] += 1

    for line in dump:
        if "raw event" in line:
            finish()
            sample = {"raw": []}
        elif "PERF_RECORD_SAMPLE" in line:
            found = re.search(r": (0x[0-9a-f]+) period", line)
            if found:
                sample["ip"] = int(found.group(1), 16)
        elif "ustack: size" in line:
            sample["stack"] = int(re.search(r"offset (0x[0-9a-f]+)", line).group(1), 16)
        elif "dso:" in line:
            sample["dso"] = line.split("dso:", 1)[1].strip()
        else:
            hexes = re.match(r"\.\s+[0-9a-f]{4}:\s+((?:[0-9a-f]{2} )+)", line)
            if hexes and "raw" in sample:
                sample["raw"].extend(int(x, 16) for x in hexes.group(1).split())
    finish()
    return in_target, callers


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", type=Path, help="perf.data recorded with --call-graph dwarf")
    parser.add_argument("map", type=Path, help="the perf map perf_map.py wrote")
    parser.add_argument("targets", nargs="+", help="functions (short names) or libraries")
    parser.add_argument("--top", type=int, default=30)
    args = parser.parse_args(argv)
    for path in (args.data, args.map):
        if not path.exists():
            parser.error(f"{path} does not exist")
    perf = subprocess.Popen(
        ["perf", "report", "-i", str(args.data), "-D"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    in_target, callers = count_callers(perf.stdout, args.map, args.targets)
    if perf.wait():
        parser.error(f"perf report -D failed on {args.data}: {perf.stderr.read()[-500:]}")
    print("samples in each target:", dict(in_target))
    for (target, caller), n in callers.most_common(args.top):
        print(f"{n:6d}  {target} <- {caller}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
