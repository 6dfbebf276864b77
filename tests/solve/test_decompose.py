"""The decomposed route: blocks from the compiled matrix, a Lagrangian bound that is a bound, and
verified plans; the same answers from blocks kept on Dask workers."""


import time
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from instances.benchmarks import read_cap, read_holmberg
from instances.generator import generate
from models import build_model, select
from planner.contract.loading import tables_from_mapping
from planner.jobs.pipeline import plan_instance
from planner.solve.decompose import (TIGHT_COST, TIGHT_GAP, BlockGroup, LinkMaster, NotDecomposable, PlanSeed, Pool, violated_rows, dask_pool, groups_of, initial_mu,
                                     peak_memory_mb, lagrangian_dual, master_penalty, rhs_term, merge, multipliers_from_duals, plan_from_blocks, split)
import planner.solve.highs as highs_module
from planner.solve.highs import SolveOptions, solve_model
from planner.solve.start import construct_start
from planner.solve.improve import product_blocks, rows_hold
from planner.solve.standard_form import compile_model, new_highs
from tests.conftest import DATA, ROOT, instance_of

EXAMPLES = ROOT / "examples" / "models"


def gen(seed, **kw):
    t = generate(seed=seed, **kw)
    return instance_of(tables_from_mapping({k: v.to_dict(orient="records") for k, v in t.items()}))


def compiled(inst, options=None, dirs=None):
    m = build_model(inst, select(options, dirs))
    sf, form, sign = compile_model(m)
    return sf, form, sign, [product_blocks(inst)(v) for v in sf.columns]


def names(sf, rows):
    return {sf.rows[int(i)][0].parent_component().name for i in rows}


@pytest.fixture(scope="module")
def small():
    inst = gen(3, products=12, segments=3, suppliers=4, periods=6)
    return (inst, *compiled(inst))


def test_the_blocks_come_from_the_matrix(small):
    inst, sf, form, sign, blocks = small
    st = split(form, blocks)
    assert len(st.blocks) == len(inst.product_ids)
    # the rows that touch several products are the limits shared by products, and only they
    assert names(sf, st.link_rows) == {"supplier_capacity", "warehouse_capacity", "budget"}
    assert {sf.columns[j].parent_component().name for j in st.shared} == {"tier_chosen", "supplier_used"}
    # every column is in one block or shared, once
    together = np.concatenate([*st.block_columns, st.shared])
    assert sorted(together.tolist()) == list(range(len(sf.columns)))
    for b, cols in zip(st.blocks, st.block_columns):
        assert b.n_own == len(cols)
        assert b.sf.A.shape[1] == b.n_own + len(b.copies)
        # each block holds a copy of the one-tier rows over the tiers it copies: rows on copies only
        A = b.sf.A.tocsr()
        on_copies = [i for i in range(A.shape[0]) if (A.indices[A.indptr[i]:A.indptr[i + 1]] >= b.n_own).all()]
        assert 1 <= len(on_copies) <= len(inst.segment_ids)  # a segment left one tier by its min_tier may need none
        assert all(b.sf.row_lower[i] == b.sf.row_upper[i] == 1 for i in on_copies)


@pytest.mark.parametrize("seed,options", [(3, {}), (8, {"constraints": {"max_supplier_share": {"share": 0.6}, "single_sourcing": {},
                                                                       "inventory_cover": {"min_periods": 0.5}}})])
def test_each_block_is_the_matrix_cut_to_its_rows_and_columns(seed, options):
    """The blocks, cut from the nonzeros sorted once, hold what slicing the whole matrix gives:
    its rows (then the shared rows over its copies) by its columns (then its copies), its costs
    and bounds, and its own columns' coefficients in the linking rows."""
    inst = gen(seed, products=9, segments=3, suppliers=4, periods=6)
    sf, form, sign, blocks = compiled(inst, options)
    st = split(form, blocks)
    A = form.A.tocsr()
    shared_rows = [i for i in range(A.shape[0]) if set(A.indices[A.indptr[i]:A.indptr[i + 1]]) <= set(st.shared.tolist())]
    own_rows = {}
    for b, cols in enumerate(st.block_columns):
        own_rows[b] = [i for i in range(A.shape[0]) if i not in set(st.link_rows.tolist())
                       and set(A.indices[A.indptr[i]:A.indptr[i + 1]]) & set(cols.tolist())]
    for b, (blk, cols) in enumerate(zip(st.blocks, st.block_columns)):
        copied = st.shared[blk.copies]
        take = np.concatenate([cols, copied])
        covered = [i for i in shared_rows if set(A.indices[A.indptr[i]:A.indptr[i + 1]]) <= set(copied.tolist())]
        rows = own_rows[b] + covered
        expect = A[rows, :][:, take]
        assert blk.sf.A.shape == expect.shape
        assert abs(blk.sf.A - expect).max() == 0
        assert np.array_equal(blk.sf.row_lower, form.row_lower[rows]) and np.array_equal(blk.sf.row_upper, form.row_upper[rows])
        assert np.array_equal(blk.sf.col_lower, form.col_lower[take]) and np.array_equal(blk.sf.is_int, form.is_int[take])
        assert np.array_equal(blk.sf.c[: blk.n_own], form.c[cols]) and not blk.sf.c[blk.n_own:].any()
        links = A[st.link_rows, :][:, cols]
        assert np.array_equal(blk.link_rows, np.flatnonzero(np.diff(links.tocsr().indptr) > 0))
        assert abs(blk.link_A - links[blk.link_rows, :]).max() == 0 if len(blk.link_rows) else blk.link_A.shape == (0, len(cols))


