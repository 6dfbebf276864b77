"""Orchestration: instance -> build -> solve -> extract -> verify -> plan.

The one function the CLI (and later the API) calls. Every plan it returns has
passed the independent verifier; a plan that fails it comes back with status
``error`` and the violations as messages, never as a plan.
"""

from __future__ import annotations

import time
from dataclasses import replace
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, Callable, Hashable

from planner.instance import Instance
from planner.plan import Plan, extract, plan_kpis
from planner.solver import SolveOptions, Status, solve_model
from planner.verify import verify_plan


def _versions() -> dict[str, str]:
    out = {}
    for pkg in ("planner", "pyomo", "highspy"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:  # running from a source tree
            out[pkg] = "unknown"
    return out


def product_blocks(inst: Instance) -> Callable[[Any], Hashable | None]:
    """The product a model variable belongs to (the first product id in its index), or None
    for variables shared by all products (tiers, supplier use): fix-and-optimise's blocks."""
    products = set(inst.product_ids)

    def block(v) -> Hashable | None:
        index = v.index()
        for e in index if isinstance(index, tuple) else (index,):
            if e in products:
                return e
        return None

    return block


def solve_instance(
    inst: Instance,
    options: SolveOptions | None = None,
    model_options: dict[str, Any] | None = None,
    models_dirs: list[str | Path] | None = None,
    explain: bool = True,
) -> Plan:
    """Plan one validated instance. Outcomes are statuses, not exceptions.

    ``model_options`` selects constraint families and their parameters
    (``{"constraints": {...}}``, see ``models/registry.py``); ``models_dirs`` adds
    folders of user families. Wrong options raise :class:`models.OptionsError`
    before anything is built or solved. An infeasible run is explained (``explain``):
    the plan's ``explanation`` names the requirements that had to give.
    """
    from models import build_model, select, tidy_solution  # imported here: Pyomo's import is slow and `validate` does not need it
    from pyomo.common.gc_manager import PauseGC

    options = options or SolveOptions()
    if options.blocks is None:
        options = replace(options, blocks=product_blocks(inst))
    families = select(model_options, models_dirs)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    m = build_model(inst, families)
    timings["build_seconds"] = time.perf_counter() - t0
    start_profit = None
    if options.start:
        from planner.start import construct_start

        ts = time.perf_counter()
        start_profit = construct_start(m, inst).profit
        timings["start_seconds"] = time.perf_counter() - ts
    result = solve_model(m, options)
    if "start_lp" in result.timings:  # the heuristic plan's continuous decisions (an LP)
        timings["start_seconds"] = timings.get("start_seconds", 0.0) + result.timings["start_lp"]
    timings["handoff_seconds"] = result.timings.get("handoff", 0.0)
    timings["solve_seconds"] = result.timings.get("solve", 0.0) + result.timings.get("polish", 0.0)
    timings["polish_seconds"] = result.timings.get("polish")
    if "first_plan" in result.timings:
        timings["first_plan_seconds"] = result.timings["first_plan"]
    echo = {"time_limit": options.time_limit, "mip_gap": options.mip_gap, "model": model_options or {}, "families": [f.name for f, _ in families]}
    base = {
        "start_profit": start_profit,
        "heuristic_plan_used": result.plan_source in ("heuristic", "fix_and_optimise"),
        "plan_source": result.plan_source or None,
        "improve_seconds": result.timings.get("improve"),
        "improve_blocks": result.timings.get("improve_blocks"),
        "mip_gap": result.gap,
        "best_bound": result.bound,
        **{f"model_{k}": v for k, v in result.size.items()},
        "input_hash": inst.input_hash,
        **{f"version_{k}": v for k, v in _versions().items()},
    }
    if not result.status.has_plan:
        plan = Plan(
            status=result.status.value,
            kpis={"status": result.status.value, "profit": None, **base, **timings},
            messages=[result.message],
            options=echo,
        )
        if result.status == Status.INFEASIBLE and explain:
            from planner.diagnose import explain_infeasibility

            plan.explanation = explain_infeasibility(inst, model_options, models_dirs, time_limit=options.time_limit or 60.0)
            plan.messages.append("what would have to give: " + plan.explanation["message"])
        return plan

    t1 = time.perf_counter()
    with PauseGC():  # many small objects and no garbage: see models.build_model
        tidy_solution(m, families)
        tables = extract(m, inst)
        kpis = plan_kpis(m, inst, tables)
    if result.bound is not None and kpis["profit"] is not None:  # the gap of the plan as reported
        base["mip_gap"] = max(0.0, result.bound - kpis["profit"]) / max(abs(kpis["profit"]), 1e-9)
    timings["extract_seconds"] = time.perf_counter() - t1 + result.timings.get("load_values", 0.0)  # with the values written back into the model
    t2 = time.perf_counter()
    with PauseGC():
        check = verify_plan(inst, tables, kpis, families)
    timings["verify_seconds"] = time.perf_counter() - t2
    status = result.status
    messages = [result.message] if result.message else []
    if status == Status.FEASIBLE and not result.message:
        messages.append(f"stopped by {result.highs_status.lower()} with a plan; gap to the best bound {result.gap:.4%}" if result.gap is not None else "stopped with a plan")
    if not check.ok:
        status = Status.ERROR
        messages.append(f"the verifier rejected the plan: {len(check.violations)} violation(s)")
        messages.extend(str(v) for v in check.violations[:50])
    return Plan(status=status.value, kpis={"status": status.value, **kpis, **base, **timings}, tables=tables, messages=messages, options=echo)
