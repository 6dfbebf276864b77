"""One plan: instance -> build -> heuristic start -> solve -> extract -> verify.

Every plan this returns has passed the independent verifier; a plan that fails
it comes back with status ``error`` and the violations as messages, never as a
plan. Outcomes are statuses, not exceptions: only wrong run options (an
:class:`~planner.contract.problems.OptionsError`, before anything is solved)
raise.
"""

from __future__ import annotations

import time
from dataclasses import replace
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from models import build_model, select
from planner.contract.instance import Instance
from planner.contract.results import Plan
from planner.solve.diagnose import explain_infeasibility
from planner.solve.extract import read_solution
from planner.solve.highs import SolveOptions, SolveResult, Status, solve_model
from planner.solve.improve import product_blocks
from planner.solve.start import construct_start
from planner.verify import check_outcome, verify_plan


def versions() -> dict[str, str]:
    out = {}
    for pkg in ("planner", "pyomo", "highspy"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:  # running from a source tree
            out[pkg] = "unknown"
    return out


def plan_instance(
    inst: Instance,
    options: SolveOptions | None = None,
    model_options: dict[str, Any] | None = None,
    models_dirs: list[str | Path] | None = None,
    explain: bool = True,
) -> Plan:
    """Plan one validated instance.

    ``model_options`` selects constraint families and their parameters
    (``{"constraints": {...}}``, see ``models/registry.py``); ``models_dirs`` adds
    folders of user families. An infeasible run is explained (``explain``): the
    plan's ``explanation`` names the requirements that had to give.
    """
    options = options or SolveOptions()
    if options.blocks is None:
        options = replace(options, blocks=product_blocks(inst))
    families = select(model_options, models_dirs)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    m = build_model(inst, families)
    timings["build_seconds"] = time.perf_counter() - t0
    result = solve_model(m, options, heuristic=(lambda value: construct_start(m, inst, value).profit) if options.start else None)
    start_profit = result.start_profit
    _add_solve_timings(timings, result)
    echo = {"time_limit": options.time_limit, "mip_gap": options.mip_gap, "model": model_options or {}, "families": [f.name for f, _ in families]}
    kpis = _search_kpis(inst, result, start_profit)
    if not result.status.has_plan:
        plan = Plan(status=result.status.value, kpis={"status": result.status.value, "profit": None, **kpis, **timings},
                    messages=[result.message], options=echo)
        if result.status == Status.INFEASIBLE and explain:
            plan.explanation = explain_infeasibility(inst, model_options, models_dirs, time_limit=options.time_limit or 60.0)
            plan.messages.append("what would have to give: " + plan.explanation["message"])
        return plan
    return _verified_plan(m, inst, families, result, kpis, timings, echo)


def _add_solve_timings(timings: dict[str, float], result: SolveResult) -> None:
    """The solver's phases as the plan's *_seconds KPIs."""
    t = result.timings
    if "start" in t:
        timings["start_seconds"] = t["start"]
    if "start_lp" in t:  # the heuristic plan's continuous decisions (an LP) belong to the start
        timings["start_seconds"] = timings.get("start_seconds", 0.0) + t["start_lp"]
    timings.update(handoff_seconds=t.get("handoff", 0.0), solve_seconds=t.get("solve", 0.0) + t.get("polish", 0.0), polish_seconds=t.get("polish"))
    if "first_plan" in t:
        timings["first_plan_seconds"] = t["first_plan"]


def _search_kpis(inst: Instance, result: SolveResult, start_profit: float | None) -> dict[str, Any]:
    return {
        "start_profit": start_profit if result.start_plan else None,  # no fallback plan: nothing to report
        "heuristic_plan_used": result.start_plan and result.plan_source in ("heuristic", "fix_and_optimise"),
        "plan_source": result.plan_source or None,
        "improve_seconds": result.timings.get("improve"),
        "improve_blocks": result.timings.get("improve_blocks"),
        "mip_gap": result.gap,
        "best_bound": result.bound,
        **{f"model_{k}": v for k, v in result.size.items()},
        **result.decomposition,
        "input_hash": inst.input_hash,
        **{f"version_{k}": v for k, v in versions().items()},
    }


def _verified_plan(m, inst: Instance, families, result: SolveResult, kpis: dict, timings: dict, echo: dict) -> Plan:
    """The plan tables read from the solved model, checked by the verifier."""
    options_gap = echo["mip_gap"]
    t1 = time.perf_counter()
    tables, figures = read_solution(m, inst, families)
    solver_objective = result.objective_of() if result.objective_of is not None else result.objective
    if result.bound is not None and figures["profit"] is not None:  # the gap of the plan as reported
        kpis["mip_gap"] = max(0.0, result.bound - figures["profit"]) / max(abs(figures["profit"]), 1e-9)
    timings["extract_seconds"] = time.perf_counter() - t1 + result.timings.get("load_values", 0.0)  # with the values written back into the model
    t2 = time.perf_counter()
    check = verify_plan(inst, tables, figures, families)
    timings["verify_seconds"] = time.perf_counter() - t2
    status = result.status
    messages = [result.message] if result.message else []
    if status == Status.FEASIBLE and not result.message:
        messages.append(f"stopped by {result.highs_status.lower()} with a plan; gap to the best bound {result.gap:.4%}" if result.gap is not None else "stopped with a plan")
    if not check.ok:
        status = Status.ERROR
        messages.append(f"the verifier rejected the plan: {len(check.violations)} violation(s)")
        messages.extend(str(v) for v in check.violations[:50])
    scale = sum(abs(v) for v in check.profit_terms.values())
    wrong = check_outcome(status.value, figures["profit"], check.profit, solver_objective, result.bound, options_gap, scale)
    if wrong:
        status = Status.ERROR
        messages.append("the solve's outcome fails its self-checks: " + "; ".join(wrong))
    return Plan(status=status.value, kpis={"status": status.value, **figures, **kpis, **timings}, tables=tables, messages=messages, options=echo)