def test_a_user_family_across_products_joins_the_linking_rows():
    inst = gen(4, products=8, segments=2, suppliers=3, periods=5)
    rule = {"constraints": {"max_orders_per_period": {"max_orders": 3}}}
    sf, form, sign, blocks = compiled(inst, rule, [EXAMPLES])
    st = split(form, blocks)
    assert "max_orders_per_period" in names(sf, st.link_rows)


def test_a_model_without_blocks_says_so(small):
    inst, sf, form, sign, blocks = small
    with pytest.raises(NotDecomposable):
        split(form, [None] * len(blocks))


def optimum(inst, options=None, dirs=None):
    plan = plan_instance(inst, SolveOptions(mip_gap=0, route="monolithic"), options, dirs)
    assert plan.status == "optimal", plan.messages
    return plan.kpis["profit"]


CASES = [
    (5, {}),
    (6, {"constraints": {"single_sourcing": {}}}),
    (7, {"constraints": {"min_suppliers_per_product": {"min_suppliers": 2, "min_share": 0.2}}}),
    (8, {"constraints": {"max_supplier_share": {"share": 0.6}, "inventory_cover": {"min_periods": 0.5}}}),
    (10, {"constraints": {"punctuality": False, "reliable_supply_for_tier": {}}}),
]


@pytest.mark.parametrize("seed,options", CASES)
def test_plan_and_bound_bracket_the_optimum(seed, options):
    """bound >= optimum >= plan, on generated instances with every table of the contract (open
    orders, capacity changes, budget, warehouse, min tiers, punctuality) and optional families."""
    inst = gen(seed, products=7, segments=3, suppliers=4, periods=6)
    best = optimum(inst, options)
    plan = plan_instance(inst, SolveOptions(time_limit=15, route="decompose", workers=0), options)
    assert plan.status in ("optimal", "feasible"), plan.messages  # the verifier passed it
    tol = 1e-6 * abs(best) + 1e-6
    assert plan.kpis["profit"] <= best + tol
    assert plan.kpis["best_bound"] >= best - tol
    # decomposed, or (no heuristic plan to improve: single sourcing) solved whole, and said so
    assert (plan.messages and "decomposed into 7 blocks" in plan.messages[0]) or plan.status == "optimal"


def test_every_iterate_is_a_bound_and_the_mips_beat_the_lps():
    inst = gen(12, products=10, segments=3, suppliers=4, periods=6)
    best = optimum(inst)
    sf, form, sign, blocks = compiled(inst)
    st = split(form, blocks)
    seen = []
    res = lagrangian_dual(st, Pool(groups_of(st.blocks, 1), len(st.link_rows)), lambda: sign * best, time_budget=8,
                          on_bound=seen.append)
    lps = [p.last for p in seen if not p.integer]
    mips = [p.last for p in seen if p.integer]
    assert lps and mips
    # HiGHS minimises: every L is at most the optimum in its sense (sign * profit)
    assert max(p.last for p in seen) <= sign * best + 1e-6 * abs(best)
    assert res.bound == max(p.last for p in seen)
    # the first MIP pass starts from the best LP multipliers: at least as strong there
    assert mips[0] >= max(lps) - 1e-6 * abs(best)


def test_a_block_out_of_time_still_gives_a_bound_and_no_plan(small):
    """On a busy machine a block's MIP can run out of its time with no answer (the blocks run
    without heuristics): the pass goes on with its LP relaxation (or the MIP's own dual bound, if
    better), still a bound, and the block gives no integer decisions to build a plan from."""
    inst, sf, form, sign, blocks = small
    st = split(form, blocks)
    n = len(st.link_rows)
    pi = np.random.default_rng(1).uniform(0, 1, n) * (form.row_upper[st.link_rows] < 1e20)
    mu = initial_mu(st)
    group = BlockGroup(st.blocks, n)
    lp = group.solve(pi, mu, integer=False)
    group.h.setOptionValue("presolve", "off")  # so that HiGHS's search, and its clock, start at once
    # whether a block finishes before HiGHS first looks at its clock is a race: a block solved
    # at its root can beat even this limit, and now and then every block does
    for _ in range(10):
        starved = group.solve(pi, mu, integer=True, block_time=1e-9, plans=True)
        if len(starved.ints) < len(st.blocks):
            break
    group.h.setOptionValue("presolve", "choose")
    group.h.setOptionValue("mip_rel_gap", 0.0)
    exact = group.solve(pi, mu, integer=True, block_time=60, plans=True)
    assert len(exact.ints) == len(st.blocks) and len(starved.ints) < len(st.blocks)  # some blocks did run out
    tol = 1e-7 * abs(exact.bound)
    assert lp.bound - tol <= starved.bound <= exact.bound + tol  # each block's min, or less: a bound
    assert np.all(np.isfinite(starved.link_activity))


