r"""Inventory cover: minimum and/or maximum periods of cover per product.

Cover is measured against the product's average demand per period over the
horizon, avg[p] = sum_{s,t} d[s,p,t] / |T|.

Constraints, for every chosen product p and period t outside p's frozen zone
    min_cover[p,t]:   I[p,t] >= min_periods * avg[p]
    max_cover[p,t]:   I[p,t] <= max_periods * avg[p]

A minimum cover is a simple policy buffer on top of (or instead of) the
statistical safety stock; a maximum cover caps capital tied up in stock and
obsolescence risk. Like safety stock, neither binds in the frozen zone, where
stock is already decided (see ``fill_rate.py``).

=============  ================  =====================================
symbol         Pyomo             input
=============  ================  =====================================
I              ``m.inventory``   (decision, ``inventory_balance.py``)
avg            constant          demand.quantity
=============  ================  =====================================
"""

import pyomo.environ as pyo
from pydantic import BaseModel, ConfigDict, Field, model_validator

from planner.contract.checks import FamilyCheck

NAME = "inventory_cover"
SUMMARY = "End-of-period inventory between a minimum and a maximum number of periods of average demand."
KEEPS_ORDER_BOUND = True  # the minimum cover is max_stock below; a maximum cover only gets easier


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid")
    min_periods: float | None = Field(None, ge=0, description="Minimum cover.", json_schema_extra={"unit": "periods of average demand"})
    max_periods: float | None = Field(None, ge=0, description="Maximum cover.", json_schema_extra={"unit": "periods of average demand"})
    products: list[str] | None = Field(None, description="Products it applies to; omitted = all.")

    @model_validator(mode="after")
    def _some_bound(self):
        if self.min_periods is None and self.max_periods is None:
            raise ValueError("give min_periods, max_periods or both")
        if self.min_periods is not None and self.max_periods is not None and self.min_periods > self.max_periods:
            raise ValueError("min_periods is above max_periods")
        return self


def _avg(inst, params):
    products = params.products if params.products is not None else inst.product_ids
    unknown = sorted(set(products) - set(inst.product_ids))
    if unknown:
        raise ValueError(f"unknown products {unknown}")
    tot = inst.demand.groupby("product")["quantity"].sum()
    return {p: float(tot.get(p, 0.0)) / inst.horizon for p in products}


def max_stock(inst, params):
    """The most its rows can require: the minimum cover (a maximum cover requires nothing)."""
    if params.min_periods is None:
        return {}
    return {p: params.min_periods * a for p, a in _avg(inst, params).items()}


def build(m, inst, params):
    avg = _avg(inst, params)
    cells = [(p, t) for p in avg for t in m.T if not inst.is_frozen(p, t)]
    if params.min_periods is not None:
        m.min_cover = pyo.Constraint(cells, rule=lambda m, p, t: m.inventory[p, t] >= params.min_periods * avg[p])
    if params.max_periods is not None:
        m.max_cover = pyo.Constraint(cells, rule=lambda m, p, t: m.inventory[p, t] <= params.max_periods * avg[p])


def verify(inst, tables, params):
    check = FamilyCheck()
    avg = _avg(inst, params)
    inv = tables["inventory"]
    for p, per, on_hand in inv[["product", "period", "on_hand"]].itertuples(index=False):
        if p not in avg or inst.is_frozen(p, inst.period_index[str(per)]):
            continue
        tol = 1e-6 * max(1.0, on_hand) + 1e-4
        if params.min_periods is not None and on_hand < params.min_periods * avg[p] - tol:
            check.violation(NAME, f"{p}/{per}", params.min_periods * avg[p] - on_hand, f"cover below {params.min_periods:g} periods")
        if params.max_periods is not None and on_hand > params.max_periods * avg[p] + tol:
            check.violation(NAME, f"{p}/{per}", on_hand - params.max_periods * avg[p], f"cover above {params.max_periods:g} periods")
    return check
