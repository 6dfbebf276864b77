"""The trade-off frontier: profit against overall fill rate and inventory investment.

The overall fill rate is pushed up with ``models/service_level_floor.py``; each
point is a plan. Every segment's fill rate is in the table too, so reading it
from the top floor down shows which segments lose service first.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from planner.analysis.common import Planner, with_families
from planner.contract.instance import Instance
from planner.contract.results import Plan


def inventory_investment(inst: Instance, inventory: pd.DataFrame) -> float:
    """Average value of stock on hand per period, at each product's cheapest unit cost."""
    cost = inst.supplier_products.groupby("product")["unit_cost"].min()
    value = inventory["on_hand"] * inventory["product"].map(cost).fillna(0.0)
    return float(value.groupby(inventory["period"]).sum().mean()) if len(inventory) else 0.0


def _point(inst: Instance, plan: Plan, floor: float | None, chosen: bool) -> dict[str, Any]:
    row: dict[str, Any] = {"floor": floor, "chosen": chosen, "status": plan.status, "profit": plan.kpis.get("profit")}
    if plan.tables:
        row["fill_rate"] = plan.kpis["fill_rate"]
        row["inventory_investment"] = inventory_investment(inst, plan.tables["inventory"])
        for s, fr in zip(plan.tables["segments"]["segment"], plan.tables["segments"]["fill_rate"]):
            row[f"fill_rate:{s}"] = fr
    return row


def default_floors(base: Plan) -> list[float]:
    """Five steps from the chosen plan's own fill rate up to 100 %."""
    start = base.kpis.get("fill_rate") or 0.0
    return sorted({round(float(f), 4) for f in np.linspace(start, 1.0, 6)[1:]})


def frontier(inst: Instance, base: Plan, plan: Planner, floors: list[float] | None = None, model_options: dict | None = None) -> pd.DataFrame:
    """One row per floor (and the chosen plan ``base``, marked): status, profit, fill rate,
    inventory investment and every segment's fill rate, sorted by fill rate."""
    rows = [_point(inst, base, None, True)]
    for f in floors if floors is not None else default_floors(base):
        rows.append(_point(inst, plan(inst, with_families(model_options, service_level_floor={"fill_rate": f})), f, False))
    out = pd.DataFrame(rows)
    if "fill_rate" not in out:  # not one plan (every floor infeasible, the base too)
        return out
    return out.sort_values(["fill_rate", "chosen"], na_position="last", kind="stable").reset_index(drop=True)
