r"""Single sourcing: each chosen product comes from one supplier over the whole horizon.

Supply-base consolidation: one supplier per product means one contract, one
quality process and one relationship to manage.

Decision
    w[k,p] in {0,1}   k is the (only) supplier of p in the horizon

Constraints, for every chosen product p
    single_source[p]:         sum_k w[k,p] <= 1
    order_from_source[k,p,t]: y[k,p,t] <= w[k,p]      for every order slot of p

A product that needs ordering gets exactly one supplier; one that needs none
(enough stock) gets none. Open orders already in transit are not affected.
With one period and fill rate 1 this is the capacitated facility location
problem with single sourcing (suppliers = facilities, products = customers);
the tests check it against the published optima of Holmberg et al. (1999).

=======  ========================  =========================================
symbol   Pyomo                      input
=======  ========================  =========================================
w        ``m.single_source_used``
y        ``m.order_placed``         (decision, ``orders.py``)
=======  ========================  =========================================
"""

from collections import defaultdict

import pyomo.environ as pyo
from pydantic import BaseModel, ConfigDict, Field

from planner.contract.checks import FamilyCheck

NAME = "single_sourcing"
SUMMARY = "Each chosen product is ordered from at most one supplier over the horizon."
KEEPS_ORDER_BOUND = True  # only order indicators in its rows, and the cut keeps them


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid")
    products: list[str] | None = Field(None, description="Products to single-source; omitted = all products.")


def chosen(inst, products):
    if products is None:
        return list(inst.product_ids)
    unknown = sorted(set(products) - set(inst.product_ids))
    if unknown:
        raise ValueError(f"unknown products {unknown}")
    return list(products)


def build(m, inst, params):
    products = set(chosen(inst, params.products))
    slots = defaultdict(list)
    for k, p, t in m.ORDER_SLOTS:
        if p in products:
            slots[k, p].append(t)
    m.SINGLE_SOURCE_PAIRS = pyo.Set(dimen=2, initialize=list(slots), ordered=True)
    m.single_source_used = pyo.Var(m.SINGLE_SOURCE_PAIRS, domain=pyo.Binary)
    by_p = defaultdict(list)
    for k, p in slots:
        by_p[p].append(k)
    m.single_source = pyo.Constraint(list(by_p), rule=lambda m, p: sum(m.single_source_used[k, p] for k in by_p[p]) <= 1)
    m.order_from_source = pyo.Constraint(
        [(k, p, t) for (k, p), ts in slots.items() for t in ts],
        rule=lambda m, k, p, t: m.order_placed[k, p, t] <= m.single_source_used[k, p],
    )


def verify(inst, tables, params):
    check = FamilyCheck()
    o = tables["orders"]
    o = o[o["product"].isin(chosen(inst, params.products))]
    for p, n in o.groupby("product")["supplier"].nunique().items():
        if n > 1:
            check.violation(NAME, p, n - 1, f"{p} is ordered from {n} suppliers")
    return check
