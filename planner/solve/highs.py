"""Hand a Pyomo model to HiGHS (embedded through highspy) and read the outcome back.

The hand-off compiles the model once with Pyomo's ``LinearStandardFormCompiler``
into sparse arrays and passes them to highspy in one call, instead of iterating
constraints in Python. The outcome is a value (:class:`SolveResult`), never an
exception: a time limit with no plan, an infeasible model and a solver failure
are statuses.

One solve, in the order of this module: the model is compiled and HiGHS set up
(:func:`_setup`); the heuristic plan in the variables' values, if any, gets its
best continuous decisions (:func:`_start_plan`); HiGHS searches, on large
models beside fix-and-optimise (:class:`_Search`); the outcome is read, the
better plan chosen, its integer decisions fixed and the LP solved again
("polish": every row then holds to LP tolerances, no order of 0.3 units hides
behind an order indicator of 1e-7, and the objective is exact for those
decisions), and the values are written back into the model (:func:`_outcome`).
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import enum
import logging
import queue
import threading
import time
from dataclasses import dataclass, field, replace
from typing import Callable, Hashable

import highspy
import numpy as np
import pyomo.environ as pyo

from planner.solve.decompose import (DualProgress, NotDecomposable, PlanSeed, Pool, dask_pool, groups_of, lagrangian_dual,
                                     multipliers_from_duals, plan_from_blocks, split)
from planner.solve.improve import improve
from planner.solve.standard_form import StandardForm, compile_model, new_highs, objective_at_values

log = logging.getLogger(__name__)
MS = highspy.HighsModelStatus


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
    # Fix-and-optimise (planner/solve/improve.py) beside HiGHS on large models: ``blocks`` maps a
    # variable to its block (the product it belongs to; None = shared by all products).
    blocks: Callable[[object], Hashable | None] | None = None
    improve: bool = True
    # From this many binaries on, fix-and-optimise runs beside HiGHS (where it helps and where it
    # only slows HiGHS down was measured: README, "How a run is solved").
    improve_min_binaries: int = 10000
    highs_options: dict[str, object] | None = None  # None: LARGE_MODEL_OPTIONS from improve_min_binaries on
    # The route: "monolithic" (HiGHS on the whole model, beside fix-and-optimise), "decompose"
    # (planner/solve/decompose.py: a Lagrangian bound from the blocks, beside fix-and-optimise),
    # or "auto": decompose from ``decompose_min_binaries`` on (measured: README, "How a run is solved").
    route: str = "auto"
    # A time.monotonic() by which the whole command must have ended (``planner solve``): the search
    # then gets at most what is left once the work after it (AFTER_SEARCH) is set aside.
    deadline: float | None = None
    decompose_min_binaries: int = 100_000
    # "auto" also decomposes a large run (from ``improve_min_binaries``) whose search would get
    # fewer seconds than this per nonzero of the model: HiGHS would not finish its presolve and
    # root LP on the whole model in that time, and would prove no bound (measured: README,
    # "The decomposed route").
    decompose_below_seconds_per_nonzero: float = 6e-5
    # ... but not below this many seconds of search: the decomposed route's own start (a local
    # Dask cluster) and end take seconds, which a short run cannot spare (README, "The decomposed route").
    decompose_min_seconds: float = 20.0
    dask_scheduler: str | None = None  # a Dask cluster's address for the blocks; None: a local cluster
    workers: int = 1  # worker processes of that local cluster


#: HiGHS options for large models: presolve's dual fixing and the feasibility-jump heuristic
#: off (measured: README, "How a run is solved", item 6).
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
    start_plan: bool = False  # the heuristic's decisions made a plan (the fallback) before the search
    #: The objective HiGHS optimised (its arrays), evaluated at the model's variables as they are
    #: now: after a family's tidy, it says what the plan returned earns by the solver's own sums.
    objective_of: Callable[[], float] | None = None
    start_profit: float | None = None  # the heuristic's plan's profit, when solve_model ran one
    #: The decomposed route's figures (blocks, workers, passes, seconds per block, bytes sent):
    #: the plan's decomposition KPIs; empty for the monolithic route.
    decomposition: dict[str, float] = field(default_factory=dict)


def _gap(obj: float | None, bound: float | None) -> float | None:
    if obj is None or bound is None or not np.isfinite(bound):
        return None
    return abs(bound - obj) / max(abs(obj), 1e-9) if abs(bound - obj) > 1e-9 else 0.0


def solve_model(m: pyo.ConcreteModel, options: SolveOptions | None = None,
                heuristic: Callable[[Callable[[], float | None]], float | None] | None = None) -> SolveResult:
    """Solve ``m`` with HiGHS; load the plan into the Pyomo variables when there is one.

    ``heuristic`` sets a plan as the variables' values and returns its profit; it is given the
    model's objective at the variables' values, by the compiled costs (``objective_at_values``).
    It runs once the model is compiled: on the monolithic route while HiGHS searches the whole
    model, on the decomposed route while the blocks are split and sent to the workers."""
    options = options or SolveOptions()
    if options.route not in ROUTES:
        raise ValueError(f"route must be one of {ROUTES}, not {options.route!r}")
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    sf, standard, sign, h, large, decomposing = _setup(m, options)
    timings["handoff"] = time.perf_counter() - t0
    if decomposing:
        blocks = _Blocks(standard, sf.columns, options)
        try:
            start_profit, own, duals = _heuristic_plan(heuristic, sf, standard, sign, options, timings)
        except BaseException:
            blocks.discard()
            raise
        result = _decomposed(m, sf, standard, sign, own, _within_deadline(options, standard, timings), timings, blocks, duals)
    else:
        # HiGHS starts on the whole model at once (its presolve and root LP take tens of seconds
        # on large runs); the heuristic's plan, which HiGHS is not given (see _start_plan), is
        # made beside it and then improved by fix-and-optimise
        options = _within_deadline(options, standard, timings)
        search = _Search(h, standard, sign, options, large, timings, start_coming=heuristic is not None and options.start)
        search.start()
        try:
            start_profit, own, _ = _heuristic_plan(heuristic, sf, standard, sign, options, timings)
        except BaseException:
            search.abandon()
            raise
        search.finish(sf.columns, own)
        result = _outcome(m, sf, standard, sign, h, search, options, timings)
    result.start_profit = start_profit
    return result


def _heuristic_plan(heuristic, sf, standard: StandardForm, sign: float, options: SolveOptions,
                    timings: dict) -> tuple[float | None, tuple[np.ndarray, float] | None, np.ndarray | None]:
    """(the heuristic's profit, its plan completed by the LP as (x, HiGHS objective), that LP's row
    duals), None where there is none."""
    start_profit = None
    if heuristic is not None:
        ts = time.perf_counter()
        start_profit = heuristic(objective_at_values(sf.columns, standard, sign))
        timings["start"] = time.perf_counter() - ts
    fixed = _start_plan(standard, sf.columns, options, timings)
    return start_profit, (fixed[:2] if fixed is not None else None), (fixed[2] if fixed is not None else None)


ROUTES = ("auto", "monolithic", "decompose")

#: The work after the search — the polish LP, extracting the tables, verifying them, writing plan,
#: report, charts and workbooks — as seconds per model column plus seconds whatever the size: what
#: a deadline keeps back from the search, set from measurement at 400 to 5,000 products with a
#: margin over each (benchmarks/AFTER_SEARCH.md: measured and kept back side by side).
AFTER_SEARCH = 6e-5
AFTER_SEARCH_FIXED = 4.0
#: ... scaled by how much slower than this machine's the hand-off was (compiling the Pyomo model:
#: Python work that grows with the model as the work after the search does, and slows with the
#: machine as it does). HANDOFF_PER_COLUMN is the hand-off's pace on the machine the figures above
#: come from (benchmarks/AFTER_SEARCH.md); a hand-off under HANDOFF_NOMINAL_MIN is too short to
#: tell a machine's speed by.
HANDOFF_PER_COLUMN = 2e-5
HANDOFF_NOMINAL_MIN = 0.5


def after_search_seconds(columns: int, handoff: float) -> float:
    """What a deadline keeps back from the search for the work after it, for a model of
    ``columns`` columns whose hand-off took ``handoff`` seconds."""
    slower = max(1.0, handoff / max(HANDOFF_NOMINAL_MIN, HANDOFF_PER_COLUMN * columns))
    return (AFTER_SEARCH * columns + AFTER_SEARCH_FIXED) * slower


def _within_deadline(options: SolveOptions, standard: StandardForm, timings: dict) -> SolveOptions:
    """The options with the time limit (which covers the search and the polish LP) cut to what the
    deadline leaves: the time left, less the work after the solve."""
    if options.deadline is None:
        return options
    left = max(options.deadline - time.monotonic() - after_search_seconds(len(standard.c), timings.get("handoff", 0.0)), 1.0)
    timings["deadline_left"] = left
    return replace(options, time_limit=left if options.time_limit is None else min(options.time_limit, left))


def _too_short(options: SolveOptions, standard: StandardForm) -> bool:
    """A large run whose search (the time limit, or what the deadline leaves of it) is too short
    for HiGHS to finish its root LP on the whole model."""
    budget = _within_deadline(options, standard, {}).time_limit
    return (budget is not None and int(standard.is_int.sum()) >= options.improve_min_binaries
            and options.decompose_min_seconds <= budget < options.decompose_below_seconds_per_nonzero * standard.A.nnz)


def _setup(m: pyo.ConcreteModel, options: SolveOptions, compiled: tuple | None = None):
    """Compile the model (unless ``compiled``) and, unless the run is decomposed, hand it to a
    HiGHS set up with the run's options."""
    sf, standard, sign = compiled or compile_model(m)  # HiGHS minimises; the model's objective is sign * HiGHS's
    binaries = int(standard.is_int.sum())
    decomposing = options.blocks is not None and binaries > 0 and (
        options.route == "decompose" or (options.route == "auto" and (binaries >= options.decompose_min_binaries or _too_short(options, standard))))
    h = new_highs()
    h.setOptionValue("output_flag", bool(options.log))
    h.setOptionValue("mip_rel_gap", float(options.mip_gap))
    large = binaries >= options.improve_min_binaries
    for key, value in _highs_options(options, large).items():
        if key != "threads":  # set with HiGHS's thread pool, in _Search
            h.setOptionValue(key, value)
    if not decomposing:
        h.passModel(standard.highs_lp())  # HiGHS keeps its own copy
    return sf, standard, sign, h, large, decomposing


