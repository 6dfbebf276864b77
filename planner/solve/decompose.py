r"""Lagrangian decomposition: a proven bound on large runs, block by block.

The blocks come from the model the families build, not from knowledge of them:
the compiled matrix (``standard_form``) and a map from each column to its block
(``improve.product_blocks``: the product in its index, None for columns every
product shares, such as the tier choice and the supplier-use switches) are all
it reads. An analyst's new family is in the decomposition with no extra code.

The rows fall in three kinds:

- **block rows** touch the columns of one block (and maybe shared columns):
  inventory balance, order big-Ms, fill-rate floors, safety stock, ...;
- **linking rows** touch several blocks: supplier capacity, warehouse space,
  the budget, or any row a family adds across products;
- **shared rows** touch shared columns only: one tier per segment, ...

Each block gets its own copy of the shared columns its rows use, and a copy
of every shared row over those columns (valid: in a plan the copies equal the
originals, so the originals' rows hold for them). Relaxing the linking rows
with multipliers :math:`\pi` and the copy equalities :math:`x_b[g] = x_G[g]`
with multipliers :math:`\mu` leaves one small MIP per block and one over the
shared columns (HiGHS minimises; ``c``, ``A`` as in :class:`StandardForm`):

.. math::

    L(\pi, \mu) = \sum_b \min_{x_b \in X_b} (c_b + A_{L,b}^\top \pi) x_b + \mu_b x_b[G_b]
        + \min_{x_G \in X_G} (c_G + A_{L,G}^\top \pi - \textstyle\sum_b \mu_b) x_G
        - \sum_i \mathrm{rhs}_i(\pi_i)

with :math:`\mathrm{rhs}_i(\pi_i) = \pi_i u_i` for :math:`\pi_i \ge 0` and
:math:`\pi_i l_i` otherwise (row :math:`l_i \le a_i x \le u_i`). For any
multipliers of the right signs :math:`L \le` the optimum (weak duality), and
each block contributes HiGHS's proven lower bound of its MIP, not its
incumbent, so the bound holds even when a block stops on its time limit.
Because the blocks keep their integer decisions (order indicators, the tier
copies), the bound is that of the convex hull of each block's plans: at least
the LP relaxation's, and on lot sizing with set-up costs usually well above it
(Absi & Kedad-Sidhoum 2009; Millar & Yang 1994, Lagrangean decomposition).

In the LP phase (the blocks' LP relaxations) the linking rows' multipliers are
priced by a Dantzig-Wolfe master over the block plans seen (:class:`LinkMaster`),
the copies' held; otherwise the multipliers rise by projected subgradient steps (Polyak's rule, towards
the best plan known, half steps at first and halved again after 8 passes
without a better bound: with the plan still far from optimal early in a run,
full steps overshot, and halving after 3 such passes ended the LP phase before
it had recovered: README, "The decomposed route"). The copy multipliers start with each shared column's
cost split among the blocks that copy it, by the size of each block's costs,
so that a block weighs a tier's value against what the tier costs it to keep.

The blocks are solved by :class:`BlockGroup` objects that each hold some of the
blocks and a HiGHS of their own: in this process, or as Dask actors on the
workers of a cluster, where the blocks are sent once and stay; each iteration
sends only multipliers and brings back a bound, each linking row's activity
and each copy's value. Plans are fix-and-optimise's (``improve``), beside it
(``highs``); where the run has no plan to improve, :func:`plan_from_blocks`
makes the first from the blocks' own decisions.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import time
from dataclasses import dataclass, field
from typing import Callable, Hashable, Sequence

import highspy
import numpy as np
import scipy.sparse as sp

from planner.solve.standard_form import INF, StandardForm, limit_block, new_highs


@dataclass
class Block:
    """One block's subproblem: its own columns first, then its copies of shared columns."""

    key: int
    sf: StandardForm
    n_own: int
    copies: np.ndarray  # for each copy column: the index of the shared column it copies
    link_rows: np.ndarray  # the linking rows its own columns touch
    link_A: sp.csr_matrix  # those rows' coefficients on its own columns


@dataclass
class Structure:
    """The split of a compiled model into blocks, shared columns and linking rows."""

    blocks: list[Block]
    block_columns: list[np.ndarray]  # the model's column indices of each block's own columns
    shared: np.ndarray  # the model's column indices of the shared columns
    shared_sf: StandardForm  # the shared columns with the shared rows
    link_rows: np.ndarray  # the model's row indices of the linking rows
    link_lower: np.ndarray
    link_upper: np.ndarray
    link_shared_A: sp.csr_matrix  # the linking rows' coefficients on the shared columns
    offset: float
    #: the model's row indices of each block's own rows, in the order of its subproblem's first rows
    block_rows: list[np.ndarray] = field(default_factory=list)

    @property
    def n_copies(self) -> int:
        return sum(len(b.copies) for b in self.blocks)


class NotDecomposable(ValueError):
    """The model does not split into blocks (the reason is the message)."""


def _compressed(kind, values: np.ndarray, major: np.ndarray, minor: np.ndarray, shape: tuple[int, int]):
    """A CSC (``kind`` csc_matrix; ``major`` the columns) or CSR matrix of distinct entries, built
    from its arrays directly: scipy's COO route costs more than the block itself."""
    order = np.lexsort((minor, major))
    n_major = shape[1] if kind is sp.csc_matrix else shape[0]
    indptr = np.zeros(n_major + 1, dtype=np.int32)
    np.cumsum(np.bincount(major, minlength=n_major), out=indptr[1:])
    return kind((values[order], minor[order].astype(np.int32), indptr), shape=shape)


