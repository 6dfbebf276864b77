"""Hand a Pyomo model to HiGHS (embedded through highspy) and read the outcome back.

The hand-off compiles the model once with Pyomo's ``LinearStandardFormCompiler``
into sparse arrays and passes them to highspy in one call, instead of iterating
constraints in Python. The outcome is a value (:class:`SolveResult`), never an
exception: a time limit with no plan, an infeasible model and a solver failure
are statuses.

After a MIP solve with a plan, the integer decisions are fixed at their rounded
values and the remaining LP is solved again ("polish"): the plan then satisfies
every row to LP tolerances rather than MIP integrality tolerances (no order of
0.3 units hiding behind an order indicator of 1e-7), and its objective is
recomputed exactly for those decisions.
"""

from __future__ import annotations

import enum
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Hashable

import highspy
import numpy as np
import pyomo.environ as pyo

from planner.improve import improve
from planner.standard_form import StandardForm, compile_model, new_highs

log = logging.getLogger(__name__)


class Status(str, enum.Enum):
    OPTIMAL = "optimal"  # proven optimal within the MIP gap asked for
    FEASIBLE = "feasible"  # a plan, stopped by a time limit or interrupt before the gap was closed
    INFEASIBLE = "infeasible"
    NO_SOLUTION_FOUND = "no_solution_found"  # stopped before any feasible plan was found
    ERROR = "error"

    @property
    def has_plan(self) -> bool:
        return self in (Status.OPTIMAL, Status.FEASIBLE)


@dataclass
class Progress:
    elapsed: float
    incumbent: float | None
    bound: float | None
    gap: float | None


@dataclass
class SolveOptions:
    time_limit: float | None = None  # seconds for the solve: search, then the LP that polishes the plan
    mip_gap: float = 1e-3  # relative gap at which HiGHS stops (0.1 % of profit)
    threads: int | None = None
    log: bool = False  # HiGHS's own log on stdout
    progress: Callable[[Progress], None] | None = None
    progress_interval: float = 1.0  # seconds between progress reports
    should_stop: Callable[[], bool] | None = None  # polled during the search (cancel)
    start: bool = True  # the variables' current values are a heuristic plan: keep it as the fallback plan
    # Fix-and-optimise (planner/improve.py) beside HiGHS on large models: ``blocks`` maps a
    # variable to its block (the product it belongs to; None = shared by all products).
    blocks: Callable[[object], Hashable | None] | None = None
    improve: bool = True
    # Measured (60 s, generated weekly runs): 200 products / 7.5k binaries HiGHS alone is optimal
    # in 38 s and fix-and-optimise beside it only slows it; 300 / 11k: same plan either way;
    # 500 / 18k: gap 0.9 % with it, 3.0 % without (HiGHS finds nothing better than the heuristic).
    improve_min_binaries: int = 10000
    highs_options: dict[str, object] | None = None  # None: LARGE_MODEL_OPTIONS from improve_min_binaries on


# Measured on the benchmark's L instance (152k rows, 36k binaries; benchmarks/RESULTS.md):
# HiGHS presolve's dual fixing takes 7 of its 12 s and removes nothing more (same presolved
# size without it); switched off, HiGHS reaches the root LP bound 6 s earlier. Its feasibility
# jump heuristic runs for 5 s before the root LP and found no plan in 95 s at L (fix-and-
# optimise gives the plans there); switched off, the root LP bound comes 5 s earlier again.
LARGE_MODEL_OPTIONS: dict[str, object] = {
    "presolve_rule_off": 1 << 17,  # bit 17: dual fixing
    "mip_heuristic_run_feasibility_jump": False,
}


@dataclass
class SolveResult:
    status: Status
    objective: float | None = None
    bound: float | None = None
    gap: float | None = None
    message: str = ""
    timings: dict[str, float] = field(default_factory=dict)
    size: dict[str, int] = field(default_factory=dict)
    highs_status: str = ""
    plan_source: str = ""  # "highs", "heuristic" or "fix_and_optimise"


def _gap(obj: float | None, bound: float | None) -> float | None:
    if obj is None or bound is None or not np.isfinite(bound):
        return None
    return abs(bound - obj) / max(abs(obj), 1e-9) if abs(bound - obj) > 1e-9 else 0.0


