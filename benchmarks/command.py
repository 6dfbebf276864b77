"""The whole command a planner runs, timed as they would time it: ``planner solve INSTANCE
--time-limit T --out DIR``, from the start of the process to its exit, plan, report and workbook
written.

    python -m benchmarks.command                    # L and XL, each at its limit in benchmarks.run.LIMITS
    python -m benchmarks.command --sizes XXL        # the largest size (benchmarks.run.SIZES, SUPPLIERS)
    python -m benchmarks.command --write            # also rewrite benchmarks/COMMAND.md

The instances are ``benchmarks.run``'s (same seed, same sizes); the route is the command's
default (``auto``: decomposed from 100,000 binaries on, so at XL and XXL). Printed per run: the
wall time against the limit (issue 18 asks for the limit plus 10 %), the phases from the
plan's ``kpis.csv``, profit, bound and gap, and the peak memory of the command's process and of
its largest Dask worker (``worker_peak_mb``, the worker's own).
"""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.machine import header
from benchmarks.run import LIMITS, SIZES, SUPPLIERS, instance_dir

HERE = Path(__file__).resolve().parent
PHASES = ("build_seconds", "start_seconds", "handoff_seconds", "solve_seconds", "polish_seconds", "extract_seconds", "verify_seconds")


def run(size: str, root: Path, limit: float) -> dict:
    path = instance_dir(size, root)
    out = root / f"out-{size}"
    planner = Path(sys.executable).with_name("planner")
    t0 = time.perf_counter()
    with open(root / f"{size}.stdout", "w") as stdout, open(root / f"{size}.stderr", "w+") as stderr:
        p = subprocess.Popen([str(planner), "solve", str(path), "--time-limit", str(limit), "--out", str(out)], stdout=stdout, stderr=stderr)
        # this command's own resource use (wait4), not every child's of this process so far
        _, status, usage = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        stderr.seek(0)
        errors = stderr.read()[-2000:]
    # ru_maxrss: the largest process the command ran, itself or a Dask worker, and a worker
    # started from it reports at least the size the command had then; worker_peak_mb below is
    # the worker's own
    peak = usage.ru_maxrss
    kpis = {}
    if (out / "kpis.csv").exists():
        with open(out / "kpis.csv") as f:
            kpis = {row["kpi"]: row["value"] for row in csv.DictReader(f)}
    written = all((out / name).exists() for name in ("orders.csv", "kpis.csv", "report.html", "plan.xlsx"))
    return {"size": size, "limit": limit, "wall": wall, "exit": os.waitstatus_to_exitcode(status), "written": written,
            "peak_mb": peak / 1024, "kpis": kpis, "stderr": errors}


def _num(kpis: dict, key: str) -> float | None:
    try:
        return float(kpis[key])
    except (KeyError, TypeError, ValueError):
        return None


def table(results: list[dict]) -> str:
    lines = header("The whole command", f"python -m benchmarks.command {' '.join(sys.argv[1:]).replace('--write', '').strip()}".strip()) + [
        "`planner solve INSTANCE --time-limit T --out DIR` as a planner runs it, from the start of the process to its exit with plan, "
        "report and workbook written (instances as in RESULTS.md; the route is the command's default). Phases in seconds from the plan's "
        "kpis.csv: the polish is part of the search's time; what is not listed is reading the files, the report's charts and the "
        "workbook. Peak MB: the command's process (its largest Dask worker's own in brackets).",
        "",
        "| size | limit s | wall s | within limit + 10 % | route | build | heuristic | hand-off | search | polish | extract | verify | profit | bound | gap | passes (MIP) | peak MB |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        k = r["kpis"]
        if r["exit"] != 0 or not k:
            lines.append(f"| {r['size']} ({SIZES[r['size']]:,}) | {r['limit']:g} | {r['wall']:.1f} | – | exit {r['exit']} | | | | | | | | | | | | |")
            continue
        ph = [_num(k, key) for key in PHASES]
        profit, bound, gap = _num(k, "profit"), _num(k, "best_bound"), _num(k, "mip_gap")
        route = "decomposed" if k.get("decomposition_blocks") else "monolithic"
        passes = f"{int(float(k['lagrangian_iterations']))} ({int(float(k['lagrangian_mip_iterations']))})" if k.get("lagrangian_iterations") else "–"
        worker = _num(k, "worker_peak_mb")
        peak = (f"{r['peak_mb']:,.0f}" if r["peak_mb"] else "–") + (f" ({worker:,.0f})" if worker else "")
        held = "yes" if r["wall"] <= 1.1 * r["limit"] and r["written"] else "no"
        lines.append(
            f"| {r['size']} ({SIZES[r['size']]:,}{', ' + str(SUPPLIERS[r['size']]) + ' suppliers' if r['size'] in SUPPLIERS else ''}) | {r['limit']:g} | "
            f"{r['wall']:.1f} | {held} | {route} | " + " | ".join("–" if v is None else f"{v:.1f}" for v in ph)
            + f" | {profit:,.0f} | " + ("–" if bound is None else f"{bound:,.0f}") + " | " + ("–" if gap is None else f"{gap:.2%}")
            + f" | {passes} | {peak} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", nargs="+", default=["L", "XL"], choices=list(SIZES))
    ap.add_argument("--time-limit", type=float, default=None, help="override the per-size limits (seconds)")
    ap.add_argument("--write", action="store_true", help="rewrite benchmarks/COMMAND.md with this run")
    args = ap.parse_args()
    root = Path(tempfile.mkdtemp(prefix="planner-command-"))
    results = []
    for size in args.sizes:
        instance_dir(size, root)  # written before the command starts: not part of its time
        limit = args.time_limit or LIMITS[size]
        print(f"== {size}: planner solve --time-limit {limit:g}", flush=True)
        r = run(size, root, limit)
        print({key: v for key, v in r.items() if key != "kpis"}, flush=True)
        results.append(r)
    md = table(results)
    print(md)
    if args.write:
        (HERE / "COMMAND.md").write_text(md)


if __name__ == "__main__":
    main()