def split(sf: StandardForm, block_of: Sequence[Hashable | None], group: int = 1) -> Structure:
    """The blocks of ``sf`` given each column's block; ``group`` blocks of ``block_of`` make one
    block here (fewer, larger subproblems)."""
    n_rows, n_cols = sf.A.shape
    ids: dict[Hashable, int] = {}
    col_block = np.full(n_cols, -1, dtype=np.int64)
    for j, b in enumerate(block_of):
        if b is not None:
            col_block[j] = ids.setdefault(b, len(ids)) // max(1, group)
    n_blocks = int(col_block.max()) + 1 if n_cols and col_block.max() >= 0 else 0
    if n_blocks < 2:
        raise NotDecomposable("the model has fewer than two blocks")
    shared = np.flatnonzero(col_block < 0)
    shared_pos = np.full(n_cols, -1, dtype=np.int64)
    shared_pos[shared] = np.arange(len(shared))

    A = sf.A.tocsr()
    coo = A.tocoo()
    rb = col_block[coo.col]
    # per row: the smallest and largest block it touches (shared columns: -1, left out)
    lo = np.full(n_rows, np.iinfo(np.int64).max)
    hi = np.full(n_rows, -1)
    own = rb >= 0
    np.minimum.at(lo, coo.row[own], rb[own])
    np.maximum.at(hi, coo.row[own], rb[own])
    touches_block = hi >= 0
    linking = touches_block & (lo != hi)
    block_row = touches_block & ~linking
    shared_only = ~touches_block
    row_block = np.where(block_row, hi, -1)

    link_rows = np.flatnonzero(linking)
    A_link = A[link_rows, :].tocsc()
    A_shared_rows = A[np.flatnonzero(shared_only), :].tocsc()[:, shared].tocsr()
    shared_rows = np.flatnonzero(shared_only)

    order = np.argsort(col_block, kind="stable")
    order = order[col_block[order] >= 0]
    block_columns = np.split(order, np.searchsorted(col_block[order], np.arange(1, n_blocks)))
    rows_sorted = np.argsort(row_block, kind="stable")
    rows_sorted = rows_sorted[row_block[rows_sorted] >= 0]
    block_rows = np.split(rows_sorted, np.searchsorted(row_block[rows_sorted], np.arange(1, n_blocks)))

    # Each block's matrix is cut from the nonzeros sorted by block once, not by slicing the whole
    # matrix per block: scipy's column slicing of a CSR costs a pass over all the model's columns,
    # once per block, so the old split grew with blocks times columns.
    col_pos = np.zeros(n_cols, dtype=np.int64)  # a block column's position among its block's
    for cols in block_columns:
        col_pos[cols] = np.arange(len(cols))
    row_pos = np.zeros(n_rows, dtype=np.int64)  # a block row's position among its block's
    for rows in block_rows:
        row_pos[rows] = np.arange(len(rows))
    in_rows = row_block[coo.row] >= 0
    by_block = np.argsort(row_block[coo.row[in_rows]], kind="stable")
    e_row, e_col, e_val = (x[in_rows][by_block] for x in (coo.row, coo.col, coo.data))
    e_cut = np.searchsorted(row_block[e_row], np.arange(n_blocks + 1))
    link = A_link.tocoo()
    in_link = col_block[link.col] >= 0
    by_block = np.argsort(col_block[link.col[in_link]], kind="stable")
    l_row, l_col, l_val = (x[in_link][by_block] for x in (link.row, link.col, link.data))
    l_cut = np.searchsorted(col_block[l_col], np.arange(n_blocks + 1))
    sh = A_shared_rows.toarray()  # few rows (one per segment, ...) over the shared columns
    sh_pattern = sh != 0
    sh_count = sh_pattern.sum(axis=1)

    blocks = []
    for b in range(n_blocks):
        cols, rows = block_columns[b], block_rows[b]
        n_own = len(cols)
        r, j, v = (x[e_cut[b]:e_cut[b + 1]] for x in (e_row, e_col, e_val))
        is_copy = col_block[j] < 0
        used_shared = np.unique(j[is_copy])
        copy_pos = shared_pos[used_shared]
        local_row, local_col = row_pos[r], np.where(is_copy, n_own + np.searchsorted(used_shared, j), col_pos[j])
        # the shared rows whose columns this block copies, copied too
        covered = np.flatnonzero(sh_pattern[:, copy_pos].sum(axis=1) == sh_count)
        if len(covered):
            cr, cc = np.nonzero(sh[np.ix_(covered, copy_pos)])
            local_row = np.concatenate([local_row, len(rows) + cr])
            local_col = np.concatenate([local_col, n_own + cc])
            v = np.concatenate([v, sh[covered[cr], copy_pos[cc]]])
        blockA = _compressed(sp.csc_matrix, v, local_col, local_row, (len(rows) + len(covered), n_own + len(used_shared)))
        take = np.concatenate([cols, used_shared])
        all_rows = np.concatenate([rows, shared_rows[covered]])
        lr, lj, lv = (x[l_cut[b]:l_cut[b + 1]] for x in (l_row, l_col, l_val))
        lrows = np.unique(lr)
        link_A = _compressed(sp.csr_matrix, lv, np.searchsorted(lrows, lr), col_pos[lj], (len(lrows), n_own))
        blocks.append(Block(
            key=b,
            sf=StandardForm(
                A=blockA, c=np.concatenate([sf.c[cols], np.zeros(len(used_shared))]),
                col_lower=sf.col_lower[take], col_upper=sf.col_upper[take],
                row_lower=sf.row_lower[all_rows], row_upper=sf.row_upper[all_rows], is_int=sf.is_int[take],
            ),
            n_own=n_own, copies=copy_pos, link_rows=lrows, link_A=link_A,
        ))
    shared_sf = StandardForm(
        A=A_shared_rows.tocsc(), c=sf.c[shared], col_lower=sf.col_lower[shared], col_upper=sf.col_upper[shared],
        row_lower=sf.row_lower[shared_rows], row_upper=sf.row_upper[shared_rows], is_int=sf.is_int[shared],
    )
    return Structure(
        blocks=blocks, block_columns=block_columns, shared=shared, shared_sf=shared_sf, link_rows=link_rows,
        link_lower=sf.row_lower[link_rows], link_upper=sf.row_upper[link_rows],
        link_shared_A=A_link[:, shared].tocsr(), offset=sf.offset, block_rows=block_rows,
    )


@dataclass
class BlockAnswer:
    """What a group of blocks gives back for one set of multipliers."""

    bound: float  # the sum of the blocks' proven lower bounds
    link_activity: np.ndarray  # each linking row's activity at the blocks' plans (their own columns)
    copies: dict[int, np.ndarray]  # block key -> its copies' values
    seconds: float = 0.0  # time spent solving
    #: block key -> the integer values of its own columns in its plan (asked for, blocks as MIPs only)
    ints: dict[int, np.ndarray] = field(default_factory=dict)
    #: block key -> its plan as a column of the Dantzig-Wolfe master (asked for): the cost of its
    #: own columns and their activity in its linking rows (``Block.link_rows``)
    columns: dict[int, tuple[float, np.ndarray]] = field(default_factory=dict)