def solve_model(m: pyo.ConcreteModel, options: SolveOptions | None = None) -> SolveResult:
    """Solve ``m`` with HiGHS; load the plan into the Pyomo variables when there is one."""
    options = options or SolveOptions()
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    sf, standard, sign = compile_model(m)  # HiGHS minimises; the model's objective is sign * HiGHS's
    cols = sf.columns
    n, nrows = len(cols), len(sf.rows)
    A, c, is_int = standard.A, standard.c, standard.is_int

    h = new_highs()
    h.setOptionValue("output_flag", bool(options.log))
    h.setOptionValue("mip_rel_gap", float(options.mip_gap))
    large = int(is_int.sum()) >= options.improve_min_binaries
    highs_options = options.highs_options if options.highs_options is not None else LARGE_MODEL_OPTIONS if large else {}
    for key, value in highs_options.items():
        if key != "threads":  # set below, with HiGHS's thread pool
            h.setOptionValue(key, value)
    h.passModel(standard.highs_lp())  # HiGHS keeps its own copy
    size = {"rows": nrows, "columns": n, "binaries": int(is_int.sum()), "nonzeros": int(A.nnz)}
    # A heuristic plan in the variables' values becomes a plan of its own: its integer
    # decisions with the best continuous ones (an LP). It is not handed to HiGHS with
    # setSolution: HiGHS 1.16 can misjudge a start's objective in its presolved space (an
    # objective offset left out) and stop at it as "optimal" — seen on OR-Library cap61 and
    # cap113 (cf. HiGHS issue #2439). It is the fallback plan, and fix-and-optimise's start.
    timings["handoff"] = time.perf_counter() - t0
    own: tuple[np.ndarray, float] | None = None  # (x, HiGHS objective) of the best plan found outside HiGHS
    if options.start and n and is_int.any() and all(v.value is not None for v in cols if v.is_integer()):
        start_ints = np.array([round(float(v.value)) for v, i in zip(cols, is_int) if i])
        ts = time.perf_counter()
        fixed = standard.fixed_lp(start_ints)
        # only the plan is kept: the HiGHS that solved its LP would hold a copy of the whole
        # model (and its factorisation) through the search
        own = fixed[:2] if fixed is not None else None
        del fixed
        timings["start_lp"] = time.perf_counter() - ts
    # The time limit covers the search and the polish LP after it (the same LP as the
    # start's, so its time is known): the search gets what is left of it.
    search_limit = highs_limit = None
    if options.time_limit is not None:
        reserve = min(2.0 * timings.get("start_lp", 0.0), 0.2 * options.time_limit)
        search_limit = highs_limit = max(options.time_limit - reserve, 0.0)
    source = "heuristic"
    improving = (
        own is not None
        and options.improve
        and options.blocks is not None
        and large
        and (search_limit is None or search_limit > 1.0)
    )
    # HiGHS keeps one pool of worker threads per process, sized by the first MIP that runs
    # (a later run asking for another size fails): a run that sets its threads makes the
    # pool again, and the next run after it gets a pool of the default size.
    # Beside fix-and-optimise HiGHS gets one thread, fix-and-optimise the other core.
    # Measured at L (60 s, 2 cores): with 2 threads HiGHS shared the cores with fix-and-
    # optimise and did not finish its first round of root cuts (gap 2.2 %); with 1, it
    # finished one to three rounds in ten runs (gap 1.0-1.4 %), three in seven runs on a
    # quieter day (gap 0.93-0.96 %). Making the pool again is
    # safe here: no other HiGHS runs in this process meanwhile (the service solves each
    # run in a process of its own; fix-and-optimise's sub-MIPs start after this).
    threads = options.threads or highs_options.get("threads") or (1 if improving else None)
    if threads:
        h.setOptionValue("threads", int(threads))
        highspy.Highs.resetGlobalScheduler(True)
    if improving and search_limit is not None:
        # On a large model HiGHS may be inside a round of root cuts for seconds before it looks
        # at the clock or calls back again (measured at L on one thread: 4-10 s late, in cut
        # separation); it is asked to stop earlier, and fix-and-optimise goes on to the end.
        highs_limit = search_limit - min(0.1 * search_limit, 6.0)
    if highs_limit is not None:
        h.setOptionValue("time_limit", float(highs_limit))

    last = [0.0]
    first_plan: list[float] = []
    searching = [True]  # the callbacks only act on the MIP search, not on the LPs after it
    best_own = [own[1] if own is not None else np.inf]  # shared with the progress report
    highs_best = [np.inf, -np.inf]  # HiGHS's primal and dual bound, as last seen
    report_lock = threading.Lock()  # progress comes from HiGHS's thread and from fix-and-optimise's

    def report(now: float, elapsed: float) -> None:
        if options.progress is None:
            return
        with report_lock:
            if now - last[0] < options.progress_interval:
                return
            last[0] = now
            primal, dual = min(highs_best[0], best_own[0]), highs_best[1]
            inc = sign * primal if abs(primal) < 1e50 else None
            bnd = sign * dual if abs(dual) < 1e50 else None
            options.progress(Progress(elapsed, inc, bnd, _gap(inc, bnd)))

    def on_interrupt(e):
        if not searching[0]:
            return
        now = time.perf_counter()
        if options.should_stop is not None and options.should_stop():
            e.interrupt()
        # HiGHS checks its own time limit only between rounds of root cuts (seconds apart
        # on large models); the interrupt callback stops it on time.
        if highs_limit is not None and e.data_out.running_time > highs_limit:
            e.interrupt()
        out = e.data_out
        highs_best[:] = [out.mip_primal_bound, out.mip_dual_bound]
        report(now, out.running_time)

    def on_solution(e):
        if not first_plan:
            first_plan.append(e.data_out.running_time)

    if options.progress is not None or options.should_stop is not None or options.time_limit is not None:
        h.cbMipInterrupt.subscribe(on_interrupt)
        h.cbSimplexInterrupt.subscribe(on_interrupt)
    if is_int.any():
        h.cbMipImprovingSolution.subscribe(on_solution)

    t1 = time.perf_counter()
    if improving:
        # HiGHS searches (and proves a bound) in a thread of its own — it releases the GIL —
        # while this thread improves the heuristic plan block by block.
        search = threading.Thread(target=h.run, name="highs-search", daemon=True)
        search.start()
        budget = np.inf if search_limit is None else search_limit - (time.perf_counter() - t1)
        user_stop = options.should_stop

        def on_improved(_elapsed: float, objective: float) -> None:
            best_own[0] = objective
            report(time.perf_counter(), time.perf_counter() - t1)

        def out_of_time() -> bool:
            return highs_limit is not None and time.perf_counter() - t1 >= highs_limit

        block_of = [options.blocks(v) for v in cols]
        ti = time.perf_counter()
        try:
            fo = improve(
                standard, own[0], block_of, budget,
                # HiGHS done before its limit means it closed the gap: nothing left to improve
                should_stop=lambda: (not search.is_alive() and not out_of_time()) or (user_stop is not None and user_stop()),
                on_improved=on_improved,
            )
        except Exception:  # an extra: a failure in it must not cost the run HiGHS's search
            log.exception("fix-and-optimise failed; HiGHS's search goes on alone")
            fo = None
        timings["improve"] = time.perf_counter() - ti
        if fo is not None:
            timings["improve_blocks"] = float(fo.blocks_solved)
            timings["improve_blocks_better"] = float(fo.blocks_improved)
            if fo.objective < own[1] - 1e-9 * max(1.0, abs(own[1])):
                own, source = (fo.x, fo.objective), "fix_and_optimise"
        search.join()
    else:
        h.run()
    if threads:
        highspy.Highs.resetGlobalScheduler(True)
    timings["solve"] = time.perf_counter() - t1
    searching[0] = False
    for cb in (h.cbMipInterrupt, h.cbSimplexInterrupt, h.cbMipImprovingSolution):
        if cb.callbacks:
            cb.clear()  # an interrupt flag set during the search must not stop the LPs after it
    if first_plan:
        timings["first_plan"] = first_plan[0]
    model_status = h.getModelStatus()
    info = h.getInfo()
    has_solution = info.primal_solution_status == 2
    # what the search found
    mip_x = np.array(h.getSolution().col_value) if has_solution and n else np.zeros(n)
    mip_obj = info.objective_function_value
    mip_bound = info.mip_dual_bound
    MS = highspy.HighsModelStatus
    if model_status == MS.kOptimal:
        status = Status.OPTIMAL
    elif model_status == MS.kModelEmpty:
        status = Status.OPTIMAL
    elif model_status in (MS.kInfeasible, MS.kUnboundedOrInfeasible):
        status = Status.INFEASIBLE
    elif model_status in (MS.kTimeLimit, MS.kIterationLimit, MS.kSolutionLimit, MS.kInterrupt, MS.kObjectiveBound, MS.kObjectiveTarget, MS.kMemoryLimit):
        status = Status.FEASIBLE if has_solution else Status.NO_SOLUTION_FOUND
        if model_status == MS.kInterrupt and options.time_limit is not None and not (options.should_stop and options.should_stop()):
            model_status = MS.kTimeLimit  # our callback enforced the time limit
    else:
        status = Status.ERROR
    result = SolveResult(status=status, timings=timings, size=size, highs_status=h.modelStatusToString(model_status))
    if status == Status.ERROR:
        result.message = f"HiGHS ended with model status {result.highs_status}"
        return result
    if status == Status.INFEASIBLE:
        result.message = "no plan satisfies every constraint"
        return result
    use_own = own is not None and (not has_solution or own[1] < mip_obj - 1e-9 * max(1.0, abs(own[1])))
    if status == Status.NO_SOLUTION_FOUND and not use_own:
        result.message = f"HiGHS stopped ({result.highs_status}) before finding a feasible plan"
        return result
    result.plan_source = source if use_own else "highs"

    if n == 0:
        x = np.zeros(0)
        result.objective = sign * standard.offset
        result.bound = sign * standard.offset
        result.gap = 0.0
    else:
        x = own[0] if use_own else mip_x
        ref = own[1] if use_own else mip_obj
        result.bound = sign * (mip_bound if is_int.any() else mip_obj)
        if abs(result.bound) > 1e50:
            result.bound = None
        duals_from = None if is_int.any() else h
        if is_int.any():
            h.clearModel()  # the search is done: its copy of the model goes before the polish LP makes another
            t2 = time.perf_counter()
            x, duals_from = _polish(standard, x, ref)
            timings["polish"] = time.perf_counter() - t2
        dual = getattr(m, "dual", None)
        if isinstance(dual, pyo.Suffix) and duals_from is not None:
            # duals of the LP with the integer decisions fixed: d profit / d right-hand side
            row_dual = sign * np.array(duals_from.getSolution().row_dual)
            for (con, _), d in zip(sf.rows, row_dual):
                dual[con] = float(d)
        result.objective = sign * float(c @ x + standard.offset)
        if not is_int.any():
            result.bound = result.objective
        result.gap = _gap(result.objective, result.bound)
    if use_own and status != Status.OPTIMAL:
        status = result.status = Status.FEASIBLE
        how = "the heuristic plan, improved by fix-and-optimise," if source == "fix_and_optimise" else "the heuristic plan"
        result.message = f"HiGHS stopped ({result.highs_status}) without a better plan: {how} is returned"
    tl = time.perf_counter()
    _load(m, sf, cols, x)
    timings["load_values"] = time.perf_counter() - tl  # reported with the extraction
    return result


