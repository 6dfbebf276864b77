"""Fix-and-optimise: improve a feasible plan by re-solving it one block of products at a time.

A weekly run of 1,000 products is too large for HiGHS to find good plans in a
minute (presolve and the root LP alone take a third of it), but a group of a
few products, with everything else held at the current plan, is a small MIP it
solves in a fraction of a second. This module works on the model's matrix
(the same standard form HiGHS gets), so it knows no family by name and improves
plans of any model, user families included:

- The columns are partitioned into **blocks** (by product: ``block_of`` maps a
  column to its block, ``None`` for columns shared by all products, such as the
  service tiers and supplier use, which stay as they are).
- For one block, every other column is fixed at the incumbent. The rows that
  touch the block keep their bounds less what the fixed columns already use
  (a supplier's capacity less the other products' orders, the budget less the
  other spending): a small MIP over the block's columns only.
- HiGHS solves it from the incumbent's values (a MIP start) with a short time
  limit; a better block plan is accepted. Plans are compared by this module's
  own arithmetic (``c @ x``), never by HiGHS's report of its start (HiGHS 1.16
  can misjudge a start's objective after presolve). Every accepted plan is
  feasible for the whole model, so the incumbent only ever improves and can be
  returned at any moment.

Blocks are visited in rounds; each round draws a new partition into groups of
a few products, each grown from a random product through a row it shares with
others (a supplier's capacity in some week), so products that compete for the
same capacity are re-planned together and capacity moves between them. The
first round re-plans one product at a time, the later ones three together
(``GROUP_SIZES``): from the heuristic's plan a single product's sub-MIP takes a
fraction of a group's time and gains much of what the group would, so the
whole plan improves in the time one round of groups would reach a part of it;
from the better plan the groups' sub-MIPs are quick too. It stops when a round
at the last size improves the profit by less than ``min_round_gain``
(relative), when the time is up, or when ``should_stop`` says so.

The group size, the sub-MIP gap and time, and what was tried and not kept (an
LP re-balancing the groups after each round, larger groups, looser gaps) were
chosen by measurement: README, "How a run is solved".
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable, Hashable, Sequence

import highspy
import numpy as np

from planner.contract.instance import Instance
from planner.solve.standard_form import StandardForm, limit_block, new_highs, rows_hold

#: Products per group, round by round (the last repeats): measured at L and XL, README, "How a
#: run is solved", item 6.
GROUP_SIZES = (1, 3)


def product_blocks(inst: Instance) -> Callable[[Any], Hashable | None]:
    """The product a model variable belongs to (the first product id in its index), or None for
    variables shared by all products (tiers, supplier use): fix-and-optimise's blocks."""
    products = set(inst.product_ids)

    def block(v) -> Hashable | None:
        index = v.index()
        for e in index if isinstance(index, tuple) else (index,):
            if e in products:
                return e
        return None

    return block


@dataclass
class ImproveResult:
    x: np.ndarray
    objective: float  # HiGHS's (minimised) objective of x
    rounds: int = 0
    blocks_solved: int = 0
    blocks_improved: int = 0
    blocks_refused: int = 0  # a better block plan whose rounded integers broke a row it touches


