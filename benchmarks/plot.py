"""Draw the benchmark figures from one or more results files of benchmarks/run.py.

Usage (from the repository root):

    uv run python benchmarks/plot.py benchmarks/output/results.json
    uv run python benchmarks/plot.py benchmarks/output/*.json --out docs/img/performance.png

Sections found in later files replace those of earlier ones, so sections measured
by separate ``run.py --only ... --out FILE`` commands can be drawn together.
Panels are drawn for the sections present: world-scale throughput against the
target, time per request by number of states, time per day by requests per day
(the fixed cost of a day and the cost of a request), and sweep throughput and peak
memory (experiment layer against ``mesa.batch_run``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

HERE = Path(__file__).resolve().parent
# The target ("The day pipeline ... compiled: 500,000 requests a second").
TARGET_REQUESTS_PER_S = 500_000
TARGET_SCALING = 1.5


def load(paths: list[Path]) -> dict:
    """Merge the sections of several results files (later files win)."""
    report: dict = {}
    for path in paths:
        try:
            data = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise SystemExit(f"{path}: not a results file of benchmarks/run.py ({exc})") from None
        report.update(data)
    return report


def _world(ax, world: dict) -> None:
    rate = world["requests_per_s_end_to_end"]
    repeats = world.get("repeats", 1)
    ax.barh([f"coopsim\n(median of {repeats})" if repeats > 1 else "coopsim"], [rate])
    target = f"target {TARGET_REQUESTS_PER_S:,}/s"
    ax.axvline(TARGET_REQUESTS_PER_S, color="tab:red", ls="--", label=target)
    ax.set_xlabel("requests per second, end to end (one core)")
    ax.set_title(f"World scale: {world['states']} states, {world['requests']:,} requests")
    ax.text(rate, 0, f" {rate:,.0f}/s", va="center")
    ax.legend(loc="lower right", fontsize=8)


def _scaling(ax, scaling: dict) -> None:
    rows = scaling["rows"]
    states = [r["states"] for r in rows]
    us = [r["us_per_request_run"] for r in rows]
    ax.plot(states, us, "o-", color="tab:blue", label="coopsim")
    ax.axhline(us[0] * TARGET_SCALING, color="tab:red", ls="--", label="target: 1.5x of 50 states")
    ax.set_xscale("log", base=2)
    ax.set_xticks(states, [str(s) for s in states])
    ax.set_ylim(0, None)
    ax.set_xlabel("states")
    ax.set_ylabel("us per request")
    ax.set_title(f"Time per request ({scaling['years']:g}-year world_scale runs)")
    ax.legend(fontsize=8)


def _load(ax, load: dict) -> None:
    """ms per simulated day against requests per day, with the fitted line and the target."""
    rows = load["rows"]
    x = [r["requests_per_day"] for r in rows]
    y = [r["ms_per_day"] for r in rows]
    ax.plot(x, y, "o", color="tab:blue", label="coopsim (world_scale, load x7 to x56)")
    fixed, per_request = load["fixed_ms_per_day"], load["marginal_us_per_request"] / 1e3
    top = max(x) * 1.2  # room for the labels
    ax.plot(
        [0, top],
        [fixed, fixed + per_request * top],
        "-",
        color="tab:blue",
        lw=0.8,
        label=f"fit: {fixed:.2f} ms a day + {1e3 * per_request:.1f} us a request",
    )
    ax.plot(
        [0, top],
        [0, 1e3 * top / TARGET_REQUESTS_PER_S],
        "--",
        color="tab:red",
        label=f"{TARGET_REQUESTS_PER_S:,} requests/s",
    )
    for xi, yi, r in zip(x, y, rows, strict=True):
        ax.annotate(f" {r['requests'] / r['run_s']:,.0f}/s", (xi, yi), fontsize=8)
    ax.set_xlim(0, top)
    ax.set_ylim(0, None)
    ax.set_xlabel("requests per simulated day")
    ax.set_ylabel("ms per simulated day")
    ax.set_title("Where a day goes: a fixed cost and a cost per request")
    ax.legend(fontsize=8)


def _sweeps(ax_speed, ax_memory, report: dict) -> None:
    """Runs per second and peak memory of every sweep variant that was measured."""
    bars: list[tuple[str, dict, str]] = []  # label, measurement, colour
    sweep, batch, agencies = (report.get(k) for k in ("sweep", "batch_run", "batch_run_agencies"))
    # Shorter names for the long keys of run.py's batch_run section.
    if batch:
        batch = {k.replace("batch_run_2_processes_", ""): v for k, v in batch.items()}
    if sweep:
        repeats = sweep.get("repeats", 1)
        note = f"\n(median of {repeats})" if repeats > 1 else ""
        bars += [
            (f"coopsim, 1 worker{note}", sweep["workers_1"], "tab:blue"),
            (f"coopsim, 2 workers{note}", sweep["workers_2"], "tab:blue"),
        ]
    if batch:
        # The comparison's own coopsim measurement (same session, interleaved).
        repeats = batch.get("repeats", 1)
        note = f", median of {repeats}" if repeats > 1 else ""
        if "coopsim_2_workers" in batch:
            bars.append(
                (
                    f"coopsim, 2 workers\n(vs batch_run{note})",
                    batch["coopsim_2_workers"],
                    "tab:blue",
                )
            )
        bars += [
            (f"batch_run, 2 proc.\nfinal outcomes{note}", batch["final_only"], "grey"),
            (f"batch_run, 2 proc.\nseries each step{note}", batch["every_step"], "grey"),
        ]
    if agencies:
        bars += [
            ("coopsim, 2 workers\nper-agency backlog", agencies["coopsim_2_workers"], "tab:cyan"),
            (
                "batch_run, 2 proc.\nper-agency backlog",
                agencies["batch_run_2_processes_every_step"],
                "silver",
            ),
        ]
    labels = [b[0] for b in bars]
    colors = [b[2] for b in bars]
    speed = [b[1]["runs_per_s"] for b in bars]
    memory = [b[1].get("peak_tree_rss_mb", float("nan")) for b in bars]
    ax_speed.barh(labels, speed, color=colors)
    ax_speed.invert_yaxis()
    ax_speed.set_xlabel("runs per second")
    any_section = sweep or batch or agencies
    ax_speed.set_title(
        f"Sweep of {any_section['replications']} baseline runs ({any_section['years']:g} year)"
    )
    ax_memory.barh(labels, memory, color=colors)
    ax_memory.invert_yaxis()
    ax_memory.set_xlabel("peak memory, all processes (MB)")
    ax_memory.set_title("Peak memory of the same sweeps")
    for ax, values, fmt in ((ax_speed, speed, "{:.2f}"), (ax_memory, memory, "{:,.0f}")):
        ax.set_xlim(0, 1.12 * max(v for v in values if v == v))  # room for the labels
        for y, v in enumerate(values):
            ax.text(v, y, " " + fmt.format(v), va="center", fontsize=8)


def draw(report: dict, out: Path) -> Path:
    """Draw the panels for the sections in ``report`` into ``out`` (PNG); return it."""
    has_sweeps = any(k in report for k in ("sweep", "batch_run", "batch_run_agencies"))
    panels = [k for k in ("world", "scaling", "load") if k in report]
    panels += ["sweep speed", "sweep memory"] if has_sweeps else []
    if not panels:
        raise SystemExit("no benchmark sections in the results (expected world, scaling, sweep...)")
    heights = [{"world": 0.6, "scaling": 1.0}.get(p, 1.3) for p in panels]
    fig, axes = plt.subplots(
        len(panels),
        1,
        figsize=(8, 2.8 * sum(heights)),
        squeeze=False,
        gridspec_kw={"height_ratios": heights},
    )
    axes = list(axes[:, 0])
    if "world" in report:
        _world(axes.pop(0), report["world"])
    if "scaling" in report:
        _scaling(axes.pop(0), report["scaling"])
    if "load" in report:
        _load(axes.pop(0), report["load"])
    if has_sweeps:
        _sweeps(axes[0], axes[1], report)
    m = report.get("machine", {})
    fig.suptitle(
        f"coopsim benchmarks: {m.get('cores', '?')} cores, {m.get('cpu', '?')}, "
        f"Python {m.get('python', '?')}, Mesa {m.get('mesa', '?')}",
        fontsize=9,
    )
    fig.tight_layout(rect=(0, 0, 1, 0.985))  # leave the suptitle its own line
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial.png")
    fig.savefig(partial, dpi=110)
    plt.close(fig)
    partial.replace(out)  # never a half-written figure under the final name
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", nargs="+", type=Path, help="results files of run.py")
    parser.add_argument("--out", type=Path, default=HERE / "output" / "performance.png")
    args = parser.parse_args(argv)
    print(f"written {draw(load(args.results), args.out)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
