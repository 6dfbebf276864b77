"""Layer 7, jobs: one entry point for every kind of work.

``run(JobRequest(kind=..., instance=..., ...))`` performs a job and returns a
:class:`~planner.contract.results.Result`; ``check(request)`` lists everything
wrong with a request before anything is solved. The faces — the CLI's commands,
the service's solve process — parse their input into a :class:`JobRequest`,
call these two, and render the result; no face holds a workflow of its own.

=======================  =================================================================
kind                     what it does
=======================  =================================================================
``solve``                one verified plan (``explain``: with shadow prices and tier
                         reasons; ``frontier``: with the profit/service frontier)
``explain``              ``solve`` with ``explain``
``frontier``             the plan and the profit/service frontier around it (``floors``)
``value_of_integration`` the plan made CRM-led, SCM-led and integrated, compared
``scenario``             the base plan and the plan of the instance with ``changes``, compared
``diff``                 what changed between two plans (``base``, ``other``)
``verify``               the independent verifier on a plan (``base``) made for ``instance``
=======================  =================================================================
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pandas as pd

from models import Family, registry, select
from planner.analysis.compare import compare_plans
from planner.analysis.customers import (
    customer_profitability,
    unit_costs,
    unknown_products,
    whale_curve,
)
from planner.analysis.forecast import REVIEW_WEEKS, engine_problem, forecast_demand
from planner.analysis.frontier import frontier
from planner.analysis.integration import value_of_integration
from planner.analysis.reasons import tier_reasons
from planner.analysis.scenario import apply_scenario
from planner.analysis.segments import (
    DEFAULT_CUTOFFS,
    abc_classes,
    customer_products,
    kept_classes,
    segment_tables,
)
from planner.analysis.tiers import tier_menus
from planner.contract.crm import (
    SCM_TABLES,
    CrmData,
    ServeRates,
    iso_week,
    planning_weeks,
    scm_problems,
    scm_terms,
)
from planner.contract.instance import Instance
from planner.contract.loading import tables_from_mapping
from planner.contract.problems import Problem, ProblemsError
from planner.contract.results import Plan, Result, records
from planner.contract.validation import validate
from planner.jobs.pipeline import plan_instance
from planner.solve.duals import shadow_prices
from planner.solve.highs import ROUTES, Progress, SolveOptions
from planner.verify import verify_plan

KINDS = ("solve", "explain", "frontier", "value_of_integration", "scenario", "diff", "verify", "customers", "prepare")


@dataclass
class JobRequest:
    """One piece of work, as a face parsed it."""

    kind: str = "solve"
    instance: Instance | None = None  # validated (every kind but diff)
    time_limit: float | None = None  # seconds per solve
    mip_gap: float = 1e-3
    threads: int | None = None
    route: str = "auto"  # "auto", "monolithic" or "decompose" (planner.solve.highs.SolveOptions.route)
    deadline: float | None = None  # solve: a time.monotonic() by which the whole command must end (the CLI's)
    dask_scheduler: str | None = None  # decomposed runs: the cluster for the blocks (None: a local one)
    workers: int = 1  # decomposed runs: worker processes of that local cluster
    log: bool = False  # HiGHS's own log on stdout
    model_options: dict[str, Any] | None = None  # {"constraints": {family: params or false}}
    models_dirs: list[Path] = field(default_factory=list)  # folders of user families
    explain: bool = False  # solve: add shadow prices and why each segment got its tier
    frontier: bool = False  # solve: add the profit/service frontier
    floors: list[float] | None = None  # frontier: overall fill-rate floors (default: steps up to 100 %)
    changes: list[dict[str, Any]] | None = None  # scenario: see planner.analysis.scenario
    base: Plan | None = None  # diff; verify: the plan to check
    other: Plan | None = None  # diff
    crm: CrmData | None = None  # customers: order lines and customer master, read and checked
    rates: ServeRates | None = None  # customers: activity costs of serving
    segmentation: str | pd.Series = "abc"  # customers: "abc" (by profit), "class" (the master's), or customer -> segment given
    cutoffs: tuple[float, ...] = DEFAULT_CUTOFFS  # customers: ABC cut-offs of cumulative profit
    scm: dict[str, list[dict[str, Any]]] | None = None  # prepare: the supply side's tables as read (products, suppliers, ...)
    horizon_weeks: int = 13  # prepare: weeks to plan
    start_week: str | None = None  # prepare: the first week's ISO label (default: the week after the history)
    forecaster: str = "core"  # customers, prepare: the forecasting engine (planner.analysis.forecast.ENGINES)
    progress: Callable[[Progress], None] | None = None  # while HiGHS searches
    should_stop: Callable[[], bool] | None = None  # polled during the search (cancel)

    def solve_options(self) -> SolveOptions:
        return SolveOptions(time_limit=self.time_limit, mip_gap=self.mip_gap, threads=self.threads, log=self.log, route=self.route,
                            dask_scheduler=self.dask_scheduler, workers=self.workers, deadline=self.deadline,
                            progress=self.progress, should_stop=self.should_stop)


def check(request: JobRequest) -> list[Problem]:
    """Every problem of the request that can be found before a solve: the kind, the model
    options and family parameters, the frontier's floors, the scenario's changes (and the
    data they make). Without an instance (its data had errors) only what needs none."""
    if request.kind not in KINDS:
        return [Problem("error", "options", None, "kind", f"unknown job {request.kind!r} (known: {', '.join(KINDS)})")]
    if request.route not in ROUTES:
        return [Problem("error", "options", None, "route", f"unknown route {request.route!r} (known: {', '.join(ROUTES)})")]
    if request.kind == "diff":
        return [] if request.base is not None and request.other is not None else [Problem("error", "options", None, None, "diff needs two plans")]
    if request.kind == "prepare":
        if request.crm is None or request.scm is None:
            return [Problem("error", "options", None, None, "prepare needs the CRM exports and the supply side's tables")]
        problems = scm_problems(request.scm)
        if not problems:
            problems = unknown_products(request.crm, scm_terms(request.scm)[0], "order_lines")
        if request.start_week is not None:
            try:
                planning_weeks(request.start_week, 1)
            except (AttributeError, ValueError):  # no match, or no such week (2026-W60)
                problems.append(Problem("error", "options", None, "start", f"an ISO week such as 2026-W48 (got {request.start_week!r})"))
        return problems + _crm_problems(request)
    if request.kind == "customers":
        if request.crm is None or request.instance is None:
            return [Problem("error", "options", None, None, "customer profitability needs order lines, a customer master and the planning instance")]
        return unknown_products(request.crm, unit_costs(request.instance)) + _crm_problems(request)
    problems: list[Problem] = []
    if request.kind == "verify" and request.base is None:
        problems.append(Problem("error", "options", None, None, "verify needs a plan"))
    try:
        chosen = select(request.model_options, request.models_dirs)
    except ProblemsError as exc:
        problems += exc.problems
        chosen = []
    for fam, params in chosen if request.instance is not None else []:
        for where, message in fam.precheck(request.instance, params) if fam.precheck else []:
            problems.append(Problem("error", "options", None, f"constraints.{fam.name}.{where}", message))
    for i, f in enumerate(request.floors or [], start=1):
        if not (isinstance(f, (int, float)) and 0 <= f <= 1):
            problems.append(Problem("error", "options", i, "floors", f"not a fill rate between 0 and 1: {f!r}"))
    if request.kind == "scenario" and request.instance is not None:
        problems += scenario_instance(request.instance, request.changes)[1]
    return problems


def _crm_problems(request: JobRequest) -> list[Problem]:
    """What the CRM side's options ask for: how customers are segmented (abc with rising cut-offs,
    class, or an assignment given) and the forecasting engine."""
    problems = []
    if why := engine_problem(request.forecaster):
        problems.append(Problem("error", "options", None, "forecaster", why))
    if isinstance(request.segmentation, str) and request.segmentation not in ("abc", "class"):
        problems.append(Problem("error", "options", None, "segments", f"abc, class or a file of customer segments (got {request.segmentation!r})"))
    try:
        abc_classes(pd.DataFrame(columns=["customer", "profit", "rank"]), request.cutoffs)
    except ValueError as exc:
        problems.append(Problem("error", "options", None, "cutoffs", str(exc)))
    return problems


def scenario_instance(inst: Instance, changes: list[dict[str, Any]] | None) -> tuple[Instance | None, list[Problem]]:
    """The instance with a scenario's changes applied and validated, or the problems why not."""
    try:
        report = validate(apply_scenario(inst.to_json_dict(), inst.periods, changes or []))
    except (ValueError, KeyError, TypeError) as exc:
        return None, [Problem("error", "options", None, "changes", str(exc))]
    if not report.ok:
        return None, [Problem("error", p.table, p.row, p.column, f"after the scenario's changes: {p.message}") for p in report.errors]
    return report.instance, []


