"""The work after the search, against the hand-off: what ``planner solve --time-limit`` keeps back.

    python -m benchmarks.after_search                  # 400 products, L and XL
    python -m benchmarks.after_search --write          # also rewrite benchmarks/AFTER_SEARCH.md

A deadline (``planner solve --time-limit``) ends the search early enough for the work after it:
polishing, extracting and verifying the plan, then writing its files, report, charts and
workbooks. ``planner.solve.highs.after_search_seconds`` keeps back a figure per column plus a
fixed one, scaled up by how much slower than the measuring machine's the hand-off (compiling the
model) was: it grows with the model and slows with the machine as the work after the search does. This measures both in one
process, as ``planner solve`` does them: the hand-off, the polish, extract and verify phases, and
``write_result`` into a fresh folder, with a short search (the plan's size, not its quality,
sets the work after it).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.machine import header
from benchmarks.run import SIZES, SUPPLIERS
from instances.generator import generate
from planner import jobs
from planner.contract.loading import tables_from_mapping
from planner.contract.validation import validate
from planner.report.files import write_result
from planner.solve.highs import AFTER_SEARCH, AFTER_SEARCH_FIXED, HANDOFF_PER_COLUMN, after_search_seconds

HERE = Path(__file__).resolve().parent
PRODUCTS = {"400": 400, "L": SIZES["L"], "XL": SIZES["XL"]}


def measure(label: str, search_seconds: float = 10.0) -> dict:
    tables = generate(products=PRODUCTS[label], segments=4, suppliers=SUPPLIERS.get(label, 10), periods=13, seed=2026)
    inst = validate(tables_from_mapping({k: v.to_dict(orient="records") for k, v in tables.items()})).instance
    result = jobs.run(jobs.JobRequest(kind="solve", instance=inst, time_limit=search_seconds, mip_gap=0.0))
    k = result.plan.kpis
    with tempfile.TemporaryDirectory() as out:
        t = time.perf_counter()
        write_result(out, inst, result)
        write = time.perf_counter() - t
    after = (k.get("polish_seconds") or 0.0) + k["extract_seconds"] + k["verify_seconds"] + write
    return {"label": label, "products": PRODUCTS[label], "columns": int(k["model_columns"]), "handoff": k["handoff_seconds"],
            "polish": k.get("polish_seconds") or 0.0, "extract": k["extract_seconds"], "verify": k["verify_seconds"], "write": write,
            "after": after, "handoff_per_column": k["handoff_seconds"] / k["model_columns"],
            "kept": after_search_seconds(int(k["model_columns"]), k["handoff_seconds"])}


def table(rows: list[dict]) -> str:
    lines = header("The work after the search", "python -m benchmarks.after_search") + [
        "Seconds, one run each, in one process as `planner solve` does them (seed 2026, 13 weeks, 4 segments, 10 suppliers). "
        "After the search: the polish LP, extracting and verifying the plan, and writing its files, report, charts and "
        "workbooks. Kept back: what a deadline keeps from the search for it "
        f"(`after_search_seconds`: {AFTER_SEARCH:g} s per column + {AFTER_SEARCH_FIXED:g} s, times the hand-off's "
        f"seconds per column over {HANDOFF_PER_COLUMN:g} where that is more than 1).",
        "",
        "| products | columns | hand-off | hand-off per column | polish | extract | verify | write | after the search | kept back |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(f"| {r['products']:,} | {r['columns']:,} | {r['handoff']:.2f} | {r['handoff_per_column']:.1e} | {r['polish']:.2f} | "
                     f"{r['extract']:.2f} | {r['verify']:.2f} | {r['write']:.2f} | {r['after']:.2f} | {r['kept']:.1f} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", nargs="+", default=list(PRODUCTS), choices=list(PRODUCTS))
    ap.add_argument("--write", action="store_true", help="rewrite benchmarks/AFTER_SEARCH.md with this run")
    args = ap.parse_args()
    rows = []
    for label in args.sizes:
        print(f"== {PRODUCTS[label]} products", flush=True)
        rows.append(measure(label))
    md = table(rows)
    print(md)
    if args.write:
        (HERE / "AFTER_SEARCH.md").write_text(md)


if __name__ == "__main__":
    sys.exit(main())