def _highs_options(options: SolveOptions, large: bool) -> dict[str, object]:
    return options.highs_options if options.highs_options is not None else LARGE_MODEL_OPTIONS if large else {}


def _start_plan(standard: StandardForm, cols, options: SolveOptions, timings: dict) -> tuple[np.ndarray, float, np.ndarray] | None:
    """A heuristic plan in the variables' values becomes a plan of its own: its integer decisions
    with the best continuous ones (an LP). (x, HiGHS objective, the LP's row duals), or None
    without one. The duals are where the decomposed route's multipliers start
    (``decompose.multipliers_from_duals``).

    It is not handed to HiGHS with setSolution: HiGHS 1.16 can misjudge a start's objective in
    its presolved space (an objective offset left out) and stop at it as "optimal" — seen on
    OR-Library cap61 and cap113 (cf. HiGHS issue #2439). It is the fallback plan, and
    fix-and-optimise's start."""
    is_int = standard.is_int
    if not (options.start and len(cols) and is_int.any() and all(v.value is not None for v in cols if v.is_integer())):
        return None
    start_ints = np.array([round(float(v.value)) for v, i in zip(cols, is_int) if i])
    ts = time.perf_counter()
    fixed = standard.fixed_lp(start_ints)
    timings["start_lp"] = time.perf_counter() - ts
    # only the plan and its duals are kept: the HiGHS that solved its LP would hold a copy of
    # the whole model (and its factorisation) through the search
    return (fixed[0], fixed[1], np.asarray(fixed[2].getSolution().row_dual)) if fixed is not None else None


