"""Solve-performance benchmark: the planner's routes and the plain route, side by side, in one run.

    python -m benchmarks.run                  # every size at its limit in LIMITS, every route
    python -m benchmarks.run --sizes S M --time-limit 30
    python -m benchmarks.run --sizes XL --routes decomposed decomposed-2w
    python -m benchmarks.run --write          # also rewrite benchmarks/RESULTS.md

Instances are fixed seeded generator instances (13 weeks, 4 segments, 10
suppliers, 3 tiers): S = 50 products, M = 200, L = 1,000, XL = 5,000; XXL = 20,000 with 20
suppliers, only when asked for (``--sizes XXL``).

- **monolithic**: ``planner.jobs.pipeline.plan_instance`` with the whole model handed to HiGHS
  — Pyomo model from ``models/``, construction heuristic, hand-off through Pyomo's
  standard-form compiler into highspy arrays, HiGHS beside fix-and-optimise, polish LP,
  extraction, independent verifier.
- **decomposed**: the same, with the decomposed route (``planner.solve.decompose``): the
  Lagrangian bound from the blocks on a local Dask cluster of one worker process, beside
  fix-and-optimise; **decomposed-2w**: the same on two worker processes.
- **plain**: the same Pyomo model solved by ``SolverFactory('highs')`` with default options
  (except the time limit) and no start.

Each (size, route) runs in its own process so peak memory is its own (the Dask workers'
memory is reported apart). Printed per run: size, seconds per phase, time to the first
feasible plan, profit and gap at 10 s, 60 s and the end, peak memory; then the ratios, the
scaling from one worker to two and a projection to more workers from the measured times.
"""

from __future__ import annotations

import argparse
import importlib
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from pyomo.contrib.solver.common.factory import SolverFactory

from benchmarks.machine import machine
from instances.benchmarks import read_cap
from instances.generator import generate, write_instance
from models import build_model, select
from planner.contract.loading import read_tables
from planner.contract.validation import validate
from planner.jobs.pipeline import plan_instance
from planner.solve.highs import SolveOptions

SIZES = {"S": 50, "M": 200, "L": 1000, "XL": 5000, "XXL": 20000}
SUPPLIERS = {"XXL": 20}  # suppliers of a size (10 otherwise)
DEFAULT_SIZES = ["S", "M", "L", "XL"]  # XXL only when asked for: 15 minutes a route
#: The planner's routes: SolveOptions for each.
ROUTES = {
    "monolithic": {"route": "monolithic"},
    "decomposed": {"route": "decompose", "workers": 1},
    "decomposed-2w": {"route": "decompose", "workers": 2},
}
DECOMPOSITION = ("decomposition_blocks", "linking_rows", "decomposition_workers", "lagrangian_iterations", "lagrangian_mip_iterations",
                 "block_mip_seconds", "block_lp_seconds", "multiplier_bytes", "calls_per_iteration", "cluster_seconds",
                 "worker_peak_mb")
LIMITS = {"S": 60.0, "M": 60.0, "L": 60.0, "XL": 300.0, "XXL": 900.0}
HERE = Path(__file__).resolve().parent


def instance_dir(size: str, root: Path) -> Path:
    path = root / f"bench-{size}"
    if not (path / "demand.csv").exists():
        write_instance(generate(products=SIZES[size], segments=4, suppliers=SUPPLIERS.get(size, 10), periods=13, seed=2026), path)
    return path


def _sample(trace: list[tuple[float, float | None, float | None]], at: float) -> tuple[float | None, float | None]:
    """(profit, gap) of the best plan known at ``at`` seconds of search."""
    best = (None, None)
    for t, inc, gap in trace:
        if t <= at and inc is not None:
            best = (inc, gap)
    return best


def _source(r: dict) -> str:
    """Where the returned plan came from, when not from HiGHS's own search."""
    return {"heuristic": " (heuristic plan)", "fix_and_optimise": " (fix-and-optimise)"}.get(r.get("plan_source") or "", "")


