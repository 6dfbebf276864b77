"""Scale of ``planner prepare``: a million order lines and 5,000 products to a planning instance.

    python -m benchmarks.prepare_scale            # about 2 minutes, most of it generating the data
    python -m benchmarks.prepare_scale --write    # also rewrite benchmarks/PREPARE.md

The supply side is a seeded 5,000-product instance (``planner generate``), the history a seeded
year of orders (``planner generate-orders``) for enough customers to reach a million lines.
Both are written as CSV files first (not timed); then ``planner prepare`` runs in a child
process of its own, so that its peak memory is its own, and reports the time of each stage.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.machine import machine
from instances.generator import generate, write_instance
from instances.order_history import generate_for_instance, write_orders
from planner import jobs
from planner.contract.crm import ServeRates, read_crm
from planner.contract.loading import read_tables
from planner.report.files import write_result

HERE = Path(__file__).resolve().parent


def stages(crm: Path, scm: Path, out: Path) -> dict:
    """planner prepare's work, stage by stage, as the command line does it (run in the child)."""
    seconds: dict[str, float] = {}
    t = time.perf_counter()
    data = read_crm(crm / "order_lines.csv", crm / "customers.csv")
    seconds["read and check the CRM exports"] = time.perf_counter() - t
    t = time.perf_counter()
    supply = read_tables(scm)
    seconds["read the supply side"] = time.perf_counter() - t
    request = jobs.JobRequest(kind="prepare", crm=data, rates=ServeRates(**json.loads((crm / "rates.json").read_text())), scm=supply)
    t = time.perf_counter()
    assert not jobs.check(request)
    seconds["check the supply side and products"] = time.perf_counter() - t
    t = time.perf_counter()
    result = jobs.run(request)
    seconds["derive and validate the instance"] = time.perf_counter() - t
    t = time.perf_counter()
    write_result(out, None, result)
    seconds["write instance and derivation report"] = time.perf_counter() - t
    return {"seconds": seconds, "lines": len(data.order_lines), "customers": len(data.customers),
            "series": len(result.tables["demand_forecasts"]), "demand_rows": len(result.tables["instance/demand"]),
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--products", type=int, default=5000)
    ap.add_argument("--customers", type=int, default=16500)  # about 1,000,000 order lines: the target
    ap.add_argument("--write", action="store_true")
    ap.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(stages(*(Path(p) for p in args.child))))
        return
    root = Path(tempfile.mkdtemp(prefix="planner-prepare-"))
    t = time.perf_counter()
    write_instance(generate(products=args.products, suppliers=10, seed=1), root / "scm")
    write_orders(generate_for_instance(root / "scm", customers=args.customers, seed=1), root / "crm")
    print(f"data generated in {time.perf_counter() - t:.0f} s (not part of the figures)", flush=True)
    child = subprocess.run([sys.executable, "-m", "benchmarks.prepare_scale", "--child", str(root / "crm"), str(root / "scm"), str(root / "out")],
                           capture_output=True, text=True, check=True)
    r = json.loads(child.stdout.strip().splitlines()[-1])
    total = sum(r["seconds"].values())
    lines = [
        "# planner prepare at scale",
        "",
        f"Latest run: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, `python -m benchmarks.prepare_scale`; machine: {machine()}.",
        f"{r['lines']:,} order lines of {r['customers']:,} customers, {args.products:,} products (seeded generators); "
        f"{r['series']:,} demand series forecast, {r['demand_rows']:,} demand rows written. One process; peak memory is its own.",
        "",
        "| stage | seconds |",
        "|---|---|",
        *[f"| {name} | {s:.1f} |" for name, s in r["seconds"].items()],
        f"| **total** | **{total:.1f}** |",
        "",
        f"Peak memory: {r['peak_mb']:,.0f} MB.",
    ]
    md = "\n".join(lines) + "\n"
    print(md)
    if args.write:
        (HERE / "PREPARE.md").write_text(md)


if __name__ == "__main__":
    main()