def test_blocks_on_dask_workers_answer_as_they_do_here(small):
    inst, sf, form, sign, blocks = small
    st = split(form, blocks)
    n = len(st.link_rows)
    pi = np.random.default_rng(0).uniform(0, 1, n) * (form.row_upper[st.link_rows] < 1e20)
    mu = initial_mu(st)
    here = Pool(groups_of(st.blocks, 2), n)
    there, close = dask_pool(st.blocks, n, workers=2)
    try:
        assert there.where == "2 Dask worker(s) on this machine"
        for integer in (False, True):
            a = sum(x.bound for x in here.solve(pi, mu, integer))
            b = sum(x.bound for x in there.solve(pi, mu, integer))
            assert a == pytest.approx(b, rel=1e-9)
        # the blocks stay on the workers: one group of blocks (an actor) on each
        held = there.client.run(lambda dask_worker: len(dask_worker.state.actors))
        assert sorted(held.values()) == [1, 1]
        # what a pass sends is multipliers only: pi with each call (a chunk of a group's blocks)
        # and each block's mu once
        assert there.calls >= 4
        assert there.sent_bytes == there.calls * pi.nbytes + 2 * sum(v.nbytes for v in mu.values())
    finally:
        close()


def test_the_route_on_a_dask_cluster_gives_a_verified_plan_and_a_bound(ballast):
    inst = gen(13, products=8, segments=3, suppliers=4, periods=6)
    best = optimum(inst)
    plan = plan_instance(inst, SolveOptions(time_limit=15, route="decompose", workers=1))
    assert plan.status in ("optimal", "feasible"), plan.messages
    assert "on 1 Dask worker(s) on this machine" in plan.messages[0]
    k = plan.kpis
    assert (k["decomposition_blocks"], k["decomposition_workers"]) == (8, 1)
    assert k["lagrangian_iterations"] >= k["lagrangian_mip_iterations"] >= 1
    assert k["block_mip_seconds"] > 0 and k["multiplier_bytes"] > 0 and k["cluster_seconds"] > 0
    assert 1 <= k["lagrangian_tight_iterations"] <= k["lagrangian_mip_iterations"]  # blocks of milliseconds: passes fit at the tight gap
    assert plan.kpis["best_bound"] >= best - 1e-6 * abs(best) >= plan.kpis["profit"] - 2e-6 * abs(best)
    # the worker's own peak: a process that imports numpy, HiGHS and Dask, far below what this
    # process held when it started the worker (the ballast below makes sure of that)
    assert 50 < k["worker_peak_mb"] < peak_memory_mb() - 500


def test_the_blocks_go_to_the_workers_while_the_heuristic_runs():
    """Splitting the model and starting the local cluster happen beside the heuristic: the solve
    waits only for what is left of them when the heuristic is done."""
    inst = gen(14, products=8, segments=3, suppliers=4, periods=6)
    m = build_model(inst, select())

    def slow_heuristic(value):
        time.sleep(6.0)
        return construct_start(m, inst, value).profit

    result = solve_model(m, SolveOptions(time_limit=5, route="decompose", workers=1, blocks=product_blocks(inst)), heuristic=slow_heuristic)
    t = result.timings
    assert result.status.has_plan and result.decomposition["decomposition_workers"] == 1
    assert t["cluster"] > 0.5  # a local cluster's start: seconds, more than what was left to wait for
    assert t["blocks_waited"] <= max(0.0, t["split"] + t["cluster"] - t["start"]) + 0.5
    assert result.start_profit is not None


@pytest.fixture(scope="module")
def ballast():
    """800 MB this process holds while the route starts its worker."""
    held = np.ones(100_000_000)
    yield held
    del held