def run(request: JobRequest) -> Result:
    """Perform the job. A request with problems raises :class:`ProblemsError` before any solve;
    after that, outcomes (infeasible, no plan in time) are statuses in the result."""
    problems = check(request)
    if problems:
        raise ProblemsError(problems)
    if request.instance is None and request.kind not in ("diff", "prepare"):
        raise ValueError(f"a {request.kind} job needs a validated instance")
    return _RUNNERS[request.kind](request)


def _planner(request: JobRequest) -> Callable[[Instance, dict | None], Plan]:
    """The verified solve the analyses ask for their plans (no infeasibility explanation: the
    analyses report a plan's status)."""
    def plan(inst: Instance, model_options: dict | None) -> Plan:
        return plan_instance(inst, request.solve_options(), model_options, request.models_dirs, explain=False)

    return plan


def _solve(request: JobRequest) -> Result:
    inst = request.instance
    plan = plan_instance(inst, request.solve_options(), request.model_options, request.models_dirs)
    result = Result(kind="explain" if request.kind == "explain" else "solve", plan=plan)
    if not plan.has_plan:
        return result
    if request.explain or request.kind == "explain":
        result.tables["shadow_prices"] = shadow_prices(inst, plan.tables, request.model_options, request.models_dirs)
        result.tables["tier_reasons"] = tier_reasons(inst, plan, _planner(request), request.model_options)
    if request.frontier:
        result.tables["frontier"] = frontier(inst, plan, _planner(request), request.floors, request.model_options)
    return result


