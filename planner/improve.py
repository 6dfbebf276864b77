"""Fix-and-optimise: improve a feasible plan by re-solving it one block of products at a time.

A weekly run of 1,000 products is too large for HiGHS to find good plans in a
minute (presolve and the root LP alone take half of it), but a block of a few
dozen products, with everything else held at the current plan, is a small MIP
it solves in a fraction of a second. This module works on the model's matrix
(the same standard form HiGHS gets), so it knows no family by name and improves
plans of any model, user families included:

- The columns are partitioned into **blocks** (by product: ``block_of`` maps a
  column to its block, ``None`` for columns shared by all products, such as the
  service tiers and supplier use, which stay as they are).
- For one block, every other column is fixed at the incumbent. The rows that
  touch the block keep their bounds less what the fixed columns already use
  (a supplier's capacity less the other products' orders, the budget less the
  other spending): a small MIP over the block's columns only.
- HiGHS solves it with a short time limit; a better block plan is accepted.
  Every accepted plan is feasible for the whole model, so the incumbent only
  ever improves and can be returned at any moment.

Blocks are visited in rounds; each round draws a new random partition, so
products that share suppliers meet in a block sooner or later (capacity moves
between them). It stops when a round improves the profit by less than
``min_round_gain`` (relative), when the time is up, or when ``should_stop`` says so.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Hashable, Sequence

import highspy
import numpy as np

from planner.standard_form import StandardForm, new_highs


@dataclass
class ImproveResult:
    x: np.ndarray
    objective: float  # HiGHS's (minimised) objective of x
    rounds: int = 0
    blocks_solved: int = 0
    blocks_improved: int = 0
    trace: list[tuple[float, float]] = field(default_factory=list)  # (seconds, objective) after each accepted block


def partition(block_of: Sequence[Hashable | None], size: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Column index arrays, one per group of ``size`` blocks drawn at random."""
    keys: dict[Hashable, list[int]] = {}
    for j, b in enumerate(block_of):
        if b is not None:
            keys.setdefault(b, []).append(j)
    names = list(keys)
    order = rng.permutation(len(names))
    groups = []
    for i in range(0, len(order), size):
        groups.append(np.array(sorted(j for n in order[i : i + size] for j in keys[names[n]]), dtype=np.int64))
    return groups


def improve(
    sf: StandardForm,
    x0: np.ndarray,
    block_of: Sequence[Hashable | None],
    time_budget: float,
    *,
    block_size: int = 5,
    block_time: float = 0.3,
    min_round_gain: float = 1e-4,
    max_rounds: int = 20,
    seed: int = 0,
    should_stop: Callable[[], bool] | None = None,
    on_improved: Callable[[float, float], None] | None = None,
) -> ImproveResult:
    """Improve the feasible solution ``x0`` block by block (see the module docstring)."""
    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    A = sf.A.tocsc()
    x = np.asarray(x0, dtype=float).copy()
    x[sf.is_int] = np.round(x[sf.is_int])
    act = A @ x
    obj = float(sf.c @ x + sf.offset)
    res = ImproveResult(x=x, objective=obj)
    h = new_highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("mip_rel_gap", 1e-3)

    def out_of_time() -> bool:
        return time.perf_counter() - t0 >= time_budget or (should_stop is not None and should_stop())

    while res.rounds < max_rounds and not out_of_time():
        res.rounds += 1
        round_start = obj
        for cols in partition(block_of, block_size, rng):
            left = time_budget - (time.perf_counter() - t0)
            if left <= 0.05 or (should_stop is not None and should_stop()):
                break
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
            ints = block.is_int
            lp = block.highs_lp()
            h.passModel(lp)
            start = highspy.HighsSolution()  # the incumbent's block: HiGHS starts from it
            start.col_value = x[cols]
            start.value_valid = True
            h.setSolution(start)
            h.setOptionValue("time_limit", float(min(block_time, left)))
            h.run()
            res.blocks_solved += 1
            if h.getInfo().primal_solution_status != 2:
                continue
            new = np.array(h.getSolution().col_value)
            new[ints] = np.round(new[ints])
            gain = float(sf.c[cols] @ (x[cols] - new))
            if gain <= 1e-9 * max(1.0, abs(obj)):
                continue
            delta = new - x[cols]
            act[rows] += sub @ delta
            x[cols] = new
            obj -= gain
            res.blocks_improved += 1
            res.trace.append((time.perf_counter() - t0, obj))
            if on_improved is not None:
                on_improved(time.perf_counter() - t0, obj)
        if round_start - obj <= min_round_gain * max(1.0, abs(obj)):
            break
    res.x, res.objective = x, obj
    return res