def test_the_route_fans_out_over_the_cluster_at_a_scheduler_address():
    """PLANNER_DASK_SCHEDULER (here the option it sets): the blocks go to that cluster's workers,
    one group on each, and the cluster is left running."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        inst = gen(13, products=8, segments=3, suppliers=4, periods=6)
        plan = plan_instance(inst, SolveOptions(time_limit=10, route="decompose", dask_scheduler=cluster.scheduler_address))
        assert plan.status in ("optimal", "feasible"), plan.messages
        assert "on 2 Dask worker(s):" in plan.messages[0]
        assert plan.kpis["decomposition_workers"] == 2
        with distributed.Client(cluster) as client:
            assert len(client.scheduler_info()["workers"]) == 2


def test_the_time_limit_is_honoured_within_ten_percent():
    inst = gen(14, products=60, segments=4, suppliers=6, periods=10)
    plan = plan_instance(inst, SolveOptions(time_limit=10, route="decompose", workers=0, mip_gap=0))
    assert plan.kpis["solve_seconds"] <= 11.0
    assert plan.status == "feasible" and plan.kpis["best_bound"] >= plan.kpis["profit"]


@pytest.mark.parametrize("workers", [0, 1])
def test_a_cancel_ends_the_search_within_a_tenth_of_its_time(workers):
    """Cancelled 4 s into the search, the route stops within 10 % (0.4 s): every pass of the
    blocks looks at the flag between chunks of a fifth of a second, and a pass cut short is given
    up (the bound stays that of the passes completed). The best plan is kept."""
    inst = gen(14, products=60, segments=4, suppliers=6, periods=10)
    start: list[float] = []

    def seen(p):  # the first report marks the search's start (its elapsed counts from there)
        if not start:
            start.append(time.perf_counter() - p.elapsed)

    def cancelled() -> bool:
        return bool(start) and time.perf_counter() - start[0] >= 4.0

    plan = plan_instance(inst, SolveOptions(time_limit=60, route="decompose", workers=workers, mip_gap=0,
                                            should_stop=cancelled, progress=seen, progress_interval=0.0))
    search = plan.kpis["solve_seconds"] - plan.kpis["polish_seconds"]
    assert 4.0 <= search <= 4.4
    assert plan.status == "feasible" and "stopped by cancelled" in plan.messages[0]
    assert plan.kpis["profit"] >= plan.kpis["start_profit"] - 1e-6
    assert plan.kpis["best_bound"] >= plan.kpis["profit"]


def test_auto_decomposes_from_the_threshold_only(small):
    inst = small[0]
    plan = plan_instance(inst, SolveOptions(time_limit=3, workers=0, decompose_min_binaries=10))
    assert plan.messages and "decomposed" in plan.messages[0]
    plan = plan_instance(inst, SolveOptions(time_limit=3, workers=0))
    assert not any("decomposed" in m for m in plan.messages)
    assert SolveOptions().decompose_min_binaries == 100_000 and SolveOptions().route == "auto"


CAP = pd.read_csv(DATA / "orlib_cap" / "optima.csv")


@pytest.mark.parametrize("name,file,optimum", list(zip(CAP["instance"], CAP["file"], CAP["optimum"]))[::6])
def test_orlib_forced_through_the_route_reaches_or_proves(name, file, optimum):
    """Facility location as a run: customers are the blocks, opening a facility is shared. The
    route's plan and bound bracket the published optimum, and its gap is what it proves."""
    plan = plan_instance(instance_of(read_cap(DATA / "orlib_cap" / file)), SolveOptions(time_limit=8, route="decompose", workers=0))
    assert plan.status in ("optimal", "feasible"), plan.messages
    cost, bound = -plan.kpis["profit"], -plan.kpis["best_bound"]
    assert bound <= optimum + 1e-6 * optimum <= cost + 2e-6 * optimum
    assert plan.kpis["mip_gap"] == pytest.approx((cost - bound) / cost, abs=1e-9)


HOLMBERG = pd.read_csv(DATA / "holmberg_sscflp" / "optima.csv")


@pytest.mark.parametrize("name,optimum", list(zip(HOLMBERG["instance"], HOLMBERG["optimum"]))[::6])
def test_holmberg_single_sourcing_forced_through_the_route_reaches_or_proves(name, optimum):
    """Single-sourcing facility location (Holmberg et al. 1999) with the single-sourcing family: its
    assignment rows are per customer, so they stay in the blocks; capacity links them."""
    inst = instance_of(read_holmberg(DATA / "holmberg_sscflp" / f"{name}.txt"))
    plan = plan_instance(inst, SolveOptions(time_limit=8, route="decompose", workers=0),
                         {"constraints": {"punctuality": False, "single_sourcing": {}}})
    assert plan.status in ("optimal", "feasible"), plan.messages
    # the construction heuristic does not know single sourcing: the first plan is the blocks'
    assert plan.messages[0].startswith("decomposed into") and "plan from the blocks' decisions and fix-and-optimise" in plan.messages[0]
    assert plan.kpis["plan_source"] in ("lagrangian", "fix_and_optimise") and plan.kpis["start_profit"] is None
    cost, bound = -plan.kpis["profit"], -plan.kpis["best_bound"]
    assert bound <= optimum + 1e-6 * optimum <= cost + 2e-6 * optimum


def test_a_plan_from_the_blocks_repairs_the_rows_they_break_together():
    """Customers priced without capacity each take their cheapest facility: together they overload
    some. The blocks' decisions with an LP are then no plan; the repair frees the customers on the
    overloaded facilities and returns a plan that keeps every row."""
    inst = instance_of(read_holmberg(DATA / "holmberg_sscflp" / "p1.txt"))
    m = build_model(inst, select({"constraints": {"punctuality": False, "single_sourcing": {}}}))
    sf, form, sign = compile_model(m)
    st = split(form, [product_blocks(inst)(v) for v in sf.columns])
    pool = Pool(groups_of(st.blocks, 1), len(st.link_rows))
    answers = pool.solve(np.zeros(len(st.link_rows)), initial_mu(st), True, plans=True)
    ints = {k: v for a in answers for k, v in a.ints.items()}
    assert len(ints) == len(st.blocks)
    shared = np.ones(len(st.shared))  # every facility open
    activity = st.link_shared_A @ shared + sum(a.link_activity for a in answers)
    seed = PlanSeed(ints, shared, violated_rows(activity, st.link_lower, st.link_upper))
    assert len(seed.violated) > 0
    values = np.full(len(form.c), np.nan)
    for b, cols in enumerate(st.block_columns):
        values[cols[form.is_int[cols]]] = ints[b]
    values[st.shared[form.is_int[st.shared]]] = 1.0
    assert form.fixed_lp(values[form.is_int]) is None  # as they are, the decisions make no plan
    x, obj = plan_from_blocks(form, st, seed, time_limit=20)
    assert rows_hold(form.A @ x, form.row_lower, form.row_upper)
    assert np.all(x >= form.col_lower - 1e-9) and np.all(x <= form.col_upper + 1e-9)
    assert np.allclose(x[form.is_int], np.rint(x[form.is_int]))
    assert obj == pytest.approx(float(form.c @ x + form.offset), rel=1e-9)