def _load(m: pyo.ConcreteModel, sf, cols, x: np.ndarray) -> None:
    for v, val in zip(cols, x):
        v.set_value(float(val), skip_validation=True)
    for v, expr in sf.eliminated_vars:
        v.set_value(pyo.value(expr), skip_validation=True)
    # Variables in no row and with no cost (e.g. an unused supplier without fixed cost)
    # never reach HiGHS; any value in their bounds is optimal: take the lower one.
    for v in m.component_data_objects(pyo.Var, active=True):
        if v.value is None:
            v.set_value(v.lb if v.lb is not None else 0.0, skip_validation=True)


def _polish(sf: StandardForm, x: np.ndarray, ref_obj: float) -> tuple[np.ndarray, highspy.Highs | None]:
    """Fix the integer columns at their rounded values and re-solve the LP for the rest.

    Returns the solution and the HiGHS of the fixed LP when its optimum is kept (its
    duals are then valid); otherwise ``x`` with integers rounded and None — when the
    fixed LP has no optimum or is worse than ``ref_obj`` (HiGHS always minimises here).
    """
    vals = np.round(x[sf.is_int])
    fixed = sf.fixed_lp(vals)
    if fixed is not None and fixed[1] <= ref_obj + 1e-6 * max(1, abs(ref_obj)):
        return fixed[0], fixed[2]
    x = x.copy()
    x[sf.is_int] = vals
    return x, None