def run_planner(path: Path, limit: float, route: str = "monolithic") -> dict:
    t0 = time.perf_counter()
    report = validate(read_tables(path))
    load = time.perf_counter() - t0
    trace: list[tuple[float, float | None, float | None]] = []
    plan = plan_instance(report.instance, SolveOptions(time_limit=limit, progress=lambda p: trace.append((p.elapsed, p.incumbent, p.gap)),
                                                       progress_interval=0.5, **ROUTES[route]))
    k = plan.kpis
    start = k.get("start_profit")
    if start is not None:
        trace.insert(0, (0.0, start, None))  # the heuristic plan exists before the search starts
    end = (k.get("profit"), k.get("mip_gap"))
    return {
        "status": plan.status,
        "rows": k.get("model_rows"), "columns": k.get("model_columns"), "binaries": k.get("model_binaries"),
        "load": load, "build": k.get("build_seconds"), "start": k.get("start_seconds"), "handoff": k.get("handoff_seconds"),
        "solve": k.get("solve_seconds"), "extract": k.get("extract_seconds"), "verify": k.get("verify_seconds"),
        "first_plan": 0.0 if start is not None else k.get("first_plan_seconds"),
        "at10": _sample(trace, 10), "at60": _sample(trace, 60), "end": end,
        "heuristic_plan_used": k.get("heuristic_plan_used"),
        "plan_source": k.get("plan_source"),
        "messages": [] if plan.status in ("optimal", "feasible") else plan.messages[:10],  # why there is no plan
        "message": plan.messages[0] if plan.messages else "",
        "bound": k.get("best_bound"),
        **{key: k.get(key) for key in DECOMPOSITION if key in k},
    }


def run_plain(path: Path, limit: float) -> dict:
    t0 = time.perf_counter()
    inst = validate(read_tables(path)).instance
    load = time.perf_counter() - t0
    t1 = time.perf_counter()
    m = build_model(inst, select())
    build = time.perf_counter() - t1
    solver = SolverFactory("highs")  # what pyo.SolverFactory("highs") wraps: Pyomo's highspy interface
    t2 = time.perf_counter()
    try:
        res = solver.solve(m, time_limit=limit, load_solutions=False, raise_exception_on_nonoptimal_result=False)
        tc = str(res.termination_condition).split(".")[-1]
        profit = res.incumbent_objective
        bound = res.objective_bound
        gap = abs(bound - profit) / max(abs(profit), 1e-9) if profit is not None and bound is not None and abs(bound) < 1e50 else None
    except Exception as exc:  # report what the plain route gave, whatever it was
        tc, profit, gap = f"error: {type(exc).__name__}: {exc}", None, None
    wall = time.perf_counter() - t2
    return {"status": tc, "load": load, "build": build, "handoff+solve": wall, "end": (profit, gap)}


def run_cap() -> list[dict]:
    """OR-Library capacitated facility location through the planner route: optimum and solve seconds."""
    data = HERE.parent / "tests" / "data" / "orlib_cap"
    rows = []
    for name, file, optimum in pd.read_csv(data / "optima.csv")[["instance", "file", "optimum"]].itertuples(index=False):
        inst = validate(read_cap(data / file)).instance
        plan = plan_instance(inst, SolveOptions(mip_gap=1e-9))
        cost = -plan.kpis["profit"] if plan.kpis.get("profit") is not None else None
        rows.append({"instance": name, "optimum": optimum, "cost": cost, "status": plan.status,
                     "match": cost is not None and abs(cost - optimum) <= 1e-3, "solve": plan.kpis.get("solve_seconds")})
    return rows


def _fmt_cost(v: float | None) -> str:
    return "–" if v is None else f"{v:,.3f}"


def cap_table(rows: list[dict]) -> list[str]:
    slow = [r for r in rows if (r["solve"] or 0) > 1.0]
    lines = ["", "## OR-Library capacitated facility location (cap41–cap134) through the planner route", "",
             f"{sum(r['match'] for r in rows)} of {len(rows)} reach the published optimum; solve seconds: max {max(r['solve'] for r in rows):.2f}, "
             f"median {sorted(r['solve'] for r in rows)[len(rows) // 2]:.2f}; over 1 s: {', '.join(r['instance'] for r in slow) or 'none'}.", "",
             "| instance | published optimum | planner cost | solve s |", "|---|---|---|---|"]
    lines += [f"| {r['instance']} | {r['optimum']:,.3f} | {_fmt_cost(r['cost'])} | {r['solve']:.2f} |" for r in rows]
    return lines