def test_auto_decomposes_a_large_run_whose_search_is_too_short_for_the_root_lp():
    """``auto`` keeps a run below ``decompose_min_binaries`` on the whole model unless its search
    would get fewer seconds per nonzero than HiGHS needs for its root LP; ``monolithic`` never
    decomposes."""
    inst = gen(14, products=20, segments=3, suppliers=4, periods=8)
    base = dict(blocks=product_blocks(inst), improve_min_binaries=1, workers=0, mip_gap=0.05, decompose_min_seconds=1.0)
    short = plan_instance(inst, SolveOptions(time_limit=5, decompose_below_seconds_per_nonzero=1.0, **base))
    assert "too short for HiGHS's root LP" in short.messages[0] and "decomposed into 20 blocks" in short.messages[0]
    assert short.status in ("optimal", "feasible") and short.kpis["decomposition_blocks"] == 20
    roomy = plan_instance(inst, SolveOptions(time_limit=5, decompose_below_seconds_per_nonzero=1e-9, **base))
    assert "decomposition_blocks" not in roomy.kpis or roomy.kpis["decomposition_blocks"] is None
    assert roomy.status in ("optimal", "feasible") and "decomposed" not in " ".join(roomy.messages)
    pinned = plan_instance(inst, SolveOptions(time_limit=5, route="monolithic", decompose_below_seconds_per_nonzero=1.0, **base))
    assert "decomposed" not in " ".join(pinned.messages)
    small = plan_instance(inst, SolveOptions(time_limit=5, decompose_below_seconds_per_nonzero=1.0, **{**base, "improve_min_binaries": 10**9}))
    assert "decomposed" not in " ".join(small.messages)
    brief = plan_instance(inst, SolveOptions(time_limit=5, decompose_below_seconds_per_nonzero=1.0, **{**base, "decompose_min_seconds": 20.0}))
    assert "decomposed" not in " ".join(brief.messages)


class UnevenBlocks:
    """A group whose first three blocks solve in a millisecond and the rest in 20 ms each."""

    def __init__(self, blocks):
        self.blocks = blocks

    def solve(self, pi, mu, integer=False, block_time=1.0, part=None, plans=False):
        lo, hi = part if part is not None else (0, len(self.blocks))
        time.sleep(sum(0.001 if k < 3 else 0.02 for k in range(lo, min(hi, len(self.blocks)))))


def test_a_pass_as_mips_is_timed_on_blocks_spread_over_the_group():
    """When to begin the blocks as MIPs rests on how long a pass of them takes: timed on blocks
    from the whole group, not its first few, which here are the quick ones."""
    blocks = [SimpleNamespace(key=k) for k in range(100)]
    pool = Pool([blocks], 0, make=lambda i, group: UnevenBlocks(group))
    pool.calibrate(np.zeros(0), {})
    assert pool.seconds_per_block[True] >= 0.01  # most blocks take 20 ms
    assert pool.integer_pass_seconds() >= 1.0


def lp_relaxation(form):
    """The LP relaxation's value and row duals (HiGHS's sense and signs)."""
    h = new_highs()
    h.setOptionValue("output_flag", False)
    h.passModel(form.highs_lp(integer=False))
    h.run()
    return h.getInfo().objective_function_value, np.asarray(h.getSolution().row_dual)


@pytest.mark.parametrize("seed,options", CASES)
def test_at_the_lp_relaxations_duals_the_blocks_give_its_value_and_more_as_mips(seed, options):
    """multipliers_from_duals: at the LP relaxation's duals, L with the blocks as LPs is the
    relaxation's value (more than the zero multipliers give), and with the blocks as MIPs it lies
    between that and the optimum (a bound), on instances with every table and optional families."""
    inst = gen(seed, products=7, segments=3, suppliers=4, periods=6)
    best = optimum(inst, options)
    sf, form, sign, blocks = compiled(inst, options)
    st = split(form, blocks)
    z, y = lp_relaxation(form)
    start = multipliers_from_duals(st, y)
    pool = Pool(groups_of(st.blocks, 1), len(st.link_rows))

    def first_pass(**kw):
        seen = []
        lagrangian_dual(st, pool, lambda: sign * best, time_budget=60, max_iterations=1, on_bound=seen.append, **kw)
        return seen[0]

    tol = 1e-6 * abs(z) + 1e-6
    at_duals = first_pass(start=start)
    assert not at_duals.integer and at_duals.last == pytest.approx(z, abs=tol)
    assert first_pass().last < z - tol  # zero multipliers: a weaker bound (the test could fail)
    as_mips = first_pass(start=start, min_step=1.0)  # straight to the blocks as MIPs
    assert as_mips.integer and z - tol <= as_mips.last <= sign * best + tol


