"""Layer 4, the independent verifier: every rule of the model, checked on the plan tables.

pandas only — no Pyomo, no solver — so a mistake in a model family, in the
hand-off to HiGHS or in the extraction shows up as a violation here rather
than as a silently wrong plan. It reads the validated instance and the plan
tables exactly as they are written to disk.

The rules are the families' own: each family checks its rule in its ``verify``
(``models/orders.py`` the orders, ``models/safety_stock.py`` the safety stock,
``models/objective.py`` the profit, an analyst's family its own), and this
module runs them in build order, so a plan is checked against the model it was
built with — an edited core family included.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pandas as pd

from models import Family, select
from planner.contract.checks import PlanView, Violation, tol
from planner.contract.instance import Instance


@dataclass
class Verification:
    """The verifier's answer: what is violated, and the profit it recomputed."""

    violations: list[Violation]
    profit_terms: dict[str, float]
    profit: float

    @property
    def ok(self) -> bool:
        return not self.violations


def check_outcome(status: str, profit: float, recomputed: float, solver_objective: float, bound: float | None, mip_gap: float, scale: float) -> list[str]:
    """What a solve's outcome must satisfy on top of the plan's rules, with the numbers when it does not:

    - the profit the verifier recomputed from the tables equals the objective HiGHS optimised,
      evaluated at the plan (its own arrays: a term lost in the hand-off, or an offset, shows here);
    - no plan earns more than the bound HiGHS proved (profit <= bound);
    - ``optimal`` only with the gap (bound - profit) / |profit| within the one asked for.

    ``scale`` is the size of the money involved (the sum of the profit terms' magnitudes)."""
    found = []
    slack = 10 * tol(scale)
    if abs(recomputed - solver_objective) > slack:
        found.append(f"the profit recomputed from the plan, {recomputed:,.6f}, is not the solver's objective at the plan, {solver_objective:,.6f}")
    if bound is not None and profit > bound + slack:
        found.append(f"the plan's profit {profit:,.6f} is above the solver's bound {bound:,.6f}: the bound is wrong")
    if status == "optimal":
        gap = None if bound is None else max(0.0, bound - profit) / max(abs(profit), 1e-9)
        if gap is None or (gap > mip_gap + 1e-9 and bound - profit > slack):
            found.append(f"reported optimal, but the gap to the bound is {'unknown' if gap is None else f'{gap:.6%}'}, more than the {mip_gap:.6%} asked for")
    return found


def verify_plan(inst: Instance, tables: dict[str, pd.DataFrame], kpis: dict[str, Any], families: list[tuple[Family, Any]] | None = None) -> Verification:
    """Every built family's check on the plan, and the profit recomputed and compared with the kpis.

    ``families`` are the (family, params) pairs the plan was built with (``models.select``);
    by default the core model. A family switched off is not checked.
    """
    with _gc_paused():
        return _verify(inst, PlanView(inst, tables, kpis), families if families is not None else select())


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Python's cyclic collector off while the checks make many small objects and no garbage
    (as Pyomo's writers do; measured: README, "How a run is solved", item 7)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _verify(inst: Instance, plan: PlanView, families: list[tuple[Family, Any]]) -> Verification:
    violations: list[Violation] = []
    for fam, params in families:
        if fam.verify is None:
            continue
        check = fam.verify(inst, plan, params)
        for v in check.violations:
            # a family may also append (where, amount, message): the rule is then the family's name
            violations.append(v if isinstance(v, Violation) else Violation(fam.name, str(v[0]), float(v[1]), str(v[2])))
        plan.terms.update(check.profit_terms)
    profit = sum(sign * value for sign, value in plan.terms.values())
    return Verification(violations, {name: value for name, (_, value) in plan.terms.items()}, profit)
