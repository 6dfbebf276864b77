"""What a job writes into an output folder (``--out``): plans, analysis tables, the report.

=======================  =================================================================
job                      files
=======================  =================================================================
solve (explain,          the plan (CSV, plan.xlsx, plan.json, manifest.json), report.html,
frontier)                its PNG charts, report.xlsx, profitability.csv, and a CSV per
                         analysis table (shadow_prices, tier_reasons, frontier); without a
                         plan, kpis.csv and plan.json (with what had to give)
value_of_integration     one plan folder per way of planning (crm_led, scm_led, integrated),
                         the comparison tables, and the integrated plan's report
frontier                 frontier.csv and frontier.png
scenario                 the base plan and the scenario's plan in folders of their own, and
                         the differences (diff_*.csv)
diff                     the differences (diff_*.csv)
customers                customer_profitability.csv, whale_curve.csv and .png, segments.csv,
                         customers.csv and customer_products.csv (planning contract),
                         customer_segments.csv, segment_summary.csv,
                         demand.csv and demand_forecasts.csv
prepare                  the planning instance (one CSV per table), and in derivation/ how it was
                         derived: report.html, derivation.xlsx and its tables as CSV
=======================  =================================================================
"""

from __future__ import annotations

from pathlib import Path

from planner.contract.instance import Instance
from planner.contract.results import Result
from planner.report import figures
from planner.report.derivation import write_derivation
from planner.report.html import write_report


def write_result(out: str | Path, inst: Instance | None, result: Result, scenario_name: str = "scenario") -> Path:
    """Write ``result`` into the folder ``out`` (created), as the table above says."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    plan = result.plan
    if result.kind == "prepare":
        for name, df in result.tables.items():
            if name.startswith("instance/"):
                df.to_csv(out / f"{name.removeprefix('instance/')}.csv", index=False)
        write_derivation(out / "derivation", result.tables)
        return out
    if result.kind == "customers":
        for name, df in result.tables.items():
            df.to_csv(out / f"{name}.csv", index=False)
        (out / "whale_curve.png").write_bytes(figures.png(figures.whale(result.tables["whale_curve"])))
        return out
    if result.kind == "frontier":
        result.tables["frontier"].to_csv(out / "frontier.csv", index=False)
        (out / "frontier.png").write_bytes(figures.png(figures.frontier(result.tables["frontier"])))
        return out
    for name, df in result.tables.items():
        df.to_csv(out / f"{name}.csv", index=False)
    if result.kind == "diff":
        return out
    if result.kind == "scenario":
        result.plans["base"].write(out / "base")
        plan.write(out / scenario_name)
        return out
    if result.kind == "value_of_integration":
        for name, p in {**result.plans, "integrated": plan}.items():
            if p.has_plan:
                p.write(out / name)
    else:
        plan.write(out)
    if plan.has_plan and inst is not None:
        write_report(out, inst, plan, {name: df for name, df in result.tables.items() if name != "value_of_integration_segments"})
    return out