def test_the_blocks_own_mip_gap_gives_away_little_of_the_bound():
    """Each block adds HiGHS's proven bound of its MIP, which a looser gap leaves further below
    the block's optimum, and the sum gives away what every block does. At the LP relaxation's
    duals (where a run's multipliers head), the blocks at the gap of a pass that has the time
    (TIGHT_GAP) give a bound within 0.05 % of the blocks solved exactly; at the quick 1 % gap
    (BLOCK_OPTIONS) they give away more (the tight gap is worth its time)."""
    inst = gen(21, products=24, segments=4, suppliers=5, periods=10)
    sf, form, sign, blocks = compiled(inst)
    st = split(form, blocks)
    pi, mu = multipliers_from_duals(st, lp_relaxation(form)[1])

    def bound(gap):
        group = BlockGroup(st.blocks, len(st.link_rows))
        return lagrangian_value(st, pi, mu, [group.solve(pi, mu, integer=True, block_time=60.0, gap=gap)])

    exact, tight, quick = bound(0.0), bound(TIGHT_GAP), bound(None)
    assert exact - 5e-4 * abs(exact) <= tight <= exact + 1e-6 * abs(exact)
    assert quick < exact - 5e-4 * abs(exact)


class Recording:
    """A block group that records the MIP gap each call as MIPs asks for."""

    def __init__(self, group):
        self.group, self.gaps = group, []

    def solve(self, pi, mu, integer, block_time, part, plans, columns, gap=None):
        if integer:
            self.gaps.append(gap)
        return self.group.solve(pi, mu, integer, block_time, part, plans, columns, gap)


def test_a_pass_as_mips_solves_its_blocks_to_the_tight_gap_only_where_it_fits_at_it(small):
    """A pass as MIPs whose time at the tight gap (TIGHT_COST times the quick gap's, with a
    quarter to spare) fits before its deadline asks every block for TIGHT_GAP; one that would
    not asks for the quick gap, so that more blocks are MIPs before the rest must be LPs. The
    pool's seconds per block stay in the quick gap's time either way."""
    inst, sf, form, sign, blocks = small
    st = split(form, blocks)
    members = []
    pool = Pool(groups_of(st.blocks, 1), len(st.link_rows),
                make=lambda i, g: members.append(Recording(BlockGroup(g, len(st.link_rows)))) or members[-1])
    pi, mu = np.zeros(len(st.link_rows)), initial_mu(st)
    n = len(st.blocks)
    pool.seconds_per_block[True], pool.measured = 1.0, True  # as if a pass took n seconds at the quick gap
    assert pool.solve(pi, mu, True, finish_by=time.perf_counter() + 1.25 * TIGHT_COST * n - 1.0) is not None
    assert pool.tight_passes == 0 and members[0].gaps and set(members[0].gaps) == {None}
    members[0].gaps.clear()
    pool.seconds_per_block[True] = 1.0
    assert pool.solve(pi, mu, True, finish_by=time.perf_counter() + 1.25 * TIGHT_COST * n + 5.0) is not None
    assert pool.tight_passes == 1 and members[0].gaps and set(members[0].gaps) == {TIGHT_GAP}
    quick_time = pool.seconds_per_block[True]
    members[0].gaps.clear()
    assert pool.solve(pi, mu, True) is not None  # no deadline: the tight gap
    assert set(members[0].gaps) == {TIGHT_GAP} and pool.tight_passes == 2
    # (the blocks here take milliseconds: the measured time, whichever the gap, replaced the guess)
    assert quick_time < 0.5 and pool.seconds_per_block[True] < 0.5


def test_the_dual_tries_the_start_and_zero_and_steps_from_the_better(small):
    inst, sf, form, sign, blocks = small
    st = split(form, blocks)
    z, y = lp_relaxation(form)
    pool = Pool(groups_of(st.blocks, 1), len(st.link_rows))
    seen = []
    # a step too short to go anywhere: the third pass shows where the steps go on from
    res = lagrangian_dual(st, pool, lambda: z + 0.05 * abs(z), time_budget=60, max_iterations=3, lp_share=1.0, step=1e-9,
                          min_step=1e-12, start=multipliers_from_duals(st, y), on_bound=seen.append, master=False)
    start_value, zero_value, stepped = (p.last for p in seen)
    assert start_value > zero_value + 1e-3 * abs(z)
    assert stepped == pytest.approx(start_value, rel=1e-6) and res.bound == pytest.approx(start_value, rel=1e-9)


def test_the_decomposed_route_starts_its_multipliers_at_the_heuristic_plans_duals(monkeypatch):
    calls = []
    real = highs_module.lagrangian_dual

    def watched(st, pool, target, **kw):
        calls.append((st, kw.get("start")))
        return real(st, pool, target, **kw)

    monkeypatch.setattr(highs_module, "lagrangian_dual", watched)
    inst = gen(5, products=7, segments=3, suppliers=4, periods=6)
    plan = plan_instance(inst, SolveOptions(time_limit=15, route="decompose", workers=0))
    assert plan.status in ("optimal", "feasible")
    (st, start), = calls
    assert start is not None and len(start[0]) == len(st.link_rows) and set(start[1]) == {b.key for b in st.blocks}
    assert np.any(start[0] != 0)  # the heuristic plan's LP prices some linking row


