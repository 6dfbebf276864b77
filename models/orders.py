r"""Orders: how much to order from which supplier and when, and which suppliers to use.

Decisions
    x[k,p,t] >= 0      quantity of p ordered from k in period t (arrives t + L_k)
    y[k,p,t] in {0,1}  an order is placed (pays order_cost, must reach the moq,
                       consumes order_capacity_use)
    u[k] in {0,1}      supplier k is used at all in the horizon (pays fixed_cost)

Constraints, for every order slot (k,p,t) in O
    order_min:          x[k,p,t] >= moq[k,p] * y[k,p,t]
    order_max:          x[k,p,t] <= M[k,p,t] * y[k,p,t]
    order_needs_supplier: y[k,p,t] <= u[k]

M[k,p,t] is the tightest bound the data give (``Instance.order_slots``): the
supplier's capacity in t, the budget, the warehouse, and what p can still use
(demand from the arrival to the end of the horizon plus the largest safety
stock), but never below the moq. A tight M makes the LP relaxation pay a
realistic share of order_cost and fixed_cost; a loose one lets it pretend an
order costs almost nothing. No variable exists for an order that would arrive
after the horizon.

Profit terms
    purchase_cost        = sum_O unit_cost[k,p] * x[k,p,t]
    order_cost           = sum_O order_cost[k,p] * y[k,p,t]
    supplier_fixed_cost  = sum_K fixed_cost[k] * u[k]

Open orders (already in transit) are not decisions: they enter the inventory
balance and do not require u[k] = 1 (their supplier was paid for already).

=====================  ==========================  ==================================
symbol                 Pyomo                        input
=====================  ==========================  ==================================
x, y, u                ``m.order_qty``, ``m.order_placed``, ``m.supplier_used``
moq, unit_cost         ``m.moq``, ``m.unit_cost``   supplier_products.moq, .unit_cost
order_cost             ``m.order_cost``             supplier_products.order_cost
fixed_cost             ``m.fixed_cost``             suppliers.fixed_cost
M                      ``m.order_max_qty``          derived, ``Instance.order_slots``
=====================  ==========================  ==================================
"""

import pyomo.environ as pyo

NAME = "orders"
SUMMARY = "Order quantities, order indicators (MOQ, tight big-M) and supplier use."
DEFAULT_ON = True
CAN_DISABLE = False


def build(m, inst, params):
    slots = inst.order_slots
    terms = inst.terms
    big_m = {(k, p, int(t)): float(v) for k, p, t, v in slots[["supplier", "product", "t", "max_quantity"]].itertuples(index=False)}
    unit_cost = terms["unit_cost"].to_dict()
    order_cost = terms["order_cost"].to_dict()
    moq = terms["moq"].to_dict()
    fixed_cost = dict(zip(inst.suppliers["supplier"], inst.suppliers["fixed_cost"]))

    m.order_max_qty = big_m
    m.order_qty = pyo.Var(m.ORDER_SLOTS, domain=pyo.NonNegativeReals, bounds=lambda m, k, p, t: (0, big_m[k, p, t]))
    m.order_placed = pyo.Var(m.ORDER_SLOTS, domain=pyo.Binary)
    m.supplier_used = pyo.Var(m.K, domain=pyo.Binary)

    m.order_min = pyo.Constraint(
        [s for s in m.ORDER_SLOTS if moq[s[0], s[1]] > 0],
        rule=lambda m, k, p, t: m.order_qty[k, p, t] >= moq[k, p] * m.order_placed[k, p, t],
    )
    m.order_max = pyo.Constraint(
        m.ORDER_SLOTS, rule=lambda m, k, p, t: m.order_qty[k, p, t] <= big_m[k, p, t] * m.order_placed[k, p, t]
    )
    m.order_needs_supplier = pyo.Constraint(
        m.ORDER_SLOTS, rule=lambda m, k, p, t: m.order_placed[k, p, t] <= m.supplier_used[k]
    )

    m.purchase_cost = pyo.Expression(expr=sum(unit_cost[k, p] * m.order_qty[k, p, t] for k, p, t in m.ORDER_SLOTS))
    m.order_cost = pyo.Expression(expr=sum(order_cost[k, p] * m.order_placed[k, p, t] for k, p, t in m.ORDER_SLOTS))
    m.supplier_fixed_cost = pyo.Expression(expr=sum(fixed_cost[k] * m.supplier_used[k] for k in m.K))
    m.profit_terms["purchase_cost"] = (-1, m.purchase_cost)
    m.profit_terms["order_cost"] = (-1, m.order_cost)
    m.profit_terms["supplier_fixed_cost"] = (-1, m.supplier_fixed_cost)


def tidy(m):
    """Switch off order indicators with nothing ordered and suppliers with no order.

    Both only remove cost (order_cost, fixed_cost) and capacity use, so the plan
    stays feasible. An optimal plan has neither; an incumbent stopped by a time
    limit may.
    """
    from models import ZERO

    for i in m.ORDER_SLOTS:
        if (m.order_placed[i].value or 0) > 0.5 and (m.order_qty[i].value or 0) <= ZERO:
            m.order_placed[i].set_value(0)
            m.order_qty[i].set_value(0)
    busy = {i[0] for i in m.ORDER_SLOTS if (m.order_placed[i].value or 0) > 0.5}
    for k in m.K:
        if (m.supplier_used[k].value or 0) > 0.5 and k not in busy:
            m.supplier_used[k].set_value(0)
