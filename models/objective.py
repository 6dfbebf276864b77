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
"""

import pyomo.environ as pyo

NAME = "objective"
SUMMARY = "Maximise profit: revenue less all costs and penalties plus the net value of the chosen tiers."
DEFAULT_ON = True
CAN_DISABLE = False


def build(m, inst, params):
    m.profit = pyo.Objective(expr=sum(sign * expr for sign, expr in m.profit_terms.values()), sense=pyo.maximize)
