"""Analyses a run can ask for instead of a single plan (run option ``analysis``), run in the solve process.

Each returns the plan a report is made from and the analysis tables (JSON records);
all the work is done by :mod:`planner.insight`.
"""

from __future__ import annotations

import json
from typing import Any

from planner.insight import apply_scenario, compare_plans, frontier, shadow_prices, tier_reasons, value_of_integration
from planner.loading import tables_from_mapping
from planner.run import solve_instance
from planner.validation import validate


def _records(df) -> list[dict]:
    return json.loads(df.to_json(orient="records", double_precision=10))


def run_analysis(analysis: dict[str, Any], inst, raw: dict, opts, model_options, models_dirs):
    kind = analysis["kind"]
    if kind == "value_of_integration":
        v = value_of_integration(inst, opts, model_options, models_dirs)
        tables = {"kpis": _records(v.kpis), "segments": _records(v.segments)}
        tables.update({f"plan_{name}_status": [{"status": p.status}] for name, p in v.plans.items()})
        return v.plans["integrated"], tables
    if kind == "frontier":
        front = frontier(inst, analysis.get("floors"), opts, model_options, models_dirs)
        plan = solve_instance(inst, opts, model_options, models_dirs, explain=False)
        return plan, {"frontier": _records(front)}
    if kind == "scenario":
        base = solve_instance(inst, opts, model_options, models_dirs, explain=False)
        changed = validate(apply_scenario(tables_from_mapping(raw), inst.periods, analysis.get("changes", [])))
        if not changed.ok:
            raise ValueError("the scenario's data is invalid: " + "; ".join(str(p) for p in changed.errors[:10]))
        other = solve_instance(changed.instance, opts, model_options, models_dirs)
        tables: dict[str, Any] = {"base_kpis": [{"kpi": k, "value": v} for k, v in base.kpis.items() if not isinstance(v, str) or k == "status"]}
        if base.tables and other.tables:
            tables.update({f"diff_{k}": _records(df) for k, df in compare_plans(base.tables, other.tables, base.kpis, other.kpis).items()})
        return other, tables
    if kind == "explain":
        plan = solve_instance(inst, opts, model_options, models_dirs)
        if not plan.tables:
            return plan, {}
        return plan, {"shadow_prices": _records(shadow_prices(inst, plan.tables, model_options, models_dirs)),
                      "tier_reasons": _records(tier_reasons(inst, plan, opts, model_options, models_dirs))}
    raise ValueError(f"unknown analysis {kind!r}")