def child(size: str, route: str, root: str, limit: float) -> None:
    path = instance_dir(size, Path(root))
    out = run_planner(path, limit, route) if route in ROUTES else run_plain(path, limit)
    out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("RESULT " + json.dumps(out, default=str))


def _fmt(v, money=False) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:,.0f}" if money else f"{v:.2f}"
    return str(v)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", nargs="+", default=DEFAULT_SIZES, choices=list(SIZES))
    ap.add_argument("--time-limit", type=float, default=None, help="override the per-size limits (seconds)")
    ap.add_argument("--routes", nargs="+", default=[*ROUTES, "plain"], choices=[*ROUTES, "plain"])
    ap.add_argument("--write", action="store_true", help="rewrite benchmarks/RESULTS.md with this run")
    ap.add_argument("--no-cap", action="store_true", help="skip the OR-Library facility-location instances")
    ap.add_argument("--sync-readme", action="store_true", help="only copy the tables of benchmarks/RESULTS.md into the README")
    ap.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.sync_readme:
        sync_readme((HERE / "RESULTS.md").read_text())
        return
    if args.child:
        size, route, root = args.child
        child(size, route, root, args.time_limit or LIMITS[size])
        return
    root = Path(tempfile.mkdtemp(prefix="planner-bench-"))
    results: dict[tuple[str, str], dict] = {}
    for size in args.sizes:
        instance_dir(size, root)  # written once, before the runs, so that no run's wall time holds it
        for route in args.routes:
            limit = args.time_limit or LIMITS[size]
            print(f"== {size} ({SIZES[size]} products), {route} route, time limit {limit:g}s", flush=True)
            t = time.perf_counter()
            p = subprocess.run([sys.executable, "-m", "benchmarks.run", "--child", size, route, str(root), "--time-limit", str(limit)],
                               capture_output=True, text=True, cwd=HERE.parent)
            line = next((ln for ln in p.stdout.splitlines() if ln.startswith("RESULT ")), None)
            if line is None:
                print(p.stdout[-2000:], p.stderr[-3000:])
                results[(size, route)] = {"status": f"crashed (exit {p.returncode})"}
                continue
            r = json.loads(line[7:])
            r["wall"] = time.perf_counter() - t
            results[(size, route)] = r
            print(json.dumps(r), flush=True)
    cap = None
    if not args.no_cap:
        print("== OR-Library cap41-cap134, planner route", flush=True)
        cap = run_cap()
    one = next((r for (size, route), r in results.items() if route == "decomposed" and r.get("linking_rows")), None)
    round_trip = measure_round_trip(one["linking_rows"]) if one else None
    md = table(results, args, cap, round_trip)
    print(md)
    if args.write:
        (HERE / "RESULTS.md").write_text(md)
        sync_readme(md)


README_START, README_END = "<!-- benchmark tables: start -->", "<!-- benchmark tables: end -->"


def readme_block(results_md: str) -> str:
    """The README's copy of the result tables (the facility-location section as its summary line)."""
    body = results_md.split("\n## ", 1)[1] if "\n## " in results_md else results_md
    cap = body.find("\n## OR-Library")
    if cap >= 0:
        summary = next((ln for ln in body[cap:].splitlines() if " reach the published optimum" in ln), "")
        body = body[:cap].rstrip() + "\n\nOR-Library capacitated facility location cap41–cap134 through the planner: " + summary
    return "### " + body.strip().replace("\n## ", "\n### ")


def sync_readme(results_md: str) -> None:
    """Copy the result tables into the README between its two markers, so the two never disagree."""
    readme = HERE.parent / "README.md"
    text = readme.read_text()
    if README_START not in text or README_END not in text:
        return
    a, b = text.index(README_START) + len(README_START), text.index(README_END)
    readme.write_text(text[:a] + "\n\n" + readme_block(results_md) + "\n\n" + text[b:])


