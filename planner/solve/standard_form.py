"""The model as HiGHS sees it: sparse arrays compiled once from the Pyomo model.

Pyomo's ``LinearStandardFormCompiler`` turns the model into ``c``, ``A`` and
bounds in one pass (no per-constraint Python loop on the way to HiGHS); the
same arrays serve the MIP, the LPs after it and fix-and-optimise's sub-MIPs.
"""

from __future__ import annotations

import logging
import os
import sys
from dataclasses import dataclass
from typing import Callable

import highspy
import numpy as np
import pyomo.environ as pyo
import scipy.sparse as sp
from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler

from planner.contract.checks import tol

INF = highspy.kHighsInf
log = logging.getLogger(__name__)

_banner_shown = False


def new_highs() -> highspy.Highs:
    """A Highs instance; HiGHS prints a copyright banner to fd 1 on the first one of a
    process, which would land in the middle of a CLI's output or a JSON stream."""
    global _banner_shown
    if _banner_shown:
        return highspy.Highs()
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            h = highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
    _banner_shown = True
    return h


def limit_block(h: highspy.Highs, seconds: float) -> None:
    """Let the next ``h.run()`` take ``seconds`` more. HiGHS's ``time_limit`` is compared with the
    run time the instance has summed over all its runs (HiGHS 1.16: ``getRunTime`` only grows,
    and ``passModel`` does not reset it), so a limit set once stops every later run of an instance
    that solves many small models as soon as their total reaches it."""
    h.setOptionValue("time_limit", float(h.getRunTime() + seconds))


#: Slack a row may have in fix-and-optimise's block plans, per unit of its bound (stricter than
#: the verifier's, which ``StandardForm.holds`` uses). HiGHS takes an integer within 1e-6 of a
#: whole number as whole: an order indicator of 1e-6 with an order of M x 1e-6 units passes its search but,
#: rounded to 0, leaves an order without its order cost — a plan the verifier rejects. Such
#: block plans (fix-and-optimise) are refused.
ROW_SLACK = 1e-6


def rows_hold(activity: np.ndarray, lower: np.ndarray, upper: np.ndarray,
              slack: Callable[[np.ndarray], np.ndarray] | None = None) -> bool:
    """Every row within its bounds, up to ``slack(bound)`` (by default ROW_SLACK x (1 + |bound|))."""
    s = slack if slack is not None else (lambda b: ROW_SLACK * (1 + np.abs(b)))
    # an infinite bound stays infinite with its slack, and never binds
    return bool(np.all(activity >= lower - s(lower)) and np.all(activity <= upper + s(upper)))


