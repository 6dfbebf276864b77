r"""Supplier capacity per period, available only if the supplier is used.

Constraint, for every k in K and t in T with at least one order slot
    supplier_capacity[k,t]:
        sum_{p: (k,p,t) in O} ( capacity_use[k,p] * x[k,p,t] + order_capacity_use[k,p] * y[k,p,t] )
            <= capacity[k,t] * u[k]

Capacity is consumed in the period the order is placed (the supplier makes
or ships it then). capacity[k,t] is the supplier's default capacity unless a
supplier_capacity row overrides it for t (0 = the supplier is unavailable).
The factor u[k] makes the row also a strong link between orders and supplier
use, on top of y <= u.

Checked on a plan: the capacity the orders of each supplier and period use
(orders.csv with supplier_products' capacity_use and order_capacity_use)
is within capacity[k,t] (supplier_capacity).

===================  ========================  =========================================
symbol               Pyomo                      input
===================  ========================  =========================================
capacity[k,t]        constant                   suppliers.capacity, supplier_capacity.capacity
capacity_use         coefficient                supplier_products.capacity_use
order_capacity_use   coefficient                supplier_products.order_capacity_use
===================  ========================  =========================================
"""

from collections import defaultdict

import pyomo.environ as pyo

from planner.contract.checks import FamilyCheck, tol

NAME = "supplier_capacity"
SUMMARY = "Capacity used by orders (per unit and per order) within each supplier's capacity per period."
DEFAULT_ON = True
KEEPS_ORDER_BOUND = True  # a smaller order uses less capacity


def build(m, inst, params):
    cu = inst.terms["capacity_use"].to_dict()
    ocu = inst.terms["order_capacity_use"].to_dict()
    cap = inst.supplier_capacity_by_period
    by_kt = defaultdict(list)
    for k, p, t in m.ORDER_SLOTS:
        by_kt[k, t].append((k, p, t))
    m.SUPPLIER_PERIODS = pyo.Set(dimen=2, ordered=True, initialize=list(by_kt))

    def rule(m, k, t):
        use = sum(cu[k, p] * m.order_qty[k, p, t] + ocu[k, p] * m.order_placed[k, p, t] for (_, p, _) in by_kt[k, t])
        return use <= cap[k, t] * m.supplier_used[k]

    m.supplier_capacity = pyo.Constraint(m.SUPPLIER_PERIODS, rule=rule)


def verify(inst, plan, params):
    check = FamilyCheck()
    o = plan.orders
    use = (o["capacity_use"] * o["quantity"] + o["order_capacity_use"]).groupby([o["supplier"], o["t"]]).sum()
    cap = inst.supplier_capacity_by_period
    for (k, t), u in use.items():
        if u > cap[(k, t)] + tol(cap[(k, t)]):
            check.violation("supplier_capacity", f"{k}/{inst.periods[t]}", u - cap[(k, t)], f"capacity use {u:g} > capacity {cap[(k, t)]:g}")
    return check
