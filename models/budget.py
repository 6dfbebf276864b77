r"""Procurement budget per period (when settings.budget is given).

Constraint, for every t in T with at least one order slot
    budget[t]:   sum_{(k,p,t) in O} ( unit_cost[k,p] * x[k,p,t] + order_cost[k,p] * y[k,p,t] ) <= budget

Spend is counted in the period the order is placed and includes the fixed
cost of each order. Supplier fixed costs are per horizon, not per period, so
they are outside the periodic budget. The plan check recomputes each period's
spend from orders.csv (budget).

=============  ===========  =========================================
symbol         Pyomo         input
=============  ===========  =========================================
budget         constant      settings.budget
unit_cost      coefficient   supplier_products.unit_cost
order_cost     coefficient   supplier_products.order_cost
=============  ===========  =========================================
"""

from collections import defaultdict

import pyomo.environ as pyo

from planner.contract.checks import FamilyCheck, tol

NAME = "budget"
SUMMARY = "Procurement spend (purchase and order costs) within the budget in each period."
DEFAULT_ON = True
KEEPS_ORDER_BOUND = True  # a smaller order spends less


def build(m, inst, params):
    budget = inst.budget
    if budget is None:
        return
    uc = inst.terms["unit_cost"].to_dict()
    oc = inst.terms["order_cost"].to_dict()
    by_t = defaultdict(list)
    for k, p, t in m.ORDER_SLOTS:
        by_t[t].append((k, p, t))
    m.BUDGET_PERIODS = pyo.Set(initialize=sorted(by_t), ordered=True)
    m.budget = pyo.Constraint(
        m.BUDGET_PERIODS,
        rule=lambda m, t: sum(uc[k, p] * m.order_qty[k, p, t] + oc[k, p] * m.order_placed[k, p, t] for k, p, _ in by_t[t]) <= budget,
    )


def verify(inst, plan, params):
    check = FamilyCheck()
    budget = inst.budget
    if budget is None:
        return check
    o = plan.orders
    for t, v in (o["unit_cost"] * o["quantity"] + o["order_cost"]).groupby(o["t"]).sum().items():
        if v > budget + tol(budget):
            check.violation("budget", inst.periods[t], v - budget, f"spend {v:g} > budget {budget:g}")
    return check