class _Search:
    """HiGHS's search, with progress reports, cancel and the time limit. It starts before the
    heuristic's plan is made (``start``), and on large models fix-and-optimise improves that plan
    beside it (``finish``)."""

    def __init__(self, h: highspy.Highs, standard: StandardForm, sign: float, options: SolveOptions, large: bool,
                 timings: dict, start_coming: bool):
        self.h, self.standard, self.sign, self.options, self.timings = h, standard, sign, options, timings
        self.own: tuple[np.ndarray, float] | None = None  # (x, HiGHS objective) of the best plan found outside HiGHS
        self.source = "heuristic"
        self.improving = (
            start_coming and options.improve and options.blocks is not None and large
            and (options.time_limit is None or options.time_limit > 1.0)
        )
        self._limit(reserve=0.0)
        if self.highs_limit is not None:
            h.setOptionValue("time_limit", float(self.highs_limit))  # lowered for the callback once the start's LP is timed
        # HiGHS keeps one pool of worker threads per process, sized by the first MIP that runs
        # (a later run asking for another size fails): a run that sets its threads makes the
        # pool again, and the next run after it gets a pool of the default size. Making it
        # again is safe: it is done before the run's search starts, the run's other HiGHS
        # instances (the start's LP, fix-and-optimise's sub-MIPs) start after it, and the service
        # solves each run in a process of its own. Beside fix-and-optimise HiGHS gets one
        # thread, fix-and-optimise the other core (measured: README, "How a run is solved", item 3).
        self.threads = options.threads or _highs_options(options, large).get("threads") or (1 if self.improving else None)
        if self.threads:
            h.setOptionValue("threads", int(self.threads))
            highspy.Highs.resetGlobalScheduler(True)
        self._last_report = 0.0
        self.first_plan: float | None = None
        self.searching = True  # the callbacks only act on the MIP search, not on the LPs after it
        self._abandoned = False
        self.best_own = np.inf  # shared with the progress report
        self.highs_best = [np.inf, -np.inf]  # HiGHS's primal and dual bound, as last seen
        self._lock = threading.Lock()  # progress comes from HiGHS's thread and from fix-and-optimise's
        self._thread: threading.Thread | None = None
        self.t1 = 0.0

    def _limit(self, reserve: float) -> None:
        """The time limit covers the search and the polish LP after it (``reserve``: the same LP as
        the start's, so its time is known once the start is made): the search gets what is left."""
        self.search_limit = self.highs_limit = None
        if self.options.time_limit is not None:
            self.search_limit = self.highs_limit = max(self.options.time_limit - reserve, 0.0)
            if self.improving:
                # HiGHS can be seconds late to look at the clock inside a round of root cuts on a
                # large model (README, "How a run is solved", item 5): it is asked to stop earlier,
                # and fix-and-optimise goes on to the end.
                self.highs_limit = self.search_limit - min(0.1 * self.search_limit, 6.0)

    def report(self, now: float, elapsed: float) -> None:
        if self.options.progress is None:
            return
        with self._lock:
            if now - self._last_report < self.options.progress_interval:
                return
            self._last_report = now
            primal, dual = min(self.highs_best[0], self.best_own), self.highs_best[1]
            inc = self.sign * primal if abs(primal) < 1e50 else None
            bnd = self.sign * dual if abs(dual) < 1e50 else None
            self.options.progress(Progress(elapsed, inc, bnd, _gap(inc, bnd)))

    def _on_interrupt(self, e) -> None:
        if not self.searching:
            return
        if self._abandoned or (self.options.should_stop is not None and self.options.should_stop()):
            e.interrupt()
        # HiGHS checks its own time limit only between rounds of root cuts (seconds apart on
        # large models); the interrupt callback stops it on time.
        if self.highs_limit is not None and e.data_out.running_time > self.highs_limit:
            e.interrupt()
        out = e.data_out
        self.highs_best[:] = [out.mip_primal_bound, out.mip_dual_bound]
        self.report(time.perf_counter(), out.running_time)

    def _on_solution(self, e) -> None:
        if self.first_plan is None:
            self.first_plan = e.data_out.running_time

    def start(self) -> None:
        """HiGHS searches in a thread of its own (it releases the GIL)."""
        h = self.h
        h.cbMipInterrupt.subscribe(self._on_interrupt)
        h.cbSimplexInterrupt.subscribe(self._on_interrupt)
        if self.standard.is_int.any():
            h.cbMipImprovingSolution.subscribe(self._on_solution)
        self.t1 = time.perf_counter()
        self._thread = threading.Thread(target=h.run, name="highs-search", daemon=True)
        self._thread.start()

    def finish(self, cols: list, own: tuple[np.ndarray, float] | None) -> None:
        """With the heuristic's plan (None: there is none), the rest of the search: on large runs
        fix-and-optimise improves the plan while HiGHS goes on; then HiGHS's end."""
        if own is not None:
            self.own, self.best_own = own, own[1]
            self._limit(reserve=min(2.0 * self.timings.get("start_lp", 0.0), 0.2 * self.options.time_limit)
                        if self.options.time_limit is not None else 0.0)
        left = np.inf if self.search_limit is None else self.search_limit - (time.perf_counter() - self.t1)
        if own is not None and self.improving and left > 1.0:
            self._improve_beside(cols)
        self._end()

    def abandon(self) -> None:
        """Stop HiGHS and wait for it (making the heuristic's plan failed)."""
        self._abandoned = True
        self._end()

    def _end(self) -> None:
        assert self._thread is not None
        self._thread.join()
        if self.threads:
            highspy.Highs.resetGlobalScheduler(True)
        self.timings["solve"] = time.perf_counter() - self.t1
        self.searching = False
        h = self.h
        for cb in (h.cbMipInterrupt, h.cbSimplexInterrupt, h.cbMipImprovingSolution):
            if cb.callbacks:
                cb.clear()  # an interrupt flag set during the search must not stop the LPs after it
        if self.first_plan is not None:
            self.timings["first_plan"] = self.first_plan

    def _improve_beside(self, cols: list) -> None:
        """Fix-and-optimise improves the heuristic plan block by block while HiGHS searches."""
        assert self.own is not None and self._thread is not None
        search, t1 = self._thread, self.t1
        block_of = [self.options.blocks(v) for v in cols]
        budget = np.inf if self.search_limit is None else self.search_limit - (time.perf_counter() - t1)
        user_stop = self.options.should_stop

        def on_improved(_elapsed: float, objective: float) -> None:
            self.best_own = objective
            self.report(time.perf_counter(), time.perf_counter() - t1)

        def out_of_time() -> bool:
            return self.highs_limit is not None and time.perf_counter() - t1 >= self.highs_limit

        ti = time.perf_counter()
        try:
            fo = improve(
                self.standard, self.own[0], block_of, budget,
                # HiGHS done before its limit means it closed the gap: nothing left to improve
                should_stop=lambda: (not search.is_alive() and not out_of_time()) or (user_stop is not None and user_stop()),
                on_improved=on_improved,
            )
        except Exception:  # an extra: a failure in it must not cost the run HiGHS's search
            log.exception("fix-and-optimise failed; HiGHS's search goes on alone")
            fo = None
        self.timings["improve"] = time.perf_counter() - ti
        if fo is not None:
            self.timings["improve_blocks"] = float(fo.blocks_solved)
            self.timings["improve_blocks_better"] = float(fo.blocks_improved)
            self.timings["improve_blocks_refused"] = float(fo.blocks_refused)
            if fo.objective < self.own[1] - 1e-9 * max(1.0, abs(self.own[1])):
                self.own, self.source = (fo.x, fo.objective), "fix_and_optimise"