@dataclass
class StandardForm:
    """min c x + offset  s.t.  row_lower <= A x <= row_upper, col_lower <= x <= col_upper,
    x integer where ``is_int`` (infinite bounds are ``±INF``)."""

    A: sp.csc_matrix
    c: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray
    is_int: np.ndarray
    offset: float = 0.0

    def highs_lp(self, col_lower: np.ndarray | None = None, col_upper: np.ndarray | None = None, integer: bool = True) -> highspy.HighsLp:
        """A HighsLp of these arrays (optionally other column bounds; ``integer=False``: its LP)."""
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = len(self.c), self.A.shape[0]
        lp.sense_ = highspy.ObjSense.kMinimize
        lp.col_cost_, lp.offset_ = self.c, float(self.offset)
        lp.col_lower_ = self.col_lower if col_lower is None else col_lower
        lp.col_upper_ = self.col_upper if col_upper is None else col_upper
        lp.row_lower_, lp.row_upper_ = self.row_lower, self.row_upper
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = self.A.indptr, self.A.indices, self.A.data
        if integer and self.is_int.any():
            lp.integrality_ = [highspy.HighsVarType.kInteger if i else highspy.HighsVarType.kContinuous for i in self.is_int]
        return lp

    def fixed_lp(self, values: np.ndarray) -> tuple[np.ndarray, float, highspy.Highs] | None:
        """The LP with the integer columns fixed at ``values``, on a HiGHS of its own:
        (solution, HiGHS objective, the HiGHS holding its duals), or None if it has no optimum.
        Gives a heuristic plan its continuous decisions and polishes the final plan.

        HiGHS gets only the continuous columns, the fixed ones' part of each row taken off its
        bounds: the same rows, so the same row duals, and less memory than the whole model with
        the fixed columns in it (benchmarks/COMMAND.md, "A first round of single products")."""
        lo, up = self.col_lower.copy(), self.col_upper.copy()
        lo[self.is_int] = up[self.is_int] = values
        free = np.flatnonzero(~self.is_int)
        fixed_use = self.A[:, np.flatnonzero(self.is_int)] @ np.asarray(values, dtype=float)
        rest = StandardForm(A=self.A[:, free], c=self.c[free], col_lower=lo[free], col_upper=up[free],
                            row_lower=self.row_lower - fixed_use, row_upper=self.row_upper - fixed_use,  # ±inf stays ±inf
                            is_int=np.zeros(len(free), dtype=bool), offset=self.offset + float(self.c[self.is_int] @ values))
        h = new_highs()
        h.setOptionValue("output_flag", False)
        h.passModel(rest.highs_lp(integer=False))
        del rest
        h.run()
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return None

        def answer() -> np.ndarray:
            y = lo.copy()
            y[free] = h.getSolution().col_value
            return y

        y = answer()
        if not self.holds(y, lo, up):
            # HiGHS 1.16 has returned "optimal" LP solutions of a large model, after presolve,
            # that break rows of the model by up to a tenth of a unit while it reported no
            # infeasibility (XL, the polish LP: benchmarks/COMMAND.md): solved again without
            # presolve, from the basis it has
            log.warning("the LP with the integer decisions fixed broke a row after presolve; solving it again without")
            h.setOptionValue("presolve", "off")
            h.run()
            if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
                return None
            y = answer()
            if not self.holds(y, lo, up):
                log.warning("the LP with the integer decisions fixed broke a row without presolve too; its answer is not used")
                return None
        y[self.is_int] = values
        return y, h.getInfo().objective_function_value, h

    def holds(self, x: np.ndarray, col_lower: np.ndarray | None = None, col_upper: np.ndarray | None = None) -> bool:
        """``x`` keeps every row and column bound up to the slack the verifier allows a value of
        the bound's size (``planner.contract.checks.tol``): HiGHS's tolerances apply to its scaled
        model, so a row with large coefficients may be off by more than ROW_SLACK and still be a
        plan the verifier accepts."""
        lo = self.col_lower if col_lower is None else col_lower
        up = self.col_upper if col_upper is None else col_upper
        return rows_hold(self.A @ x, self.row_lower, self.row_upper, slack=tol) and rows_hold(x, lo, up, slack=tol)


def _bound(v: float | None, side: float) -> float:
    return side * INF if v is None else float(v)


def compile_model(m: pyo.ConcreteModel):
    """(Pyomo's standard form, its :class:`StandardForm`, sign): HiGHS always minimises
    here, and the model's objective is ``sign`` times HiGHS's."""
    sf = LinearStandardFormCompiler().write(m, mixed_form=True, set_sense=pyo.minimize)
    cols = sf.columns
    n = len(cols)
    obj = next(m.component_data_objects(pyo.Objective, active=True))
    sign = -1.0 if obj.sense == pyo.maximize else 1.0
    mult = np.array([r[1] for r in sf.rows], dtype=int)
    rhs = np.asarray(sf.rhs, dtype=float)
    form = StandardForm(
        A=sf.A.tocsc(),
        c=sf.c.toarray().ravel() if n else np.zeros(0),
        col_lower=np.array([_bound(v.lb, -1) for v in cols], dtype=float),
        col_upper=np.array([_bound(v.ub, +1) for v in cols], dtype=float),
        row_lower=np.where(mult == 1, -INF, rhs),
        row_upper=np.where(mult == -1, INF, rhs),
        is_int=np.array([v.is_integer() for v in cols], dtype=bool),
        offset=float(sf.c_offset[0]) if len(sf.c_offset) else 0.0,
    )
    return sf, form, sign


def objective_at_values(cols, form: StandardForm, sign: float) -> Callable[[], float | None]:
    """The model's objective at its variables' current values, from the compiled costs: a dot
    product where evaluating the objective's expression walks its whole tree every time. None while a variable with a cost has no value. ``cols`` and the costs
    are kept, not the matrix."""
    c, offset = form.c, form.offset
    costed = np.flatnonzero(c)

    def value() -> float | None:
        x = [v.value for v in cols]
        if any(x[j] is None for j in costed):
            return None
        return sign * float(c @ np.array([0.0 if a is None else a for a in x], dtype=float) + offset)

    return value