#: HiGHS on a block: no primal heuristics and a 1 % gap — only the proven bound and a plan of the
#: block to take a step from are needed, and on blocks of this model HiGHS's root heuristics cost
#: more than the rest of the solve. A pass that has the time solves its blocks to
#: :data:`TIGHT_GAP` instead (:meth:`Pool.solve`). Threads are left alone: HiGHS sizes one thread
#: pool per process with its first MIP and fails a later run that asks for another size, and
#: blocks solved in this process share it with the rest of the solve.
BLOCK_OPTIONS: dict[str, object] = {
    "output_flag": False,
    "mip_rel_gap": 1e-2,
    "mip_heuristic_effort": 0.0,
    "mip_heuristic_run_feasibility_jump": False,
    "mip_heuristic_run_rins": False,
    "mip_heuristic_run_rens": False,
    "mip_heuristic_run_root_reduced_cost": False,
    "mip_heuristic_run_zi_round": False,
    "mip_heuristic_run_shifting": False,
    "mip_allow_restart": False,
    "mip_detect_symmetry": False,
}


#: The blocks' MIP gap in a pass as MIPs that fits in the time left at it. Each block adds its
#: proven bound, which a looser gap leaves further below the block's optimum, and the bound
#: sums what every block gives away (benchmarks/LAGRANGIAN.md: the same multipliers' bound at
#: several gaps). Where a pass does not fit at this gap (at 5,000 products one pass as MIPs
#: barely fits in a run), BLOCK_OPTIONS' quicker gap solves more blocks as MIPs before the pass
#: must finish as LPs.
TIGHT_GAP = 1e-3
#: A pass at TIGHT_GAP takes about this many times one at BLOCK_OPTIONS' gap (benchmarks/
#: LAGRANGIAN.md); the pool's timings are kept in the quick gap's time.
TIGHT_COST = 1.5


def block_column(blk: Block, own: np.ndarray) -> tuple[float, np.ndarray]:
    """A plan of block ``blk``'s own columns as a column of the Dantzig-Wolfe master: its cost
    and its activity in the block's linking rows."""
    return float(blk.sf.c[: blk.n_own] @ own), (blk.link_A @ own if len(blk.link_rows) else np.zeros(0))


class BlockGroup:
    """Some blocks and a HiGHS: lives in this process or, as a Dask actor, on a worker."""

    def __init__(self, blocks: list[Block], n_links: int):
        self.blocks = blocks
        self.n_links = n_links
        self.h = new_highs()
        for key, value in BLOCK_OPTIONS.items():
            self.h.setOptionValue(key, value)
        self.mips = [b.sf.highs_lp() for b in blocks]
        self.lps = [b.sf.highs_lp(integer=False) for b in blocks]

    def __len__(self) -> int:
        return len(self.blocks)

    def peak_mb(self) -> float | None:
        """The peak memory of the process this group lives in (MB)."""
        return peak_memory_mb()

    def solve(self, pi: np.ndarray, mu: dict[int, np.ndarray], integer: bool = False, block_time: float = 1.0,
              part: tuple[int, int] | None = None, plans: bool = False, columns: bool = False, gap: float | None = None) -> BlockAnswer:
        """The blocks (``part``: those from ``part[0]`` to before ``part[1]``) at these multipliers:
        as MIPs (``integer``) to ``gap`` (None: BLOCK_OPTIONS'), or their LP relaxations;
        ``plans``: with each MIP's integer values."""
        t0 = time.perf_counter()
        h = self.h
        h.setOptionValue("mip_rel_gap", float(BLOCK_OPTIONS["mip_rel_gap"] if gap is None else gap))
        total = 0.0
        activity = np.zeros(self.n_links)
        copies: dict[int, np.ndarray] = {}
        ints: dict[int, np.ndarray] = {}
        cols: dict[int, tuple[float, np.ndarray]] = {}
        lo, hi = part if part is not None else (0, len(self.blocks))
        for k in range(lo, min(hi, len(self.blocks))):
            blk = self.blocks[k]
            cost = blk.sf.c.copy()
            if len(blk.link_rows):
                cost[: blk.n_own] += blk.link_A.T @ pi[blk.link_rows]
            if len(blk.copies):
                cost[blk.n_own:] += mu[blk.key]
            lp = (self.mips if integer else self.lps)[k]
            lp.col_cost_ = cost
            h.passModel(lp)
            limit_block(h, block_time)
            h.run()
            info = h.getInfo()
            status = h.getModelStatus()
            relaxed = False
            if not integer and status == highspy.HighsModelStatus.kOptimal:
                bound = info.objective_function_value
            elif integer and info.primal_solution_status == 2:
                bound = info.mip_dual_bound  # proven, also when the block stopped on its time limit
            elif status in (highspy.HighsModelStatus.kTimeLimit, highspy.HighsModelStatus.kInterrupt):
                # out of time with no answer (a busy machine: the MIPs run without heuristics): the
                # LP relaxation, solved to the end, still gives a bound and a direction; so does the
                # MIP's own dual bound where it got that far, and L takes the better of the two
                mip_bound = info.mip_dual_bound if integer else -np.inf
                bound, relaxed = max(self._relaxation(k, cost), mip_bound if np.isfinite(mip_bound) else -np.inf), True
            else:
                raise NotDecomposable(f"block {blk.key}: HiGHS ended with {h.modelStatusToString(status)}")
            total += bound
            x = np.asarray(h.getSolution().col_value)
            own_cost, used = block_column(blk, x[: blk.n_own])
            if len(blk.link_rows):
                activity[blk.link_rows] += used
            copies[blk.key] = x[blk.n_own:]
            if columns:
                cols[blk.key] = (own_cost, used)
            if integer and plans and not relaxed:
                ints[blk.key] = np.rint(x[: blk.n_own][blk.sf.is_int[: blk.n_own]])
        return BlockAnswer(total, activity, copies, time.perf_counter() - t0, ints, cols)

    def _relaxation(self, k: int, cost: np.ndarray) -> float:
        """Block ``k``'s LP relaxation at ``cost``, with no time limit (milliseconds even where
        its MIP ran out of time): its value; its answer is left in ``self.h``."""
        h, lp = self.h, self.lps[k]
        lp.col_cost_ = cost
        h.passModel(lp)
        h.setOptionValue("time_limit", np.inf)
        h.run()
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            raise NotDecomposable(f"block {self.blocks[k].key}: its LP relaxation ended with {h.modelStatusToString(h.getModelStatus())}")
        return h.getInfo().objective_function_value