class _Blocks:
    """The decomposed route's blocks and the pool that solves them, made in a thread of their own
    from the moment the model is compiled: splitting it and starting a local cluster take seconds
    on large models (README, "The decomposed route"), and the heuristic's plan needs that long."""

    def __init__(self, standard: StandardForm, cols, options: SolveOptions):
        self.timings: dict[str, float] = {}
        self._ready = concurrent.futures.Future()
        threading.Thread(target=self._make, args=(standard, cols, options), name="planner-blocks", daemon=True).start()

    def _make(self, standard: StandardForm, cols, options: SolveOptions) -> None:
        try:
            ts = time.perf_counter()
            block_of = [options.blocks(v) for v in cols]
            st = split(standard, block_of)
            self.timings["split"] = time.perf_counter() - ts
            tc = time.perf_counter()
            if options.workers == 0 and not options.dask_scheduler:
                pool, close, workers = Pool(groups_of(st.blocks, 1), len(st.link_rows)), (lambda: None), 0
            else:
                pool, close = dask_pool(st.blocks, len(st.link_rows), options.dask_scheduler, max(1, options.workers))
                workers = len(pool.members)
            self.timings["cluster"] = time.perf_counter() - tc
            self._ready.set_result((st, block_of, pool, close, workers))
        except BaseException as exc:  # handed to whoever waits for the blocks
            self._ready.set_exception(exc)

    def get(self):
        """(structure, each column's block, pool, its closer, workers): raises what making them raised."""
        return self._ready.result()

    def discard(self) -> None:
        """Wait for the blocks and let their pool go (the run ended before it used them)."""
        with contextlib.suppress(BaseException):
            self.get()[3]()


