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

M[k,p,t] is the least upper bound on the order that the families built make
valid (``Instance.order_slots`` lists each bound with the reason it holds):
the supplier's capacity in t, the budget and the warehouse where their rows
are built, and what p can still use (demand from the arrival on plus the most
stock any family can require, and the late share) where every family built
says that cutting a useless order never breaks its rows (``KEEPS_ORDER_BOUND``);
never below the moq, nor below a quantity a family fixes the order at. A tight
M makes the LP relaxation pay a realistic share of order_cost and fixed_cost;
a loose one lets it pretend an order costs almost nothing; a wrong one cuts
off the optimum, which is why each bound is kept to where it is proven and
tests compare every bound with a naive build (tests/models/test_bounds.py).
No variable exists for an order that would arrive after the horizon.

Profit terms
    purchase_cost        = sum_O unit_cost[k,p] * x[k,p,t]
    order_cost           = sum_O order_cost[k,p] * y[k,p,t]
    supplier_fixed_cost  = sum_K fixed_cost[k] * u[k]

Open orders (already in transit) are not decisions: they enter the inventory
balance and do not require u[k] = 1 (their supplier was paid for already).

Checked on a plan (``verify``): every order is for a product its supplier
delivers (order_eligible), placed in a period of the horizon (order_period),
arriving inside it on the supplier's lead time (order_arrival), not negative
(order_nonnegative), at least the moq (order_min), one row per slot
(order_unique), with a supplier the plan marks used (order_needs_supplier);
the three cost terms recomputed from orders.csv and suppliers.csv.

Contributes to the plan (``extract``): ``orders.csv`` (every x > 0) and
``suppliers.csv`` (used, quantity, spend, utilisation).

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

import pandas as pd
import pyomo.environ as pyo

from models.values import values
from planner.contract.checks import FamilyCheck, named, tol
from planner.contract.outputs import ZERO

NAME = "orders"
SUMMARY = "Order quantities, order indicators (MOQ, big-M valid for the families built) and supplier use."
DEFAULT_ON = True
CAN_DISABLE = False
KEEPS_ORDER_BOUND = True  # the cut order still meets its moq (M >= moq) and keeps y; purchase cost falls


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
    for i in m.ORDER_SLOTS:
        if (m.order_placed[i].value or 0) > 0.5 and (m.order_qty[i].value or 0) <= ZERO:
            m.order_placed[i].set_value(0)
            m.order_qty[i].set_value(0)
    busy = {i[0] for i in m.ORDER_SLOTS if (m.order_placed[i].value or 0) > 0.5}
    for k in m.K:
        if (m.supplier_used[k].value or 0) > 0.5 and k not in busy:
            m.supplier_used[k].set_value(0)


def extract(m, inst):
    periods, lead = inst.periods, inst.lead_time
    orders = pd.DataFrame(
        [(k, p, periods[t], round(q, 6), periods[t + lead[k]]) for (k, p, t), q in values(m.order_qty).items() if q > ZERO],
        columns=["supplier", "product", "period", "quantity", "arrival_period"],
    )
    o = orders.merge(inst.supplier_products, on=["supplier", "product"], how="left", validate="many_to_one")
    o["spend"] = o["unit_cost"] * o["quantity"] + o["order_cost"]
    o["use"] = o["capacity_use"] * o["quantity"] + o["order_capacity_use"]
    per_supplier = o.groupby("supplier")[["quantity", "spend", "use"]].sum().reindex(inst.supplier_ids, fill_value=0.0)
    used = values(m.supplier_used)
    cap = inst.supplier_capacity_by_period
    available = pd.Series({k: sum(cap[(k, t)] for t in range(inst.horizon)) for k in inst.supplier_ids})
    suppliers = pd.DataFrame({"supplier": inst.supplier_ids})
    suppliers["used"] = [used.get(k, 0.0) > 0.5 for k in inst.supplier_ids]
    suppliers["on_time_rate"] = inst.suppliers.set_index("supplier")["on_time_rate"].reindex(inst.supplier_ids).to_numpy(dtype=float)
    suppliers["quantity"] = per_supplier["quantity"].to_numpy()
    fixed = inst.suppliers.set_index("supplier")["fixed_cost"].reindex(inst.supplier_ids).to_numpy(dtype=float)
    suppliers["spend"] = per_supplier["spend"].to_numpy() + fixed * suppliers["used"].to_numpy()
    suppliers["utilisation"] = (per_supplier["use"] / available.where(available > 0)).fillna(0.0).to_numpy()
    return {"orders": orders, "suppliers": suppliers}


def verify(inst, plan, params):
    check = FamilyCheck()
    o = plan.order_lines
    key = ["supplier", "product", "period"]
    for w, r in named(o, ~o["eligible"], key):
        check.violation("order_eligible", w, r.quantity, f"{r.supplier} does not supply {r.product}")
    outside = o["eligible"] & o["t"].isna()
    for w, r in named(o, outside, key):
        check.violation("order_period", w, r.quantity, f"period {r.period} is not in the horizon")
    in_horizon = o["eligible"] & ~outside
    late = in_horizon & (o["arrival"] >= inst.horizon)
    for w, r in named(o, late, key):
        check.violation("order_arrival", w, r.quantity, "the order would arrive after the horizon")
    due = o["arrival"].where(o["located"]).map(dict(enumerate(inst.periods)))  # the arrival period's label
    for w, r in named(o.assign(due=due), o["located"] & (due != o["arrival_period"]), key):
        check.violation("order_arrival", w, r.quantity, f"arrives in {r.due} (lead time), plan says {r.arrival_period}")
    lines = plan.orders
    for w, r in named(lines, lines["quantity"] < -tol(0), key):
        check.violation("order_nonnegative", w, -r.quantity, "negative order quantity")
    for w, r in named(lines, lines["quantity"] < lines["moq"] - tol(lines["moq"]), key):
        check.violation("order_min", w, r.moq - r.quantity, f"quantity {r.quantity:g} below moq {r.moq:g}")
    if o.duplicated(subset=key).any():
        check.violation("order_unique", "orders", 1, "more than one order row for one supplier, product and period")
    for k in sorted(set(lines["supplier"])):
        if not plan.used.get(k, False):
            check.violation("order_needs_supplier", k, 1, f"orders placed with {k}, which the plan marks unused")
    fixed = dict(zip(inst.suppliers["supplier"], inst.suppliers["fixed_cost"]))
    check.term("purchase_cost", -1, (lines["unit_cost"] * lines["quantity"]).sum())
    check.term("order_cost", -1, lines["order_cost"].sum())
    check.term("supplier_fixed_cost", -1, sum(fixed.get(k, 0.0) for k, used in plan.used.items() if used))
    return check