def merge(answers: list[BlockAnswer]) -> BlockAnswer:
    """One answer of several (parts of one group, or groups)."""
    out = BlockAnswer(0.0, np.zeros_like(answers[0].link_activity), {})
    for a in answers:
        out.bound += a.bound
        out.link_activity += a.link_activity
        out.copies.update(a.copies)
        out.ints.update(a.ints)
        out.columns.update(a.columns)
        out.seconds += a.seconds
    return out


#: Seconds of block solves a group does between two looks at the clock and the cancel flag. A
#: pass goes in chunks of about this much work, sized from the pass before (a call to a Dask
#: actor costs a round trip, so chunks are not single blocks).
CHUNK_SECONDS = 0.2
#: blocks per group timed before the first pass: enough to average over blocks that differ
#: (README, "The decomposed route"), few enough to cost a fraction of a pass
CALIBRATION_BLOCKS = 12


class Pool:
    """The block groups, wherever they live, and one way to ask them all: :meth:`solve`.

    ``groups`` are lists of blocks; ``make`` turns one into something with ``solve`` (a
    :class:`BlockGroup` here, a Dask actor's handle there) and ``wait`` turns what ``solve``
    returned into a :class:`BlockAnswer` (identity here, ``.result()`` for Dask)."""

    def __init__(self, groups: list[list[Block]], n_links: int, make=None, wait=None, where: str = "this process"):
        self.sizes = [len(g) for g in groups]
        self.keys = [[b.key for b in g] for g in groups]
        make = make or (lambda i, blocks: BlockGroup(blocks, n_links))
        self.wait = wait or (lambda answer: answer)
        self.members = [make(i, g) for i, g in enumerate(groups)]
        self.where = where
        self.client = None  # the Dask client, when the groups are actors
        # wall seconds per block of the largest group, as a MIP and as an LP: first guesses,
        # replaced by what each pass measures
        self.seconds_per_block = {True: 0.06, False: 0.002}
        self.measured = False  # whether blocks have been solved as MIPs yet (until then, the guess is not trusted)
        self.sent_bytes = 0  # multipliers sent, summed over calls
        self.calls = 0  # round trips to the groups, summed over passes
        self.tight_passes = 0  # passes as MIPs completed with the blocks at TIGHT_GAP

    @property
    def n_blocks(self) -> int:
        return sum(self.sizes)

    def integer_pass_seconds(self) -> float:
        """The expected wall time of one pass of every block as a MIP."""
        return max(self.sizes) * self.seconds_per_block[True]

    def calibrate(self, pi: np.ndarray, mu: dict[int, np.ndarray], block_time: float = 1.0, again: bool = False) -> None:
        """Time :data:`CALIBRATION_BLOCKS` blocks of each group as MIPs, spread over the group, so that
        the dual knows from the start how long a pass as MIPs takes: when to begin them so that one
        pass ends in time. The answers themselves are not used. Blocks differ, so a pass timed on a
        group's first blocks alone can be badly underestimated (README, "The decomposed route").
        ``again``: timed even if passes as MIPs have been, at other multipliers."""
        if (self.measured and not again) or not self.members:
            return
        k = CALIBRATION_BLOCKS
        t0 = time.perf_counter()
        calls = []
        for i, member in enumerate(self.members):
            for j in sorted(set(np.linspace(0, self.sizes[i] - 1, min(k, self.sizes[i])).astype(int).tolist())):
                calls.append(member.solve(pi, {key: mu[key] for key in self.keys[i][j:j + 1] if key in mu}, True, block_time, (j, j + 1)))
        for c in calls:
            self.wait(c)  # (not counted in ``calls``: a calibration is not a pass)
        self.seconds_per_block[True] = (time.perf_counter() - t0) / min(k, max(self.sizes))
        self.measured = True

    def solve(self, pi: np.ndarray, mu: dict[int, np.ndarray], integer: bool, block_time: float = 1.0,
              cancelled: Callable[[], bool] | None = None, finish_by: float | None = None,
              plans: bool = False, columns: bool = False) -> list[BlockAnswer] | None:
        """Every block at these multipliers, one answer per group, or None if the pass was given up.

        The pass goes in chunks of about :data:`CHUNK_SECONDS` of work. Between chunks:
        ``cancelled()`` gives the pass up; and an integer pass goes on with MIPs while a chunk
        more and the rest as LPs fit before ``finish_by`` (a ``time.perf_counter()`` instant),
        then solves the rest as LPs — milliseconds each, and still a bound; past ``finish_by``
        the pass is given up. An integer pass whose time at :data:`TIGHT_GAP` fits before
        ``finish_by`` (or that has none) solves its blocks to that gap, otherwise to
        BLOCK_OPTIONS' quicker one."""
        t0 = time.perf_counter()
        # the tight gap where the whole pass fits at it, with a quarter to spare (blocks differ)
        tight = integer and self.measured and (finish_by is None or t0 + 1.25 * TIGHT_COST * self.integer_pass_seconds() <= finish_by)
        slower = TIGHT_COST if tight else 1.0  # what a block as a MIP takes here, in the quick gap's time

        def call(i: int, integer: bool, lo: int, hi: int):
            part = {k: mu[k] for k in self.keys[i][lo:hi] if k in mu}
            self.sent_bytes += pi.nbytes + sum(v.nbytes for v in part.values())
            self.calls += 1
            return self.members[i].solve(pi, part, integer, block_time, (lo, hi), plans, columns, TIGHT_GAP if tight else None)

        everyone = range(len(self.members))
        done: list[list[BlockAnswer]] = [[] for _ in self.members]
        lo, top = 0, max(self.sizes)
        mode = integer
        longest = CHUNK_SECONDS  # the longest chunk as MIPs yet: blocks differ, and a chunk can take far longer than planned
        while lo < top:
            if cancelled is not None and cancelled():
                return None
            now = time.perf_counter()
            if finish_by is not None:
                left_lp = (top - lo) * self.seconds_per_block[False]
                if now + left_lp > finish_by:
                    return None
                if mode and self.measured and now + longest + 1.5 * left_lp > finish_by:
                    mode = False  # no time for another chunk as MIPs: the rest as LPs, while that still fits
            step = max(1, int(CHUNK_SECONDS / max(self.seconds_per_block[mode] * (slower if mode else 1.0), 1e-4)))
            tc = time.perf_counter()
            calls = [call(i, mode, lo, lo + step) for i in everyone]
            for d, c in zip(done, calls):
                d.append(self.wait(c))
            solved = min(step, top - lo)
            # learn from this chunk, smoothed: blocks differ, and so does the machine's load
            took = time.perf_counter() - tc
            if mode:
                longest = max(longest, took)
            seen = took / solved / (slower if mode else 1.0)
            self.seconds_per_block[mode] = 0.5 * self.seconds_per_block[mode] + 0.5 * seen if self.measured or not mode else seen
            self.measured = self.measured or mode
            lo += step
        if mode == integer:
            self.seconds_per_block[integer] = (time.perf_counter() - t0) / max(1, top) / (slower if integer else 1.0)
        self.tight_passes += int(tight)
        return [merge(d) for d in done]

    def peaks_mb(self) -> list[float | None]:
        """Each group's process's peak memory (MB)."""
        return [self.wait(m.peak_mb()) for m in self.members]

    def close(self) -> None:
        self.members = []