def _decomposed(m: pyo.ConcreteModel, sf, standard: StandardForm, sign: float, own, options: SolveOptions, timings: dict,
                blocks: _Blocks, duals: np.ndarray | None = None) -> SolveResult:
    """The decomposed route: the Lagrangian bound from the blocks (``decompose``), in a thread of
    its own with the blocks on Dask workers, while this thread improves the heuristic plan by
    fix-and-optimise; the plan is then polished and loaded like any other. A model that does
    not split goes the monolithic way instead, and the result says why."""
    size = {"rows": standard.A.shape[0], "columns": len(sf.columns), "binaries": int(standard.is_int.sum()), "nonzeros": int(standard.A.nnz)}
    tw = time.perf_counter()
    try:
        st, block_of, pool, close, workers = blocks.get()
    except NotDecomposable as exc:
        log.warning("not decomposed: %s; solving the whole model", exc)
        # (the whole model is compiled again: a fallback's cost, paid only where the route cannot go)
        result = solve_model(m, replace(options, route="monolithic"))
        result.message = "; ".join(x for x in (f"not decomposed: {exc}", result.message) if x)
        return result
    waited = time.perf_counter() - tw  # what splitting and starting the cluster took beyond the heuristic
    timings.update(blocks.timings, blocks_waited=waited)
    t1 = time.perf_counter()
    limit = None
    if options.time_limit is not None:
        limit = max(options.time_limit - min(2.0 * timings.get("start_lp", 0.0), 0.2 * options.time_limit) - waited, 0.0)
    budget = np.inf if limit is None else limit
    state = {"plan": own[1] if own is not None else np.inf, "bound": -np.inf, "last_report": 0.0}
    lock = threading.Lock()
    user_stop = options.should_stop

    def report() -> None:
        if options.progress is None:
            return
        now = time.perf_counter()
        with lock:
            if now - state["last_report"] < options.progress_interval:
                return
            state["last_report"] = now
            inc = sign * state["plan"] if np.isfinite(state["plan"]) else None
            bnd = sign * state["bound"] if np.isfinite(state["bound"]) else None
        options.progress(Progress(now - t1, inc, bnd, _gap(inc, bnd)))

    def closed() -> bool:
        plan, bound = state["plan"], state["bound"]
        return np.isfinite(bound) and np.isfinite(plan) and plan - bound <= options.mip_gap * max(abs(plan), 1e-9)

    def stopping() -> bool:
        return (user_stop is not None and user_stop()) or closed()

    def on_bound(p: DualProgress) -> None:
        state["bound"] = max(state["bound"], p.bound)
        report()

    dual: dict[str, object] = {}
    seeds: queue.Queue = queue.Queue(maxsize=1)  # the blocks' latest decisions, while there is no plan

    def on_plan(seed: PlanSeed) -> None:
        with contextlib.suppress(queue.Full):
            seeds.put_nowait(seed)

    def run_dual() -> None:
        try:
            start = multipliers_from_duals(st, duals) if duals is not None else None
            dual["result"] = lagrangian_dual(st, pool, lambda: state["plan"], time_budget=budget, should_stop=stopping, on_bound=on_bound,
                                             want_plan=lambda: not np.isfinite(state["plan"]), on_plan=on_plan, start=start,
                                             plan=own[0] if own is not None else None)
        except Exception as exc:  # a failed bound must not cost the run its plan
            log.exception("the Lagrangian bound failed")
            dual["error"] = f"{type(exc).__name__}: {exc}"

    thread = threading.Thread(target=run_dual, name="planner-lagrangian", daemon=True)
    thread.start()

    def on_improved(_elapsed: float, objective: float) -> None:
        state["plan"] = objective
        report()

    source = "heuristic"
    from_blocks = own is None
    if own is None:
        # no heuristic plan: the first comes from the blocks' decisions after a pass as MIPs
        own = _plan_from_the_blocks(standard, st, seeds, thread, lambda: t1 + budget - time.perf_counter(), stopping)
        source = "lagrangian"
        if own is not None:
            state["plan"] = own[1]
            report()
    ti = time.perf_counter()
    fo = None
    left = t1 + budget - time.perf_counter()
    if own is not None and left > 0:
        try:
            fo = improve(standard, own[0], block_of, left, should_stop=lambda: stopping() or (not thread.is_alive() and closed()),
                         on_improved=on_improved, max_rounds=1000)
        except Exception:
            log.exception("fix-and-optimise failed; the plan found before it stands")
    timings["improve"] = time.perf_counter() - ti
    thread.join()
    timings["solve"] = time.perf_counter() - t1
    worker_peak = None
    if workers:
        try:
            worker_peak = max((p for p in pool.peaks_mb() if p is not None), default=None)
        except Exception:  # a figure, not worth the plan
            log.exception("the workers' peak memory could not be read")
    # a local cluster takes about half a second to shut down: that goes on beside the polish
    closing = threading.Thread(target=close, name="planner-dask-close", daemon=True)
    closing.start()
    res = dual.get("result")
    if own is None:
        closing.join()
        bound = sign * res.bound if res is not None and np.isfinite(res.bound) else None
        return SolveResult(status=Status.NO_SOLUTION_FOUND, bound=bound, timings=timings, size=size, highs_status="no plan",
                           message=f"decomposed into {len(st.blocks)} blocks on {pool.where}: no plan found within the time limit")
    x, obj = own
    if fo is not None and fo.objective < obj - 1e-9 * max(1.0, abs(obj)):
        x, obj, source = fo.x, fo.objective, "fix_and_optimise"
        timings["improve_blocks"] = float(fo.blocks_solved)
    t2 = time.perf_counter()
    x, duals_from = _polish(standard, x, obj)
    timings["polish"] = time.perf_counter() - t2
    _store_duals(m, sf, sign, duals_from)
    objective = sign * float(standard.c @ x + standard.offset)
    bound = sign * res.bound if res is not None and np.isfinite(res.bound) else None
    gap = _gap(objective, bound)
    status = Status.OPTIMAL if gap is not None and gap <= options.mip_gap else Status.FEASIBLE
    stopped_by = "cancelled" if user_stop is not None and user_stop() else "time limit" if status == Status.FEASIBLE else "gap closed"
    iterations, integer = (res.iterations, res.integer_iterations) if res is not None else (0, 0)
    first = "the blocks' decisions" if from_blocks else "the heuristic"
    message = (f"decomposed into {len(st.blocks)} blocks on {pool.where}: Lagrangian bound after {iterations} iteration(s) "
               f"({integer} with the blocks as MIPs), plan from {first} and fix-and-optimise; stopped by {stopped_by}")
    if "error" in dual:
        message += f"; the bound failed: {dual['error']}"
    if options.route == "auto" and size["binaries"] < options.decompose_min_binaries and options.time_limit is not None:
        message = (f"{options.time_limit:.0f} s of search is too short for HiGHS's root LP on the whole model "
                   f"({size['nonzeros']:,} nonzeros), so it was decomposed; " + message)
    result = SolveResult(status=status, objective=objective, bound=bound, gap=gap, message=message, timings=timings, size=size,
                         highs_status=stopped_by, plan_source=source, start_plan=not from_blocks)
    passes = max(1, iterations)
    result.decomposition = {
        "decomposition_blocks": len(st.blocks), "decomposition_workers": workers, "linking_rows": len(st.link_rows),
        "lagrangian_iterations": iterations, "lagrangian_mip_iterations": integer, "lagrangian_tight_iterations": pool.tight_passes,
        "block_mip_seconds": pool.seconds_per_block[True], "block_lp_seconds": pool.seconds_per_block[False],
        "multiplier_bytes": pool.sent_bytes / passes, "calls_per_iteration": pool.calls / passes,
        "cluster_seconds": timings["cluster"], "worker_peak_mb": worker_peak,
    }
    result.objective_of = objective_at_values(sf.columns, standard, sign)
    tl = time.perf_counter()
    _load(m, sf, sf.columns, x)
    timings["load_values"] = time.perf_counter() - tl
    tw = time.perf_counter()
    closing.join()
    timings["cluster_close"] = time.perf_counter() - tw
    return result