def test_a_pass_brings_each_blocks_plan_as_a_column_of_the_master(small):
    """A column is a block's plan: its own cost, its activity in its linking rows and its copies
    make up that block's value at the multipliers, and summed over the blocks the pass's L."""
    inst, sf, form, sign, blocks = small
    st = split(form, blocks)
    rng = np.random.default_rng(1)
    pi = np.where(np.isfinite(st.link_upper), 1.0, -1.0) * rng.uniform(0, 5, len(st.link_rows))
    mu = {k: v + rng.normal(0, 1, len(v)) for k, v in initial_mu(st).items()}
    a = merge(Pool(groups_of(st.blocks, 2), len(st.link_rows)).solve(pi, mu, False, columns=True))
    assert set(a.columns) == {b.key for b in st.blocks}
    priced = sum(a.columns[b.key][0] + pi[b.link_rows] @ a.columns[b.key][1] + mu[b.key] @ a.copies[b.key] for b in st.blocks)
    assert priced == pytest.approx(a.bound, rel=1e-9, abs=1e-6)


def test_the_master_of_a_plan_alone_values_it_at_most_at_its_cost(small):
    """The master with a plan's blocks alone is a plan of its LP (each block's one column at
    weight 1, the shared columns free): it costs at most what the plan costs, and keeps every
    linking row, so it gives prices."""
    inst, sf, form, sign, blocks = small
    st = split(form, blocks)
    x = heuristic_plan_x(inst)
    master = LinkMaster(st, initial_mu(st), master_penalty(st))
    master.add_plan(x)
    top, pi = master.solve()
    assert top <= float(form.c @ x + form.offset) + 1e-6 * abs(form.c @ x)
    assert len(pi) == len(st.link_rows) and np.all(np.isfinite(pi))


def heuristic_plan_x(inst):
    """The heuristic plan of ``inst`` in the compiled columns, completed by the route's LP."""
    m = build_model(inst, select(None, None))
    sf, form, sign = compile_model(m)
    construct_start(m, inst)
    return highs_module._start_plan(form, sf.columns, SolveOptions(), {})[0]


def lp_relaxation_x(form):
    """The LP relaxation's columns (a point of every block's LP, keeping every linking row)."""
    h = new_highs()
    h.setOptionValue("output_flag", False)
    h.passModel(form.highs_lp(integer=False))
    h.run()
    return np.asarray(h.getSolution().col_value)


@pytest.mark.parametrize("seed,options", CASES)
def test_the_master_prices_the_linking_rows_up_to_the_lp_bound(seed, options):
    """At the copies' multipliers of the LP relaxation's duals, the master's prices (each pass's
    block plans added to it) bring the blocks' LPs to the relaxation's value, where the master's
    value and L meet; subgradient steps (the build without the master, aimed at the optimum)
    from the same start, in as many passes, do not get there. Every L is a bound."""
    inst = gen(seed, products=7, segments=3, suppliers=4, periods=6)
    best = optimum(inst, options)
    sf, form, sign, blocks = compiled(inst, options)
    st = split(form, blocks)
    z, y = lp_relaxation(form)
    mu = multipliers_from_duals(st, y)[1]
    pool = Pool(groups_of(st.blocks, 1), len(st.link_rows))
    tol = 1e-6 * abs(z) + 1e-6
    master = LinkMaster(st, mu, master_penalty(st))
    master.add_plan(lp_relaxation_x(form))
    seen = []
    for _ in range(30):
        top, pi = master.solve()
        assert top >= z - tol  # the master's value is never below the relaxation's
        answers = pool.solve(pi, mu, False, columns=True)
        seen.append(lagrangian_value(st, pi, mu, answers))
        if top - seen[-1] <= tol:
            break
        master.add(answers)
    assert max(seen) == pytest.approx(z, abs=tol) and max(seen) <= sign * best + 1e-6 * abs(best)
    stepped = []
    lagrangian_dual(st, pool, lambda: sign * best, time_budget=120, max_iterations=len(seen) + 2, lp_share=1.0, min_step=1e-12,
                    start=(np.zeros(len(st.link_rows)), mu), master=False, on_bound=stepped.append)
    assert max(p.last for p in stepped) < z - tol


def lagrangian_value(st, pi, mu, answers):
    """L at these multipliers from a pass's answers (the shared columns' part solved here)."""
    owner = {b.key: b for b in st.blocks}
    cost = st.shared_sf.c + st.link_shared_A.T @ pi
    for key, m in mu.items():
        np.subtract.at(cost, owner[key].copies, m)
    h = new_highs()
    h.setOptionValue("output_flag", False)
    lp = st.shared_sf.highs_lp()
    lp.col_cost_ = cost
    h.passModel(lp)
    h.run()
    return sum(a.bound for a in answers) + h.getInfo().objective_function_value - rhs_term(pi, st.link_lower, st.link_upper) + st.offset


class SlowMips:
    """A block group whose every call as MIPs takes a second more."""

    def __init__(self, group):
        self.group = group

    def solve(self, pi, mu, integer, *args):
        if integer:
            time.sleep(1.0)
        return self.group.solve(pi, mu, integer, *args)


