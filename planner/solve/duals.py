"""What one more unit of a limit is worth: duals of the LP with a plan's integer decisions fixed."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pyomo.environ as pyo

from models import build_model, select
from planner.contract.instance import Instance
from planner.solve.highs import SolveOptions, solve_model

#: The limits whose rows carry the duals, and the unit of a dual of each.
LIMITS = {
    "supplier_capacity": "money per capacity unit",
    "warehouse_capacity": "money per volume unit",
    "budget": "money per unit of budget",
}
COLUMNS = ["limit", "supplier", "period", "value_per_unit", "unit"]


def shadow_prices(inst: Instance, tables: dict[str, pd.DataFrame], model_options: dict | None = None, models_dirs=None) -> pd.DataFrame:
    """What one more unit of each limit is worth, per period, with the plan's integer decisions fixed.

    The LP is built with order bounds that do not repeat the limits (``Instance.elastic``),
    so the supplier capacity, warehouse and budget rows themselves carry the duals.
    Returns rows (limit, supplier, period, value_per_unit, unit) for binding limits.
    """
    m = build_model(dataclasses.replace(inst, elastic=True), select(model_options, models_dirs))
    m.dual = pyo.Suffix(direction=pyo.Suffix.IMPORT)
    fix_integers_from_plan(m, inst, tables)
    if not solve_model(m, SolveOptions()).status.has_plan:
        return pd.DataFrame(columns=COLUMNS)
    rows = []
    for name, unit in LIMITS.items():
        comp = getattr(m, name, None)
        for idx in comp if comp is not None else []:
            d = m.dual.get(comp[idx])
            if d is None or abs(d) < 1e-7:
                continue
            idx = idx if isinstance(idx, tuple) else (idx,)
            rows.append((name, idx[0] if name == "supplier_capacity" else None, inst.periods[idx[-1]], abs(d), unit))
    return pd.DataFrame(rows, columns=COLUMNS)


def fix_integers_from_plan(m: pyo.ConcreteModel, inst: Instance, tables: dict[str, pd.DataFrame]) -> None:
    """Fix tier, order and supplier-use decisions of model ``m`` at the plan's values."""
    tiers = dict(zip(tables["segments"]["segment"], tables["segments"]["tier"]))
    for s, j in m.TIERS:
        m.tier_chosen[s, j].fix(1 if tiers.get(s) == j else 0)
    placed = {(k, p, inst.period_index[str(t)]) for k, p, t in tables["orders"][["supplier", "product", "period"]].itertuples(index=False)}
    for i in m.ORDER_SLOTS:
        m.order_placed[i].fix(1 if i in placed else 0)
    used = {k for k, u in zip(tables["suppliers"]["supplier"], tables["suppliers"]["used"]) if str(u).lower() in ("true", "1")}
    for k in m.K:
        m.supplier_used[k].fix(1 if k in used else 0)