def _plan_from_the_blocks(standard: StandardForm, st, seeds: queue.Queue, dual: threading.Thread, left: Callable[[], float],
                          stopping: Callable[[], bool]) -> tuple[np.ndarray, float] | None:
    """The first plan of a run without a heuristic one: from each pass of the blocks as MIPs the
    Lagrangian bound brings (``decompose.plan_from_blocks``), until one gives a plan, the time is
    up or the bound is done."""
    while left() > 0 and not stopping():
        try:
            seed = seeds.get(timeout=0.1)
        except queue.Empty:
            if not dual.is_alive() and seeds.empty():
                return None
            continue
        # half of what is left: a repair that fails leaves time for another seed
        found = plan_from_blocks(standard, st, seed, 0.5 * left(), should_stop=stopping)
        if found is not None:
            return found
    return None


def _status(h: highspy.Highs, options: SolveOptions) -> tuple[Status, bool, object]:
    """(status, whether HiGHS has a plan, HiGHS's model status as reported)."""
    model_status = h.getModelStatus()
    has_solution = h.getInfo().primal_solution_status == 2
    if model_status in (MS.kOptimal, MS.kModelEmpty):
        status = Status.OPTIMAL
    elif model_status in (MS.kInfeasible, MS.kUnboundedOrInfeasible):
        status = Status.INFEASIBLE
    elif model_status in (MS.kTimeLimit, MS.kIterationLimit, MS.kSolutionLimit, MS.kInterrupt, MS.kObjectiveBound, MS.kObjectiveTarget, MS.kMemoryLimit):
        status = Status.FEASIBLE if has_solution else Status.NO_SOLUTION_FOUND
        if model_status == MS.kInterrupt and options.time_limit is not None and not (options.should_stop and options.should_stop()):
            model_status = MS.kTimeLimit  # our callback enforced the time limit
    else:
        status = Status.ERROR
    return status, has_solution, model_status