def _frontier(request: JobRequest) -> Result:
    base = plan_instance(request.instance, request.solve_options(), request.model_options, request.models_dirs, explain=False)
    front = frontier(request.instance, base, _planner(request), request.floors, request.model_options)
    return Result(kind="frontier", plan=base, tables={"frontier": front})


def _value_of_integration(request: JobRequest) -> Result:
    v = value_of_integration(request.instance, _planner(request), request.model_options)
    return Result(kind="value_of_integration", plan=v.plans["integrated"], plans={k: p for k, p in v.plans.items() if k != "integrated"},
                  tables={"value_of_integration": v.kpis, "value_of_integration_segments": v.segments})


def _scenario(request: JobRequest) -> Result:
    changed, problems = scenario_instance(request.instance, request.changes)
    if problems:
        raise ProblemsError(problems)
    plan = _planner(request)
    base = plan(request.instance, request.model_options)
    other = plan_instance(changed, request.solve_options(), request.model_options, request.models_dirs)
    result = Result(kind="scenario", plan=other, plans={"base": base})
    if base.has_plan and other.has_plan:
        diff = compare_plans(base.tables, other.tables, base.kpis, other.kpis)
        result.tables.update({f"diff_{name}": df for name, df in diff.items()})
    return result


def _diff(request: JobRequest) -> Result:
    a, b = request.base, request.other
    diff = compare_plans(a.tables, b.tables, a.kpis, b.kpis)
    return Result(kind="diff", tables={f"diff_{name}": df for name, df in diff.items()})


