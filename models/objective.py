r"""Objective: maximise profit over the horizon.

    profit =   revenue                       sum price * q
             - purchase_cost                 sum unit_cost * x
             - order_cost                    sum order_cost * y
             - supplier_fixed_cost           sum fixed_cost * u
             - holding_cost                  sum holding_cost * I
             - cost_to_serve                 sum cost_to_serve * q
             - lost_sale_penalty             sum lost_sale_penalty * (d - q)
             + tier_net_value                sum (tier_value - tier_cost) * z

Each term is a named Pyomo Expression declared by the family that owns it and
registered in ``m.profit_terms`` (name -> (sign, expression)); this family
only adds them up, so a family added later contributes its own term the same way.

Checked on a plan (last, like it is built last): each term the families'
checks recomputed from the plan tables equals the plan's KPI of that name
(objective_term), and their signed sum equals the plan's profit (objective).
"""

import pyomo.environ as pyo

from planner.contract.checks import FamilyCheck, tol

NAME = "objective"
SUMMARY = "Maximise profit: revenue less all costs and penalties plus the net value of the chosen tiers."
DEFAULT_ON = True
CAN_DISABLE = False
KEEPS_ORDER_BOUND = True  # every cost of the cut order falls or stays


def build(m, inst, params):
    m.profit = pyo.Objective(expr=sum(sign * expr for sign, expr in m.profit_terms.values()), sense=pyo.maximize)


def verify(inst, plan, params):
    check = FamilyCheck()
    terms, kpis = plan.terms, plan.kpis
    profit = sum(sign * value for sign, value in terms.values())
    scale = sum(abs(value) for _, value in terms.values())
    for name, (_, value) in terms.items():
        if kpis.get(name) is not None and abs(float(kpis[name]) - value) > tol(scale) * 10:
            check.violation("objective_term", name, float(kpis[name]) - value, f"kpis say {float(kpis[name]):.6f}, recomputed {value:.6f}")
    if kpis.get("profit") is None:
        check.violation("objective", "profit", 0, "kpis carry no profit")
    elif abs(float(kpis["profit"]) - profit) > tol(scale) * 10:
        check.violation("objective", "profit", float(kpis["profit"]) - profit, f"kpis say {float(kpis['profit']):.6f}, recomputed {profit:.6f}")
    return check