def _outcome(m, sf, standard: StandardForm, sign: float, h: highspy.Highs, search: _Search, options: SolveOptions, timings: dict) -> SolveResult:
    """What the search found, as a result; the better plan polished and loaded into ``m``."""
    status, has_solution, model_status = _status(h, options)
    n, is_int = len(sf.columns), standard.is_int
    size = {"rows": len(sf.rows), "columns": n, "binaries": int(is_int.sum()), "nonzeros": int(standard.A.nnz)}
    result = SolveResult(status=status, timings=timings, size=size, highs_status=h.modelStatusToString(model_status),
                         start_plan=search.own is not None)
    if status == Status.ERROR:
        result.message = f"HiGHS ended with model status {result.highs_status}"
        return result
    if status == Status.INFEASIBLE:
        result.message = "no plan satisfies every constraint"
        return result
    own, info = search.own, h.getInfo()
    mip_obj = info.objective_function_value
    use_own = own is not None and (not has_solution or own[1] < mip_obj - 1e-9 * max(1.0, abs(own[1])))
    if status == Status.NO_SOLUTION_FOUND and not use_own:
        result.message = f"HiGHS stopped ({result.highs_status}) before finding a feasible plan"
        return result
    result.plan_source = search.source if use_own else "highs"
    if n == 0:
        x = np.zeros(0)
        result.objective = result.bound = sign * standard.offset
        result.gap = 0.0
    else:
        x = own[0] if use_own else np.array(h.getSolution().col_value)
        result.bound = sign * (info.mip_dual_bound if is_int.any() else mip_obj)
        if abs(result.bound) > 1e50:
            result.bound = None
        duals_from = None if is_int.any() else h
        if is_int.any():
            h.clearModel()  # the search is done: its copy of the model goes before the polish LP makes another
            t2 = time.perf_counter()
            x, duals_from = _polish(standard, x, own[1] if use_own else mip_obj)
            timings["polish"] = time.perf_counter() - t2
        _store_duals(m, sf, sign, duals_from)
        result.objective = sign * float(standard.c @ x + standard.offset)
        if not is_int.any():
            result.bound = result.objective
        result.gap = _gap(result.objective, result.bound)
    if use_own and status != Status.OPTIMAL:
        result.status = Status.FEASIBLE
        how = "the heuristic plan, improved by fix-and-optimise," if search.source == "fix_and_optimise" else "the heuristic plan"
        result.message = f"HiGHS stopped ({result.highs_status}) without a better plan: {how} is returned"
    result.objective_of = objective_at_values(sf.columns, standard, sign)
    tl = time.perf_counter()
    _load(m, sf, sf.columns, x)
    timings["load_values"] = time.perf_counter() - tl  # reported with the extraction
    return result


def _store_duals(m: pyo.ConcreteModel, sf, sign: float, h: highspy.Highs | None) -> None:
    """With a ``dual`` import suffix on the model: the duals of the LP with the integer decisions
    fixed (d profit / d right-hand side), one per row."""
    dual = getattr(m, "dual", None)
    if not isinstance(dual, pyo.Suffix) or h is None:
        return
    row_dual = sign * np.array(h.getSolution().row_dual)
    for (con, _), d in zip(sf.rows, row_dual):
        dual[con] = float(d)


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