def table(results, args, cap: list[dict] | None = None, round_trip: float | None = None) -> str:
    lines = [
        "# Benchmark results",
        "",
        f"Latest run: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, `python -m benchmarks.run {' '.join(sys.argv[1:]).replace('--write', '').strip()}`.",
        f"Machine: {machine()}.",
        "Instances: seeded generator (seed 2026), 13 weeks, 4 segments, 10 suppliers, 3 tiers. Money in the instance's currency; profit is the objective (higher is better); gap = (bound - profit) / profit.",
        "",
        "## Planner routes",
        "",
        "monolithic: the whole model to HiGHS, beside fix-and-optimise; decomposed: the Lagrangian bound from the blocks on a local Dask cluster of 1 (or 2: -2w) worker processes, beside fix-and-optimise. "
        "Wall: the whole run in its process (reading the files to the verified plan). Peak MB: the solving process (the largest Dask worker's own in brackets, `worker_peak_mb`).",
        "",
        "| size | route | rows / columns / binaries | load+validate s | build s | heuristic s | hand-off s | solve s | extract s | verify s | wall s | profit @10 s (gap) | profit @60 s (gap) | profit at end (gap) | status | peak MB |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]

    def pg(pair):
        p, g = pair if pair else (None, None)
        return "–" if p is None else f"{p:,.0f} ({'–' if g is None else f'{g:.2%}'})"

    planner_routes = [r for r in ROUTES if r in args.routes]
    for size in args.sizes:
        for route in planner_routes:
            r = results.get((size, route))
            if not r or "rows" not in r:
                if r:
                    lines.append(f"| {size} ({SIZES[size]}) | {route} | | | | | | | | | | | | | {r.get('status')} | |")
                continue
            workers = f" ({r['worker_peak_mb']:,.0f})" if r.get("worker_peak_mb") else ""
            lines.append(
                f"| {size} ({SIZES[size]}) | {route} | {r['rows']:,} / {r['columns']:,} / {r['binaries']:,} | {_fmt(r['load'])} | {_fmt(r['build'])} | {_fmt(r['start'])} | {_fmt(r['handoff'])} | {_fmt(r['solve'])} | {_fmt(r['extract'])} | {_fmt(r['verify'])} | {_fmt(r.get('wall'))} | {pg(r['at10'])} | {pg(r['at60'])} | {pg(r['end'])} | {r['status']}{_source(r)} | {r['peak_mb']:,.0f}{workers} |"
            )
    lines += decomposition_tables(results, args, round_trip)
    lines += ["", "## Plain route (same model, `SolverFactory('highs')`, default options, no start)", "",
              "| size | load+validate s | build s | hand-off + solve s | profit at end (gap) | termination | peak MB | best planner route / plain profit |",
              "|---|---|---|---|---|---|---|---|"]
    for size in args.sizes:
        r = results.get((size, "plain"))
        if not r or "load" not in r:
            continue
        best = max((q["end"][0] for route in planner_routes if (q := results.get((size, route))) and q.get("end") and q["end"][0]), default=None)
        ratio = "–" if best is None or not r["end"][0] else f"{best / r['end'][0]:.3f}"
        if not r["end"][0]:
            ratio = "plain found no plan"
        lines.append(f"| {size} ({SIZES[size]}) | {_fmt(r['load'])} | {_fmt(r['build'])} | {_fmt(r['handoff+solve'])} | {pg(r['end'])} | {r['status']} | {r['peak_mb']:,.0f} | {ratio} |")
    if cap:
        lines += cap_table(cap)
    return "\n".join(lines) + "\n"


#: Worker counts the projection is made for.
PROJECT_TO = (8, 32, 128)


def decomposition_tables(results, args, round_trip: float | None) -> list[str]:
    """The decomposed runs' own figures; the scaling from one worker to two; a projection."""
    runs = [(size, route, r) for size in args.sizes for route in ROUTES
            if (r := results.get((size, route))) and r.get("decomposition_blocks")]
    if not runs:
        return []
    lines = ["", "## Decomposition", "",
             "Per run: blocks and linking rows, passes over the blocks for the Lagrangian bound (of them with the blocks as MIPs, a pass finished as LPs at the deadline included), "
             "wall seconds per block on the busiest worker, multipliers sent and round trips per pass, and the seconds to start the cluster and send the blocks.", "",
             "| size | route | blocks | linking rows | workers | passes (MIP) | s per block, MIP | s per block, LP | bytes sent per pass | round trips per pass | cluster start s |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for size, route, r in runs:
        lines.append(f"| {size} | {route} | {r['decomposition_blocks']:,} | {r['linking_rows']:,} | {r['decomposition_workers']} | {r['lagrangian_iterations']} ({r['lagrangian_mip_iterations']}) | "
                     f"{r['block_mip_seconds']:.4f} | {r['block_lp_seconds']:.4f} | {r['multiplier_bytes']:,.0f} | {r['calls_per_iteration']:.0f} | {r['cluster_seconds']:.2f} |")
    scaled = [size for size in args.sizes if all((results.get((size, r)) or {}).get("decomposition_blocks") for r in ("decomposed", "decomposed-2w"))]
    for size in scaled:
        one, two = results[(size, "decomposed")], results[(size, "decomposed-2w")]
        b = one["decomposition_blocks"]
        pass1, pass2 = one["block_mip_seconds"] * b, two["block_mip_seconds"] * -(-b // 2)
        lines += ["", f"### Scaling at {size}: one worker process to two, on this machine", "",
                  f"Seconds per pass of the blocks as MIPs: {pass1:.1f} on one worker, {pass2:.1f} on two: a speed-up of **{pass1 / pass2:.2f}**. "
                  f"passes with the blocks as MIPs: {one['lagrangian_mip_iterations']} and {two['lagrangian_mip_iterations']}; gap at the end: "
                  f"{_pct(one['end'][1])} and {_pct(two['end'][1])}. The machine has 2 cores, and the solving process runs fix-and-optimise beside the workers, "
                  "so two workers share the cores with it."]
        if size == scaled[-1]:  # the largest size measured: the one that needs more workers
            lines += projection(one, round_trip)
    return lines


def _pct(v: float | None) -> str:
    return "–" if v is None else f"{v:.2%}"


def projection(one: dict, round_trip: float | None) -> list[str]:
    """A pass of the blocks as MIPs on W workers, projected from the one-worker run: each worker's
    share of the blocks at the measured seconds per block, in chunks of CHUNK_SECONDS of work, each
    chunk a round trip at the measured latency, carrying the linking rows' multipliers (8 bytes
    each); every block's copy multipliers travel once per pass."""
    if round_trip is None:
        return []
    chunk = importlib.import_module("planner.solve.decompose").CHUNK_SECONDS
    b, s, n = one["decomposition_blocks"], one["block_mip_seconds"], one["linking_rows"]
    pi_bytes = 8 * n
    copies = max(0.0, one["multiplier_bytes"] - one["calls_per_iteration"] * pi_bytes)
    lines = ["", "### Projection to more workers (a projection, not a measurement)", "",
             f"From the one-worker run: {b:,} blocks at {s:.4f} s each as MIPs; {n:,} linking-row multipliers ({pi_bytes:,} bytes) with every call and "
             f"{copies:,.0f} bytes of copy multipliers per pass; a round trip to a Dask actor measured at {round_trip * 1000:.1f} ms on this machine "
             "(a network adds its own latency). It assumes one core per worker and the blocks dealt evenly.", "",
             "| workers | blocks per worker | compute s per MIP pass | round trips per worker | communication s | bytes per pass | MIP passes per 100 s |",
             "|---|---|---|---|---|---|---|"]
    for w in PROJECT_TO:
        per = -(-b // w)
        compute = per * s
        trips = max(1, int(np.ceil(compute / chunk)))
        comm = trips * round_trip
        sent = w * trips * pi_bytes + copies
        lines.append(f"| {w} | {per:,} | {compute:.2f} | {trips} | {comm:.2f} | {sent:,.0f} | {100 / (compute + comm):.0f} |")
    return lines


def measure_round_trip(n_links: int, repeat: int = 50) -> float:
    """Seconds per call to a Dask actor holding no blocks, with a multiplier vector of ``n_links``."""
    dec = importlib.import_module("planner.solve.decompose")
    pool, close = dec.dask_pool([], n_links, workers=1)
    try:
        pi = np.zeros(n_links)
        pool.members[0].solve(pi, {}, False, 1.0, (0, 0)).result()
        t = time.perf_counter()
        for _ in range(repeat):
            pool.members[0].solve(pi, {}, False, 1.0, (0, 0)).result()
        return (time.perf_counter() - t) / repeat
    finally:
        close()


if __name__ == "__main__":
    main()