def dask_pool(blocks: list[Block], n_links: int, scheduler: str | None = None, workers: int = 1):
    """The blocks as Dask actors, one group per worker: on the cluster at ``scheduler``, or on a
    local cluster of ``workers`` processes started for this solve. Each group's blocks are sent
    once and stay on its worker; every call sends only multipliers. (pool, closer)."""
    dask = importlib.import_module("distributed")  # imported here so that only a decomposed solve pays for it
    Client, LocalCluster = dask.Client, dask.LocalCluster
    cluster = None
    if scheduler:
        client = Client(scheduler, timeout="20s")
    else:
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                               memory_limit=0, silence_logs=logging.ERROR)
        client = Client(cluster)
    addresses = sorted(client.scheduler_info()["workers"])
    if not addresses:
        raise NotDecomposable(f"the Dask cluster at {scheduler} has no workers")
    groups = groups_of(blocks, len(addresses))

    def make(i: int, group: list[Block]):
        data = client.scatter(group, workers=[addresses[i]], direct=True, hash=False) if group else []
        return client.submit(BlockGroup, data, n_links, actor=True, workers=[addresses[i]], pure=False).result()

    pool = Pool(groups, n_links, make=make, wait=lambda future: future.result(),
                where=f"{len(groups)} Dask worker(s)" + ("" if scheduler else " on this machine"))
    pool.client = client

    def close() -> None:
        pool.close()
        client.close()
        if cluster is not None:
            cluster.close()

    return pool, close