def _crm_side(request: JobRequest, costs: dict[str, float], fastest: dict[str, int], periods: list[str]) -> tuple[dict[str, pd.DataFrame], pd.Series]:
    """What the CRM history says: profit per customer, the whale curve, segments, and demand for
    ``periods`` with the error of its forecast; and each customer's segment."""
    profits = customer_profitability(request.crm, costs, request.rates or ServeRates())
    if isinstance(request.segmentation, pd.Series):
        segment_of = request.segmentation
    else:
        segment_of = kept_classes(request.crm) if request.segmentation == "class" else abc_classes(profits, request.cutoffs)
    forecasts = forecast_demand(request.crm.order_lines, segment_of, {p: int(L) + REVIEW_WEEKS for p, L in fastest.items()},
                                engine=request.forecaster)
    demand = pd.DataFrame([{"segment": r.segment, "product": r.product, "period": period, "quantity": round(r.forecast, 6),
                            "std": round(r.std, 6), "price": round(r.price, 6)} for r in forecasts.itertuples() for period in periods],
                          columns=["segment", "product", "period", "quantity", "std", "price"])
    tables = {"customer_profitability": profits, "whale_curve": whale_curve(profits), **segment_tables(profits, segment_of),
              "customer_products": customer_products(request.crm, segment_of), "demand": demand, "demand_forecasts": forecasts}
    return tables, segment_of


def _customers(request: JobRequest) -> Result:
    inst = request.instance
    fastest = inst.supplier_products.assign(lead=inst.supplier_products["supplier"].map(inst.lead_time)).groupby("product")["lead"].min()
    tables, _ = _crm_side(request, unit_costs(inst), fastest.to_dict(), inst.periods)
    return Result(kind="customers", tables=tables)


def _prepare(request: JobRequest) -> Result:
    """A full planning instance from CRM exports and the supply side's tables, validated, with
    the tables it was derived from."""
    costs, fastest = scm_terms(request.scm)
    history_end = pd.to_datetime(request.crm.order_lines["order_date"]).max()
    periods = planning_weeks(request.start_week or iso_week(history_end + pd.Timedelta(days=7)), request.horizon_weeks)
    tables, segment_of = _crm_side(request, costs, fastest, periods)
    first = pd.to_datetime(request.crm.order_lines["order_date"]).min()
    history_weeks = max(1.0, (history_end - first).days / 7 + 1)
    tiers, tier_values = tier_menus(tables["customer_profitability"], segment_of, history_weeks, request.horizon_weeks)
    raw = {name: rows for name, rows in request.scm.items() if name in SCM_TABLES}
    raw.update({"segments": records(tables["segments"]), "service_tiers": records(tiers), "demand": records(tables["demand"]),
                "customers": records(tables["customers"]), "customer_products": records(tables["customer_products"]),
                "periods": [{"period": p, "order": i + 1} for i, p in enumerate(periods)]})
    report = validate(tables_from_mapping(raw))
    if not report.ok:
        raise ProblemsError([Problem(p.severity, p.table, p.row, p.column, f"in the prepared instance: {p.message}") for p in report.errors])
    instance_tables = {name: pd.DataFrame(rows) for name, rows in raw.items()}
    derivation = {name: tables[name] for name in ("customer_profitability", "whale_curve", "customer_segments", "segment_summary", "demand_forecasts")}
    derivation["tier_values"] = tier_values
    result = Result(kind="prepare", tables={**{f"instance/{n}": df for n, df in instance_tables.items()}, **derivation})
    return result


def _verify(request: JobRequest) -> Result:
    plan = request.base
    check = verify_plan(request.instance, plan.tables, plan.kpis, select(request.model_options, request.models_dirs))
    violations = pd.DataFrame([v.to_dict() for v in check.violations], columns=["check", "where", "amount", "message"])
    terms = pd.DataFrame([*check.profit_terms.items(), ("profit", check.profit)], columns=["term", "value"])
    return Result(kind="verify", plan=plan, tables={"violations": violations, "profit_terms": terms})


def families(models_dirs: list[Path] | None = None) -> dict[str, Family]:
    """Every constraint family a run can use: built-in, and those in the user folders."""
    return registry(models_dirs)


_RUNNERS: dict[str, Callable[[JobRequest], Result]] = {
    "solve": _solve, "explain": _solve, "frontier": _frontier, "value_of_integration": _value_of_integration, "scenario": _scenario,
    "diff": _diff, "verify": _verify, "customers": _customers, "prepare": _prepare,
}

__all__ = ["KINDS", "JobRequest", "Progress", "check", "families", "run", "scenario_instance"]