def test_a_pass_as_mips_leaves_room_for_its_longest_chunk_before_the_rest_as_lps(small):
    """Chunks of blocks as MIPs can take far longer than planned (blocks differ): the pass turns
    to LPs while its longest chunk yet and the rest as LPs still fit, and so ends in time with a
    bound, where planning on a planned chunk's time starts one more chunk, ends past its time and
    gives the pass up."""
    inst, sf, form, sign, blocks = small
    st = split(form, blocks)
    pool = Pool(groups_of(st.blocks, 1), len(st.link_rows), make=lambda i, g: SlowMips(BlockGroup(g, len(st.link_rows))))
    pool.seconds_per_block[True], pool.measured = 1.0, True  # a block a chunk
    pi, mu = np.zeros(len(st.link_rows)), initial_mu(st)
    t0 = time.perf_counter()
    answers = pool.solve(pi, mu, True, finish_by=t0 + 2.5)
    took = time.perf_counter() - t0
    assert answers is not None and np.isfinite(merge(answers).bound)
    assert 1.9 < took < 2.6  # two chunks as MIPs, the rest as LPs


def test_a_run_without_a_plan_has_no_master(small, monkeypatch):
    """Without a plan the LP phase goes by subgradient steps, which end it early, and the passes
    as MIPs bring the blocks' decisions for a first plan; with one, the master prices the rows."""
    import planner.solve.decompose as decompose
    made = []
    real = decompose.LinkMaster
    monkeypatch.setattr(decompose, "LinkMaster", lambda *a, **kw: made.append(1) or real(*a, **kw))
    inst, sf, form, sign, blocks = small
    st = split(form, blocks)
    pool = Pool(groups_of(st.blocks, 1), len(st.link_rows))
    seeds = []
    lagrangian_dual(st, pool, lambda: np.inf, time_budget=4, on_plan=seeds.append)
    assert not made and seeds
    lagrangian_dual(st, pool, lambda: np.inf, time_budget=4, plan=heuristic_plan_x(inst))
    assert made


class Timing:
    """A pool whose passes take a third of a second more, taken to need 2 s as MIPs, and which
    records when it is timed and at which multipliers."""

    def __init__(self, pool):
        self.pool, self.timed, self.t0 = pool, [], time.perf_counter()

    def __getattr__(self, name):
        return getattr(self.pool, name)

    def calibrate(self, pi, mu, block_time=1.0, again=False):
        self.timed.append((time.perf_counter() - self.t0, pi.copy()))

    def integer_pass_seconds(self):
        return 2.0

    def solve(self, *args, **kw):
        time.sleep(0.3)
        return self.pool.solve(*args, **kw)


def test_a_pass_as_mips_is_timed_again_at_the_masters_prices_before_the_lp_phase_ends(small):
    """The first timing is at the start's multipliers; with the master pricing the linking rows,
    the pass is timed again, at the best multipliers, once two passes' time is left (4 s of 6)."""
    inst, sf, form, sign, blocks = small
    st = split(form, blocks)
    pool = Timing(Pool(groups_of(st.blocks, 1), len(st.link_rows)))
    seen = []
    lagrangian_dual(st, pool, lambda: 0.0, time_budget=6, lp_share=0.9, min_step=1e-12, on_bound=seen.append, plan=heuristic_plan_x(inst))
    (first, pi0), (again, pi1) = pool.timed
    assert first < 0.5 and 2.0 <= again < 3.0
    assert not np.allclose(pi0, pi1)  # the master's prices, not the start's
    assert next(p for p in seen if p.integer).seconds > again


class Sinking:
    """A pool whose passes as LPs give ever worse bounds (and copies that never agree): an LP phase
    that has stalled from its first pass; a pass as MIPs is taken to need 4 s."""

    def __init__(self, pool):
        self.pool, self.lp_passes = pool, 0

    def __getattr__(self, name):
        return getattr(self.pool, name)

    def calibrate(self, *args, **kw):
        pass

    def integer_pass_seconds(self):
        return 4.0

    def solve(self, pi, mu, integer, *args, **kw):
        answers = self.pool.solve(pi, mu, integer, *args, **kw)
        if answers is not None and not integer:
            self.lp_passes += 1
            answers[0].bound -= 1e6 * self.lp_passes
            answers[0].copies = {k: v + 1.0 for k, v in answers[0].copies.items()}
        return answers


def test_a_stalled_lp_phase_leaves_the_time_for_a_pass_as_mips(small):
    """The LP passes give up the rest of their share of the time once they stop raising the bound,
    as soon as a pass of the blocks as MIPs needs the time left: with ``lp_share`` 0.9 of 10 s
    they would go on to the last second."""
    inst, sf, form, sign, blocks = small
    st = split(form, blocks)
    seen = []
    lagrangian_dual(st, Sinking(Pool(groups_of(st.blocks, 1), len(st.link_rows))), lambda: 0.0, time_budget=10,
                    lp_share=0.9, min_step=0.0, on_bound=seen.append)
    first_mip = next(p for p in seen if p.integer)
    assert len([p for p in seen if not p.integer]) > 8  # the LP passes ran, and stalled
    assert 4.5 < first_mip.seconds < 7.0  # begun with 5 s (1.25 passes) left, not 1 s