def peak_memory_mb() -> float | None:
    """This process's peak resident memory (MB), or None where the system does not say.

    Read from ``VmHWM`` on Linux, not from ``getrusage``: a worker process started by fork and
    exec inherits in ``ru_maxrss`` the peak of the process it was forked from, so a worker of a
    3 GB solving process reported 3 GB before holding a block."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    return None


def groups_of(blocks: list[Block], n: int) -> list[list[Block]]:
    """``n`` groups of blocks of about equal size (dealt in turn, so neighbours spread out)."""
    return [blocks[i::n] for i in range(max(1, min(n, len(blocks))))]


def rhs_term(pi: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> float:
    """The relaxed rows' side of L: each row's multiplier times its upper side where positive,
    its lower side where negative (:math:`\sum_i \mathrm{rhs}_i(\pi_i)` in the module's formula)."""
    with np.errstate(invalid="ignore"):
        part = np.where(pi > 0, pi * upper, np.where(pi < 0, pi * lower, 0.0))
    return float(np.sum(part))


def project_multipliers(pi: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """Multipliers of the right sign: a row without an upper side cannot have a positive one."""
    pi = np.where(upper >= INF, np.minimum(pi, 0.0), pi)
    return np.where(lower <= -INF, np.maximum(pi, 0.0), pi)


@dataclass
class DualProgress:
    iteration: int
    bound: float  # best L so far (HiGHS's minimisation sense)
    last: float
    seconds: float
    integer: bool = False


@dataclass
class DualResult:
    bound: float  # best Lagrangian bound (minimisation sense); -inf if none was completed
    iterations: int = 0
    integer_iterations: int = 0


@dataclass
class PlanSeed:
    """What a pass of the blocks as MIPs says about a plan: each block's integer decisions (blocks
    that fell back to their LP are missing), the shared columns' values at the multipliers, and
    the linking rows (their positions in ``Structure.link_rows``) the blocks' plans break together."""

    ints: dict[int, np.ndarray]
    shared: np.ndarray
    violated: np.ndarray


def violated_rows(activity: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """The positions of the rows whose activity is outside their bounds (beyond a relative 1e-6)."""
    tol = 1e-6 * (1 + np.maximum(np.abs(np.where(np.isfinite(lower), lower, 0)), np.abs(np.where(np.isfinite(upper), upper, 0))))
    return np.flatnonzero((activity < lower - tol) | (activity > upper + tol))


def plan_from_blocks(sf: StandardForm, st: Structure, seed: PlanSeed, time_limit: float,
                     should_stop: Callable[[], bool] | None = None) -> tuple[np.ndarray, float] | None:
    """A plan of the whole model from the blocks' integer decisions (a Lagrangian heuristic):
    (x, HiGHS objective), or None if none was found.

    First the blocks' decisions as they are, with the shared integer columns at their value in
    the shared subproblem, and the continuous decisions by an LP. If that LP has no plan, a
    repair: the whole model as a MIP with the decisions kept of every block whose plan breaks no
    linking row and the rest (the blocks on broken rows, the shared columns) left free, within
    ``time_limit``. The repair holds the whole model, so it is the route's way to a first plan
    where the construction heuristic has none to give (a user family it does not know), not a
    way around holding the model."""
    is_int = sf.is_int
    values = np.full(len(sf.c), np.nan)
    for b, cols in enumerate(st.block_columns):
        if b in seed.ints:
            values[cols[is_int[cols]]] = seed.ints[b]
    shared_int = is_int[st.shared]
    values[st.shared[shared_int]] = np.rint(np.clip(seed.shared[shared_int], sf.col_lower[st.shared][shared_int], sf.col_upper[st.shared][shared_int]))
    if not np.isnan(values[is_int]).any():
        fixed = sf.fixed_lp(values[is_int])
        if fixed is not None:
            return fixed[0], fixed[1]
    broken = np.zeros(len(st.link_rows), dtype=bool)
    broken[seed.violated] = True
    keep = np.zeros(len(sf.c), dtype=bool)
    for b, (blk, cols) in enumerate(zip(st.blocks, st.block_columns)):
        if b in seed.ints and not broken[blk.link_rows].any():
            keep[cols] = True
    keep &= is_int
    lo, up = sf.col_lower.copy(), sf.col_upper.copy()
    lo[keep] = up[keep] = values[keep]
    h = new_highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", float(max(time_limit, 0.1)))
    h.setOptionValue("mip_rel_gap", 1e-4)
    if should_stop is not None:
        def interrupt(e) -> None:
            if should_stop():
                e.interrupt()
        h.cbMipInterrupt.subscribe(interrupt)
        h.cbSimplexInterrupt.subscribe(interrupt)
    h.passModel(sf.highs_lp(lo, up))
    h.run()
    if should_stop is not None:
        h.cbMipInterrupt.clear()
        h.cbSimplexInterrupt.clear()
    if h.getInfo().primal_solution_status != 2:
        return None
    x = np.asarray(h.getSolution().col_value)
    fixed = sf.fixed_lp(np.rint(x[is_int]))
    return (fixed[0], fixed[1]) if fixed is not None else None


def initial_mu(st: Structure) -> dict[int, np.ndarray]:
    """Each shared column's cost split among the blocks that copy it, in proportion to the size
    of each block's own costs (so that the shared subproblem starts indifferent)."""
    weight = np.array([float(np.abs(b.sf.c[: b.n_own]).sum()) + 1e-9 for b in st.blocks])
    totals = np.zeros(len(st.shared))
    for b, w in zip(st.blocks, weight):
        np.add.at(totals, b.copies, w)
    c = st.shared_sf.c
    return {b.key: c[b.copies] * w / totals[b.copies] for b, w in zip(st.blocks, weight)}


def multipliers_from_duals(st: Structure, y: np.ndarray) -> tuple[np.ndarray, dict[int, np.ndarray]]:
    """Multipliers (pi, mu) from the row duals ``y`` of an LP over the whole model (HiGHS's
    signs: reduced costs are c - A^T y): each linking row's dual, of the right sign, and for each
    copy the part of its column's reduced cost that the block's own rows make up.

    At the duals of the LP relaxation, every block's LP and the shared columns' LP keep the
    relaxation's optimum, so L with the blocks as LPs is the relaxation's value, and with the
    blocks as MIPs it is that or better. At the duals of another LP (the heuristic plan's, with
    its integer decisions fixed) they are a start, and like any multipliers of the right signs
    give a bound."""
    y = np.asarray(y, dtype=float)
    pi = project_multipliers(-y[st.link_rows], st.link_lower, st.link_upper)
    mu = {blk.key: np.asarray(blk.sf.A[: len(rows), blk.n_own:].T @ y[rows]).ravel()
          for blk, rows in zip(st.blocks, st.block_rows)}
    return pi, mu


class LinkMaster:
    """The Dantzig-Wolfe master over the linking rows, with the copies' multipliers ``mu`` held
    fixed: the LP that prices the linking rows from the block plans seen so far.

    Each block plan :math:`x_b^k` (a pass's answer for block b) is a column of weight
    :math:`\lambda_{bk} \ge 0` with cost :math:`c_b x_b^k + \mu_b x_b^k[G_b]`, its activity in
    the linking rows, and a 1 in the block's convexity row (:math:`\sum_k \lambda_{bk} = 1`);
    the shared columns are in it as they are (cost :math:`c_G - \sum_b \mu_b`, their linking
    coefficients and the shared rows); each linking row may be broken at ``penalty`` a unit, so
    that the master has a plan before the columns can keep every row. Its row duals on the
    linking rows are the multipliers :math:`\pi` that the plans seen so far say are best: the
    cutting-plane model of :math:`\max_\pi L(\pi, \mu)` (Kelley), which moves all the linking
    rows' prices at once where a subgradient step moves along one direction (README, "The decomposed
    route"). Its value is at least that maximum with the blocks as LPs, so when the best L comes
    within a hair of it, no price of the linking rows does better at this ``mu``."""

    def __init__(self, st: Structure, mu: dict[int, np.ndarray], penalty: float):
        self.st, self.mu = st, mu
        n_links, self.n_blocks = len(st.link_rows), len(st.blocks)
        self.slot = {b.key: i for i, b in enumerate(st.blocks)}
        shared = st.shared_sf
        cost = shared.c.copy()
        for b in st.blocks:
            np.subtract.at(cost, b.copies, mu[b.key])
        n_shared_rows = shared.A.shape[0]
        # rows: the linking rows, one convexity row per block, the shared rows
        self.conv0 = n_links
        rows_lower = np.concatenate([st.link_lower, np.ones(self.n_blocks), shared.row_lower])
        rows_upper = np.concatenate([st.link_upper, np.ones(self.n_blocks), shared.row_upper])
        in_rows = sp.vstack([st.link_shared_A.tocsc(), sp.csc_matrix((self.n_blocks, len(cost))), shared.A.tocsc()]).tocsc()
        # a unit of each linking row given (a column of +1) or taken (-1), at the penalty
        eye = sp.identity(n_links, format="csc")
        pad = sp.csc_matrix((self.n_blocks + n_shared_rows, n_links))
        slack = sp.vstack([sp.hstack([eye, -eye]), sp.hstack([pad, pad])]).tocsc()
        self.n_slacks = 2 * n_links
        A = sp.hstack([in_rows, slack]).tocsc()
        A.sort_indices()
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = A.shape[1], A.shape[0]
        lp.sense_ = highspy.ObjSense.kMinimize
        lp.col_cost_ = np.concatenate([cost, np.full(2 * n_links, float(penalty))])
        lp.col_lower_ = np.concatenate([shared.col_lower, np.zeros(2 * n_links)])
        lp.col_upper_ = np.concatenate([shared.col_upper, np.full(2 * n_links, INF)])
        lp.row_lower_, lp.row_upper_ = rows_lower, rows_upper
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = A.indptr, A.indices, A.data
        self.h = new_highs()
        self.h.setOptionValue("output_flag", False)
        self.h.passModel(lp)
        self.columns = 0

    def add_plan(self, x: np.ndarray) -> None:
        """A plan of the whole model (the heuristic's), cut into one column per block: with
        them the master keeps every linking row from its first solve, and its first prices are
        those of a plan, not of its penalty."""
        st = self.st
        answer = BlockAnswer(0.0, np.zeros(len(st.link_rows)), {})
        for b, cols in zip(st.blocks, st.block_columns):
            answer.columns[b.key] = block_column(b, x[cols])
            answer.copies[b.key] = x[st.shared[b.copies]]
        self.add([answer])

    def add(self, answers: list[BlockAnswer]) -> None:
        """Every block plan the answers carry, as a column."""
        starts, index, value, cost = [], [], [], []
        size = 0
        for a in answers:
            for key, (own_cost, used) in a.columns.items():
                b = self.st.blocks[self.slot[key]]
                starts.append(size)
                index += [b.link_rows, [self.conv0 + self.slot[key]]]
                value += [used, [1.0]]
                size += len(b.link_rows) + 1
                cost.append(own_cost + float(self.mu[key] @ a.copies[key]))
        if not cost:
            return
        k = len(cost)
        self.h.addCols(k, np.asarray(cost, dtype=float), np.zeros(k), np.full(k, INF), size, np.asarray(starts, dtype=np.int32),
                       np.concatenate(index).astype(np.int32), np.concatenate(value).astype(float))
        self.columns += k

    def solve(self) -> tuple[float, np.ndarray] | None:
        """(the master's value with the model's offset, the linking rows' multipliers), or None
        if HiGHS did not solve it or the columns cannot yet keep the linking rows (its prices
        are then the penalty's, not the plans')."""
        self.h.run()
        if self.h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return None
        solution = self.h.getSolution()
        n_shared = len(self.st.shared)
        broken = np.asarray(solution.col_value)[n_shared: n_shared + self.n_slacks]
        if broken.max(initial=0.0) > 1e-6 * (1.0 + np.abs(np.where(np.isfinite(self.st.link_upper), self.st.link_upper, 0.0)).max(initial=0.0)):
            return None
        y = np.asarray(solution.row_dual)[: len(self.st.link_rows)]
        pi = project_multipliers(-y, self.st.link_lower, self.st.link_upper)
        return self.h.getInfo().objective_function_value + self.st.offset, pi


#: The LP phase's master is done when the best L is within this share of its value: closer, the
#: bound gains less than the blocks' own MIP gap gives away (README, "The decomposed route").
MASTER_GAP = 1e-5


def master_penalty(st: Structure) -> float:
    """What a master charges for a unit of a linking row broken: more than any plan of the
    blocks could gain by it (the largest cost over the smallest linking coefficient, times ten),
    so that the penalty binds only while the columns cannot keep the row."""
    costs = [np.abs(b.sf.c).max() for b in st.blocks if len(b.sf.c)] + [np.abs(st.shared_sf.c).max() if len(st.shared_sf.c) else 0.0]
    coefs = [np.abs(b.link_A.data).min() for b in st.blocks if b.link_A.nnz]
    return 10.0 * max(1.0, max(costs)) / max(1e-6, min(coefs, default=1.0))


def lagrangian_dual(
    st: Structure,
    pool: Pool,
    target: Callable[[], float],
    *,
    time_budget: float,
    max_iterations: int = 10000,
    step: float = 0.5,
    patience: int = 8,
    min_step: float = 1.0 / 64,
    lp_share: float = 0.4,
    block_time: float = 1.0,
    should_stop: Callable[[], bool] | None = None,
    on_bound: Callable[[DualProgress], None] | None = None,
    want_plan: Callable[[], bool] | None = None,
    on_plan: Callable[[PlanSeed], None] | None = None,
    start: tuple[np.ndarray, dict[int, np.ndarray]] | None = None,
    master: bool = True,
    smoothing: float = 0.5,
    plan: np.ndarray | None = None,
) -> DualResult:
    """Projected subgradient ascent on :math:`L(\\pi, \\mu)`.

    ``pool`` solves every block for the multipliers (in groups, anywhere); ``target()`` is the
    best plan's objective known now (HiGHS's sense): Polyak's step aims at it. Two phases: the
    blocks' LP relaxations first (a millisecond a block: the multipliers move towards the LP
    relaxation's duals) until the step has been halved down to ``min_step``, or only the time
    of about one pass of the blocks as MIPs is left and either ``lp_share`` of the time is spent
    or the LP passes have stalled (``patience`` passes without a better bound); then the blocks as MIPs from the best
    multipliers, which adds what integrality is worth in each block (every L is a bound; at the
    same multipliers the MIPs' is at least the LPs').

    While ``want_plan()`` says so, each pass of the blocks as MIPs also brings back their integer
    decisions, handed to ``on_plan`` as a :class:`PlanSeed` (see :func:`plan_from_blocks`).

    ``start``: multipliers to try besides the first guess (zero on the linking rows,
    :func:`initial_mu` on the copies), such as :func:`multipliers_from_duals` of the heuristic
    plan's LP. The first passes try each as LPs, and the steps go on from the best: the steps
    may never beat the pass they start from (README, "The decomposed route"), so where they
    start can be most of the bound.

    ``master``: once the trials are done, the LP phase prices the linking rows by a
    :class:`LinkMaster` over every block plan the passes gave, at the best trial's copy
    multipliers, and asks the blocks at its prices smoothed towards the best ones found
    (``smoothing`` of the way back: Wentges' rule), until the master's value and the best L meet;
    without it, by subgradient steps like the MIP phase. ``plan``: a plan of the whole model
    (HiGHS's columns), whose blocks the master starts with; without one there is no master: a
    run with no plan needs the passes as MIPs early, for their decisions are its first plan."""
    t0 = time.perf_counter()
    n_links = len(st.link_rows)
    trials = [(np.zeros(n_links), initial_mu(st))]
    if start is not None:
        trials.insert(0, (project_multipliers(np.asarray(start[0], dtype=float), st.link_lower, st.link_upper), start[1]))
    pi, mu = trials.pop(0)
    h = new_highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("mip_rel_gap", 1e-9)
    shared_lp = st.shared_sf.highs_lp()
    res = DualResult(bound=-np.inf)
    lam, since_best, integer = step, 0, False
    lp_stalled = False  # whether ``patience`` or more LP passes have gone by since the last better bound
    best_lp = (-np.inf, pi, mu)
    best_step = None  # the best LP pass's multipliers and subgradients, to step from once the trials are done
    owner = {b.key: b for b in st.blocks}
    pool.calibrate(pi, mu, block_time)
    trial_passes = len(trials) + 1
    dw: LinkMaster | None = None
    seen_plans: list[BlockAnswer] = []  # the LP passes' block plans, until the master takes them
    lp_converged = False
    recalibrated = False
    master = master and plan is not None
    def out_of_time() -> bool:
        return time.perf_counter() - t0 >= time_budget or (should_stop is not None and should_stop())

    while res.iterations < max_iterations:
        if out_of_time():
            break
        left = time_budget - (time.perf_counter() - t0)
        if dw is not None and not integer and not recalibrated and left <= 2 * pool.integer_pass_seconds():
            # a pass as MIPs takes longer at the master's prices than at the start's, where it was
            # timed (README, "The decomposed route"): timed again at the best ones, before the
            # time left for it is judged
            recalibrated = True
            pool.calibrate(best_lp[1], best_lp[2], block_time, again=True)
            left = time_budget - (time.perf_counter() - t0)
        # a stalled LP phase gives up its share of the time when a pass as MIPs would not
        # otherwise fit (at L, from the heuristic's duals: README, "The decomposed route")
        lp_done = lam < min_step or lp_converged or (left <= 1.25 * pool.integer_pass_seconds() and (left <= (1 - lp_share) * time_budget or lp_stalled))
        if not integer and lp_done:
            # from the best multipliers, with the short steps the LP phase ended on: longer ones
            # were seen to leave the MIPs' bound and not come back
            integer, lam, since_best = True, min(lam, min_step), 0
            _, pi, mu = best_lp
        plans = integer and on_plan is not None and (want_plan is None or want_plan())
        answers = pool.solve(pi, mu, integer, block_time, cancelled=should_stop, finish_by=t0 + time_budget, plans=plans,
                             columns=master and not integer)
        if answers is None:
            break  # cancelled, or out of time: the bound is the best of the passes completed
        cost = st.shared_sf.c + st.link_shared_A.T @ pi
        for key, m in mu.items():
            np.subtract.at(cost, owner[key].copies, m)
        shared_lp.col_cost_ = cost
        h.passModel(shared_lp)
        h.run()
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            raise NotDecomposable(f"the shared columns' subproblem ended with {h.modelStatusToString(h.getModelStatus())}")
        xg = np.asarray(h.getSolution().col_value)
        value = sum(a.bound for a in answers) + h.getInfo().objective_function_value - rhs_term(pi, st.link_lower, st.link_upper) + st.offset
        res.iterations += 1
        res.integer_iterations += int(integer)
        improved = value > (res.bound if integer else best_lp[0]) + 1e-9 * max(1.0, abs(value))
        is_best_lp = not integer and value > best_lp[0]
        if is_best_lp:
            best_lp = (value, pi, mu)
        if value > res.bound:
            res.bound = value
        since_best = 0 if improved else since_best + 1
        lp_stalled = not integer and not improved and (lp_stalled or since_best >= patience)
        if since_best >= patience:
            lam, since_best = lam / 2, 0
        if on_bound is not None:
            on_bound(DualProgress(res.iterations, res.bound, value, time.perf_counter() - t0, integer))
        activity = st.link_shared_A @ xg + sum(a.link_activity for a in answers)
        if plans:
            ints: dict[int, np.ndarray] = {}
            for a in answers:
                ints.update(a.ints)
            on_plan(PlanSeed(ints, xg, violated_rows(activity, st.link_lower, st.link_upper)))
        g_pi = np.where(pi > 0, activity - st.link_upper, np.where(pi < 0, activity - st.link_lower,
                        activity - np.clip(activity, st.link_lower, st.link_upper)))
        g_pi = np.nan_to_num(g_pi, posinf=0.0, neginf=0.0)
        copies = {}
        for a in answers:
            copies.update(a.copies)
        g_mu = {key: copies[key] - xg[owner[key].copies] for key in mu}
        if is_best_lp:
            best_step = (pi, mu, g_pi, g_mu)
        if not integer and trials:
            seen_plans += answers if master else []
            pi, mu = trials.pop(0)
            continue
        if not integer and master:
            if dw is None:
                dw = LinkMaster(st, best_lp[2], master_penalty(st))
                dw.add_plan(np.asarray(plan, dtype=float))
                answers = seen_plans + answers
                seen_plans = []
            dw.add(answers)
            solved = dw.solve()
            if solved is not None:
                top, pi_master = solved
                lp_converged = top - best_lp[0] <= MASTER_GAP * max(1.0, abs(best_lp[0]))
                pi, mu = smoothing * best_lp[1] + (1 - smoothing) * pi_master, dw.mu
                continue
            # (no prices from the master yet: a subgradient step on the linking rows' multipliers,
            # below, and the master tries again with the plans it brings)
        if not integer and best_step is not None and best_step[0] is not pi and res.iterations == trial_passes:
            # the trials are done: the steps go on from the best of them
            pi, mu, g_pi, g_mu = best_step
            value = best_lp[0]
        pricing_copies = dw is None or integer  # (the master holds the copies' multipliers where it prices the rows)
        norm = float(g_pi @ g_pi) + (sum(float(g @ g) for g in g_mu.values()) if pricing_copies else 0.0)
        if norm <= 1e-12:
            if integer:
                break  # the blocks' plans agree and keep the linking rows: L is the optimum
            integer, lam, since_best = True, min(lam, min_step), 0
            best_lp = (value, pi, mu)
            continue
        goal = target()
        gap = (goal - value) if np.isfinite(goal) and goal > value else 0.01 * max(1.0, abs(value))
        t = lam * gap / norm
        pi = project_multipliers(pi + t * g_pi, st.link_lower, st.link_upper)
        mu = {key: mu[key] + t * g_mu[key] for key in mu} if pricing_copies else dw.mu
    return res
