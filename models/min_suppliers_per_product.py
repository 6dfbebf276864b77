r"""Min suppliers per product: dual (or multiple) sourcing for chosen products.

Decision
    w[k,p] in {0,1}   supplier k counts as a source of p over the horizon

Constraints, for every chosen product p and eligible supplier k
    source_needs_order[k,p]:   w[k,p] <= sum_t y[k,p,t]
    source_min_quantity[k,p]:  sum_t x[k,p,t] >= min_quantity * w[k,p]
    source_min_share[k,p]:     sum_t x[k,p,t] >= min_share * sum_{k',t} x[k',p,t] - Mbar[p] * (1 - w[k,p])
and for every chosen product p
    min_suppliers[p]:          sum_k w[k,p] >= min_suppliers

A supplier only counts if it gets at least min_quantity units (an order of
nothing is no source) and, with min_share > 0, at least that share of the
product's ordered volume. Mbar[p] = min_share x the
sum of the order big-Ms of p (the most p could ever be ordered). A product with
fewer eligible suppliers than min_suppliers cannot comply: that is an error
before the solve.

==============  ===========================  ======================================
symbol          Pyomo                         input
==============  ===========================  ======================================
w               ``m.source_used``
min_suppliers   parameter                     options: ...min_suppliers
min_share       parameter                     options: ...min_share
min_quantity    parameter                     options: ...min_quantity
==============  ===========================  ======================================
"""

from collections import defaultdict

import pyomo.environ as pyo
from pydantic import BaseModel, ConfigDict, Field

from planner.contract.checks import FamilyCheck

NAME = "min_suppliers_per_product"
SUMMARY = "Chosen products are ordered from at least N suppliers, each with a minimum share (dual sourcing)."
KEEPS_ORDER_BOUND = False  # cutting a supplier's order can take it below its minimum share of the product's volume


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid")
    products: list[str] | None = Field(None, description="Products that must be multi-sourced; omitted = every product with demand.")
    min_suppliers: int = Field(2, ge=1, description="Suppliers each chosen product needs.")
    min_share: float = Field(0.1, ge=0, le=0.5, description="Share of the product's ordered volume each counted supplier must take.", json_schema_extra={"unit": "fraction"})
    min_quantity: float = Field(1.0, gt=0, description="Units each counted supplier must deliver over the horizon.", json_schema_extra={"unit": "unit"})


def chosen_products(inst, products):
    if products is None:
        return sorted(set(inst.demand.loc[inst.demand["quantity"] > 0, "product"]))
    unknown = sorted(set(products) - set(inst.product_ids))
    if unknown:
        raise ValueError(f"unknown products {unknown}")
    return list(products)


def build(m, inst, params):
    products = chosen_products(inst, params.products)
    slots = defaultdict(list)
    for k, p, t in m.ORDER_SLOTS:
        slots[k, p].append(t)
    eligible = defaultdict(list)
    for k, p in slots:
        eligible[p].append(k)
    short = [p for p in products if len(eligible[p]) < params.min_suppliers]
    if short:
        raise ValueError(
            f"{len(short)} product(s) have fewer than {params.min_suppliers} suppliers that can deliver in the horizon: {', '.join(short[:10])}"
        )
    pairs = [(k, p) for p in products for k in eligible[p]]
    m.SOURCE_PAIRS = pyo.Set(dimen=2, initialize=pairs, ordered=True)
    m.source_used = pyo.Var(m.SOURCE_PAIRS, domain=pyo.Binary)
    m.source_needs_order = pyo.Constraint(
        m.SOURCE_PAIRS, rule=lambda m, k, p: m.source_used[k, p] <= sum(m.order_placed[k, p, t] for t in slots[k, p])
    )
    m.source_min_quantity = pyo.Constraint(
        m.SOURCE_PAIRS, rule=lambda m, k, p: sum(m.order_qty[k, p, t] for t in slots[k, p]) >= params.min_quantity * m.source_used[k, p]
    )
    if params.min_share > 0:
        mbar = {p: params.min_share * sum(m.order_max_qty[k, p, t] for k in eligible[p] for t in slots[k, p]) for p in products}
        total = {p: sum(m.order_qty[k, p, t] for k in eligible[p] for t in slots[k, p]) for p in products}
        m.source_min_share = pyo.Constraint(
            m.SOURCE_PAIRS,
            rule=lambda m, k, p: sum(m.order_qty[k, p, t] for t in slots[k, p])
            >= params.min_share * total[p] - mbar[p] * (1 - m.source_used[k, p]),
        )
    m.min_suppliers = pyo.Constraint(
        products, rule=lambda m, p: sum(m.source_used[k, p] for k in eligible[p]) >= params.min_suppliers
    )


def verify(inst, tables, params):
    check = FamilyCheck()
    o = tables["orders"]
    for p in chosen_products(inst, params.products):
        part = o[o["product"] == p]
        total = float(part["quantity"].sum())
        per_k = part.groupby("supplier")["quantity"].sum()
        slack = 1e-6 * max(1.0, total) + 1e-4
        counted = [k for k, q in per_k.items() if q >= params.min_quantity - slack and q >= params.min_share * total - slack]
        if len(counted) < params.min_suppliers:
            check.violation(NAME, p, params.min_suppliers - len(counted),
                            f"{p} has {len(counted)} supplier(s) with at least {params.min_quantity:g} units and {params.min_share:.0%} of its volume")
    return check