class Blocks:
    """The blocks of a column partition and which blocks share a row.

    Two blocks are *related* when a row other than a near-global one (budget,
    warehouse: rows over more than ``global_share`` of all blocks) holds columns of
    both — on the planning model, products that share a supplier's capacity.
    """

    def __init__(self, A, block_of: Sequence[Hashable | None], global_share: float = 0.5):
        ids: dict[Hashable, int] = {}
        col_block = np.full(len(block_of), -1, dtype=np.int64)
        for j, b in enumerate(block_of):
            if b is not None:
                col_block[j] = ids.setdefault(b, len(ids))
        self.n = len(ids)
        order = np.argsort(col_block, kind="stable")
        order = order[col_block[order] >= 0]  # each block's columns, ascending
        self.columns = np.split(order, np.searchsorted(col_block[order], np.arange(1, self.n))) if self.n else []
        # rows -> blocks, through the matrix's pattern: the distinct (row, block) pairs,
        # sorted by row then block, as one integer key per pair, by a sort and a comparison
        # of neighbours (faster than np.unique over the pairs: README, "How a run is solved")
        coo = A.tocoo()
        keep = col_block[coo.col] >= 0
        width = max(self.n, 1)
        keys = np.sort(coo.row[keep].astype(np.int64) * width + col_block[coo.col[keep]])
        keys = keys[np.r_[True, keys[1:] != keys[:-1]]] if len(keys) else keys
        pairs = np.stack([keys // width, keys % width], axis=1)
        rows, counts = np.unique(pairs[:, 0], return_counts=True)
        coupling = rows[(counts > 1) & (counts <= max(2, global_share * self.n))]
        pairs = pairs[np.isin(pairs[:, 0], coupling)]  # still sorted by row
        by_block = pairs[np.argsort(pairs[:, 1], kind="stable")]
        cuts = np.searchsorted(by_block[:, 1], np.arange(1, self.n))
        self.block_rows: list[np.ndarray] = [part[:, 0] for part in np.split(by_block, cuts)] if self.n else []
        starts = np.searchsorted(pairs[:, 0], coupling)
        ends = np.searchsorted(pairs[:, 0], coupling, side="right")
        self.row_blocks: dict[int, np.ndarray] = {int(r): pairs[a:e, 1] for r, a, e in zip(coupling, starts, ends)}

    def groups(self, size: int, rng: np.random.Generator, related: bool = True) -> list[np.ndarray]:
        """Column index arrays, one per group of up to ``size`` blocks. ``related``: each
        group grows from a random block through a random coupling row it shares with
        others (blocks that compete for the same capacity are improved together);
        otherwise the groups are drawn at random."""
        free = np.ones(self.n, dtype=bool)
        out = []
        for seed in rng.permutation(self.n):
            if not free[seed]:
                continue
            free[seed] = False
            group = [int(seed)]
            rows = self.block_rows[seed] if related else []
            for r in rng.permutation(rows)[:3] if len(rows) else []:
                cand = [b for b in self.row_blocks[int(r)] if free[b]]
                if cand:
                    take = rng.choice(cand, size=min(size - len(group), len(cand)), replace=False)
                    for b in take:
                        free[b] = False
                        group.append(int(b))
                if len(group) >= size:
                    break
            if len(group) < size:  # fill up with any free blocks
                rest = np.flatnonzero(free)
                take = rng.choice(rest, size=min(size - len(group), len(rest)), replace=False) if len(rest) else []
                for b in take:
                    free[b] = False
                    group.append(int(b))
            out.append(np.sort(np.concatenate([self.columns[b] for b in group])))
        return out


def improve(
    sf: StandardForm,
    x0: np.ndarray,
    block_of: Sequence[Hashable | None],
    time_budget: float,
    *,
    block_size: int | Sequence[int] = GROUP_SIZES,
    block_time: float = 0.2,
    block_gap: float = 1e-2,
    min_round_gain: float = 1e-4,
    max_rounds: int = 20,
    seed: int = 0,
    related: bool = True,
    should_stop: Callable[[], bool] | None = None,
    on_improved: Callable[[float, float], None] | None = None,
) -> ImproveResult:
    """Improve the feasible solution ``x0`` block by block (see the module docstring).
    ``block_size``: products per group, or a size per round, the last repeated."""
    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    A = sf.A.tocsc()
    blocks = Blocks(A, block_of)
    x = np.asarray(x0, dtype=float).copy()
    x[sf.is_int] = np.round(x[sf.is_int])
    act = A @ x
    obj = float(sf.c @ x + sf.offset)
    res = ImproveResult(x=x, objective=obj)
    h = new_highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("mip_rel_gap", float(block_gap))

    def out_of_time() -> bool:
        return time.perf_counter() - t0 >= time_budget or (should_stop is not None and should_stop())

    sizes = [int(size) for size in np.atleast_1d(block_size)]
    while res.rounds < max_rounds and not out_of_time():
        size = sizes[min(res.rounds, len(sizes) - 1)]
        res.rounds += 1
        round_start = obj
        for cols in blocks.groups(size, rng, related):
            left = time_budget - (time.perf_counter() - t0)
            if left <= 0.05 or (should_stop is not None and should_stop()):
                break
            new, rows, sub = _solve_block(h, sf, A, act, x, cols, min(block_time, left))
            res.blocks_solved += 1
            if new is None:
                continue
            gain = float(sf.c[cols] @ (x[cols] - new))
            if gain <= 1e-9 * max(1.0, abs(obj)):
                continue
            moved = act[rows] + sub @ (new - x[cols])
            if not rows_hold(moved, sf.row_lower[rows], sf.row_upper[rows]):
                res.blocks_refused += 1
                continue
            act[rows] = moved
            x[cols] = new
            obj -= gain
            res.blocks_improved += 1
            if on_improved is not None:
                on_improved(time.perf_counter() - t0, obj)
        if round_start - obj <= min_round_gain * max(1.0, abs(obj)) and res.rounds >= len(sizes):
            break
    res.x, res.objective = x, obj
    return res


def _solve_block(h: highspy.Highs, sf: StandardForm, A, act: np.ndarray, x: np.ndarray, cols: np.ndarray, time_limit: float):
    """The sub-MIP of one group's columns, everything else held at ``x``: (its plan for the
    columns, or None without one; the rows it touches; those rows' part of A)."""
    sub = A[:, cols]
    rows = np.unique(sub.indices)
    sub = sub[rows, :].tocsc()
    fixed_use = act[rows] - sub @ x[cols]  # what the columns outside the block take of each row
    block = StandardForm(
        A=sub,
        c=sf.c[cols],
        col_lower=sf.col_lower[cols],
        col_upper=sf.col_upper[cols],
        row_lower=sf.row_lower[rows] - fixed_use,  # ±inf stays ±inf
        row_upper=sf.row_upper[rows] - fixed_use,
        is_int=sf.is_int[cols],
    )
    h.passModel(block.highs_lp())
    start = highspy.HighsSolution()  # the incumbent's block: HiGHS starts from it
    start.col_value = x[cols]
    start.value_valid = True
    h.setSolution(start)
    limit_block(h, time_limit)
    h.run()
    if h.getInfo().primal_solution_status != 2:
        return None, rows, sub
    new = np.array(h.getSolution().col_value)
    new[block.is_int] = np.round(new[block.is_int])
    return new, rows, sub
