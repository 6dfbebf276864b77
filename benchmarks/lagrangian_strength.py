"""How strong is the product-block Lagrangian bound, and how much of it does the route get?

    python -m benchmarks.lagrangian_strength                 # S (50 products)
    python -m benchmarks.lagrangian_strength --sizes S M     # also M (200 products: about 20 minutes)
    python -m benchmarks.lagrangian_strength --write         # also rewrite benchmarks/LAGRANGIAN.md

The decomposed route (``planner/solve/decompose.py``) relaxes the linking rows and the copies of
the shared columns. Its bound can be weak for two different reasons, which call for different
work: the relaxation itself (no multipliers give a good bound: blocks that keep more together
would be needed), or the multipliers found in the time a run has (better ascent would do). This
tells them apart on one instance, in one process:

1. **HiGHS on the whole model** for a while: its best plan and bound (the optimum lies between).
2. **The Lagrangian dual itself**, by column generation run to the end: a Dantzig-Wolfe master
   over the linking rows *and the copy rows* (``FullMaster`` below: every block plan a column,
   its copies' values in its block's copy rows), the blocks solved exactly as MIPs, until the
   best L meets the master's value. Both the linking rows' and the copies' multipliers are the
   master's duals, so this is :math:`\\max_{\\pi,\\mu} L(\\pi,\\mu)`, the best bound this
   relaxation can give.
3. **One pass of the blocks as MIPs at the LP phase's best multipliers** (the same master with the
   blocks as LPs, run to the end), at several block MIP gaps: what a run that has time for one
   pass as MIPs gets, and what the blocks' own gap (``decompose.BLOCK_OPTIONS``) gives away.

The route itself does not run the full master (its LP phase holds the copies' multipliers at the
start's, and its MIP phase steps by subgradients): this master needs more passes than a run has
at the sizes the route is for (benchmarks/LAGRANGIAN.md, and the README's "How strong the
relaxation is").
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import highspy
import numpy as np
import scipy.sparse as sp

from benchmarks.machine import header
from benchmarks.run import SIZES, SUPPLIERS
from instances.generator import generate
from models import build_model, select
from planner.contract.loading import tables_from_mapping
from planner.contract.validation import validate
from planner.solve.decompose import INF, BlockGroup, Structure, block_column, project_multipliers, rhs_term, split
from planner.solve.improve import product_blocks
from planner.solve.standard_form import compile_model, new_highs
from planner.solve.start import construct_start

HERE = Path(__file__).resolve().parent
GAPS = (1e-2, 3e-3, 1e-3, 1e-4, 1e-6)
HIGHS_SECONDS = {"S": 300.0, "M": 400.0}


class FullMaster:
    """The Dantzig-Wolfe master over the linking rows, the blocks' convexity rows and one copy
    row per block and shared column it copies (:math:`\\sum_k \\lambda_{bk} x_b^k[g] - x_G[g] = 0`);
    the linking rows may be broken at a penalty until the columns keep them."""

    def __init__(self, st: Structure, penalty: float = 1e4):
        self.st = st
        n_links, n_blocks = len(st.link_rows), len(st.blocks)
        sizes = np.array([len(b.copies) for b in st.blocks])
        n_copies = int(sizes.sum())
        self.copy0 = n_links + n_blocks + np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
        sh = st.shared_sf
        copies = sp.csc_matrix((-np.ones(n_copies), (np.arange(n_copies), np.concatenate([b.copies for b in st.blocks]))),
                               shape=(n_copies, len(sh.c)))
        shared_cols = sp.vstack([st.link_shared_A.tocsc(), sp.csc_matrix((n_blocks, len(sh.c))), copies, sh.A.tocsc()]).tocsc()
        eye = sp.identity(n_links, format="csc")
        slack = sp.vstack([sp.hstack([eye, -eye]), sp.csc_matrix((n_blocks + n_copies + sh.A.shape[0], 2 * n_links))]).tocsc()
        A = sp.hstack([shared_cols, slack]).tocsc()
        A.sort_indices()
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = A.shape[1], A.shape[0]
        lp.col_cost_ = np.concatenate([sh.c, np.full(2 * n_links, penalty)])
        lp.col_lower_ = np.concatenate([sh.col_lower, np.zeros(2 * n_links)])
        lp.col_upper_ = np.concatenate([sh.col_upper, np.full(2 * n_links, INF)])
        lp.row_lower_ = np.concatenate([st.link_lower, np.ones(n_blocks), np.zeros(n_copies), sh.row_lower])
        lp.row_upper_ = np.concatenate([st.link_upper, np.ones(n_blocks), np.zeros(n_copies), sh.row_upper])
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = A.indptr, A.indices, A.data
        self.h = new_highs()
        self.h.setOptionValue("output_flag", False)
        self.h.passModel(lp)

    def add(self, columns: list[tuple[int, float, np.ndarray, np.ndarray]]) -> None:
        """Block plans as columns: (block position, cost, linking rows' use, copies' values)."""
        starts, index, value, cost, size = [], [], [], [], 0
        n_links = len(self.st.link_rows)
        for b, own_cost, used, copies in columns:
            blk = self.st.blocks[b]
            starts.append(size)
            index += [blk.link_rows, [n_links + b], self.copy0[b] + np.arange(len(blk.copies))]
            value += [used, [1.0], copies]
            size += len(blk.link_rows) + 1 + len(blk.copies)
            cost.append(own_cost)
        k = len(cost)
        self.h.addCols(k, np.array(cost), np.zeros(k), np.full(k, INF), size, np.array(starts, dtype=np.int32),
                       np.concatenate(index).astype(np.int32), np.concatenate(value).astype(float))

    def prices(self) -> tuple[float, np.ndarray, dict[int, np.ndarray]]:
        """(the master's value with the offset, pi, mu) in the route's signs."""
        self.h.run()
        y = np.asarray(self.h.getSolution().row_dual)
        st = self.st
        pi = project_multipliers(-y[: len(st.link_rows)], st.link_lower, st.link_upper)
        mu = {b.key: -y[c0: c0 + len(b.copies)] for b, c0 in zip(st.blocks, self.copy0)}
        return self.h.getInfo().objective_function_value + st.offset, pi, mu


class Lagrangian:
    """L at given multipliers: the blocks (a BlockGroup in this process) and the shared columns."""

    def __init__(self, st: Structure):
        self.st = st
        self.group = BlockGroup(st.blocks, len(st.link_rows))
        self.h = new_highs()
        self.h.setOptionValue("output_flag", False)
        self.h.setOptionValue("mip_rel_gap", 1e-9)
        self.shared = st.shared_sf.highs_lp()

    def __call__(self, pi, mu, integer: bool, gap: float = 1e-6):
        st = self.st
        answer = self.group.solve(pi, mu, integer, block_time=60.0, columns=True, gap=gap)
        cost = st.shared_sf.c + st.link_shared_A.T @ pi
        for b in st.blocks:
            np.subtract.at(cost, b.copies, mu[b.key])
        self.shared.col_cost_ = cost
        self.h.passModel(self.shared)
        self.h.run()
        value = answer.bound + self.h.getInfo().objective_function_value - rhs_term(pi, st.link_lower, st.link_upper) + st.offset
        return value, answer


def column_generation(st: Structure, x: np.ndarray, lagrangian: Lagrangian, integer: bool, limit: float, gap: float = 1e-6):
    """The master from plan ``x``'s blocks, priced until the best L meets its value (1e-6) or
    ``limit`` seconds: (best L, its pi, its mu, passes, seconds, whether it met)."""
    t0 = time.perf_counter()
    master = FullMaster(st)
    master.add([(b, *block_column(blk, x[cols]), x[st.shared[blk.copies]]) for b, (blk, cols) in enumerate(zip(st.blocks, st.block_columns))])
    best, passes = (-np.inf, None, None), 0
    while True:
        top, pi, mu = master.prices()
        value, answer = lagrangian(pi, mu, integer, gap)
        passes += 1
        if value > best[0]:
            best = (value, pi, mu)
        met = top - best[0] <= 1e-6 * abs(top)
        if met or time.perf_counter() - t0 > limit:
            return (*best, passes, time.perf_counter() - t0, met)
        master.add([(b, *answer.columns[blk.key], answer.copies[blk.key]) for b, blk in enumerate(st.blocks)])


def measure(size: str, highs_seconds: float, dual_seconds: float) -> dict:
    tables = generate(products=SIZES[size], segments=4, suppliers=SUPPLIERS.get(size, 10), periods=13, seed=2026)
    inst = validate(tables_from_mapping({k: v.to_dict(orient="records") for k, v in tables.items()})).instance
    m = build_model(inst, select(None, None))
    sf, form, sign = compile_model(m)
    construct_start(m, inst)
    # the heuristic plan, its continuous decisions set by an LP, as the route's start
    x = form.fixed_lp(np.array([round(float(v.value)) for v, i in zip(sf.columns, form.is_int) if i]))[0]
    st = split(form, [product_blocks(inst)(v) for v in sf.columns])
    out = {"size": size, "blocks": len(st.blocks), "links": len(st.link_rows), "copies": st.n_copies}

    h = new_highs()
    for key, value in {"output_flag": False, "time_limit": highs_seconds, "mip_rel_gap": 1e-6}.items():
        h.setOptionValue(key, value)
    h.passModel(form.highs_lp())
    t = time.perf_counter()
    h.run()
    if h.getInfo().primal_solution_status != 2:
        raise SystemExit(f"{size}: HiGHS found no plan in {highs_seconds:g} s ({h.modelStatusToString(h.getModelStatus())})")
    out["highs"] = (-h.getInfo().objective_function_value, -h.getInfo().mip_dual_bound, time.perf_counter() - t)
    print(f"{size}: HiGHS plan {out['highs'][0]:,.0f}, bound {out['highs'][1]:,.0f} ({out['highs'][2]:.0f} s)", flush=True)

    lagrangian = Lagrangian(st)
    value, pi, mu, passes, seconds, met = column_generation(st, x, lagrangian, False, dual_seconds)
    out["lp_phase"] = (-value, passes, seconds, met)
    print(f"{size}: LP phase {-value:,.0f} ({passes} passes, {seconds:.0f} s, {'met' if met else 'not met'})", flush=True)
    out["one_pass"] = []
    for gap in GAPS:
        t = time.perf_counter()
        bound, _ = lagrangian(pi, mu, True, gap)
        out["one_pass"].append((gap, -bound, time.perf_counter() - t))
        print(f"{size}: one pass as MIPs at gap {gap:g}: {-bound:,.0f} ({out['one_pass'][-1][2]:.1f} s)", flush=True)

    value, _, _, passes, seconds, met = column_generation(st, x, lagrangian, True, dual_seconds)
    out["dual"] = (-value, passes, seconds, met)
    print(f"{size}: Lagrangian dual {-value:,.0f} ({passes} passes, {seconds:.0f} s, {'met' if met else 'not met'})", flush=True)
    return out


def table(results: list[dict]) -> str:
    lines = [
        "| size | blocks / linking rows / copies | HiGHS plan | HiGHS bound (s) | Lagrangian dual (passes, s) | LP phase's end (passes, s) |"
        + "".join(f" one pass at {g:g} (s) |" for g in GAPS),
        "|---|---|---|---|---|---|" + "---|" * len(GAPS),
    ]
    for r in results:
        hp, hb, hs = r["highs"]
        dv, dp, ds, dm = r["dual"]
        lv, lp_, ls, lm = r["lp_phase"]
        lines.append(
            f"| {r['size']} ({SIZES[r['size']]}) | {r['blocks']:,} / {r['links']:,} / {r['copies']:,} | {hp:,.0f} | {hb:,.0f} ({hs:.0f}) "
            f"| {dv:,.0f}{'' if dm else ' (not converged)'} ({dp}, {ds:.0f}) | {lv:,.0f}{'' if lm else ' (not converged)'} ({lp_}, {ls:.0f}) |"
            + "".join(f" {b:,.0f} ({s:.1f}) |" for _, b, s in r["one_pass"])
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", nargs="+", default=["S"], choices=list(HIGHS_SECONDS))
    ap.add_argument("--highs-seconds", type=float, default=None, help="HiGHS's time on the whole model (default: 300 s at S, 400 s at M)")
    ap.add_argument("--dual-seconds", type=float, default=600.0, help="the most each column generation may take")
    ap.add_argument("--write", action="store_true", help="rewrite benchmarks/LAGRANGIAN.md with this run")
    args = ap.parse_args(argv)
    results = [measure(s, args.highs_seconds or HIGHS_SECONDS[s], args.dual_seconds) for s in args.sizes]
    text = table(results)
    print(text)
    if args.write:
        lines = header("The Lagrangian bound's strength", f"python -m benchmarks.lagrangian_strength --sizes {' '.join(args.sizes)}")
        lines += ["", "Profits in money (the model's maximisation sense); instances as in RESULTS.md (seed 2026); seconds in brackets. "
                  "What the figures mean is in the module's docstring and the README (\"The decomposed route\").", "", text]
        (HERE / "LAGRANGIAN.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
