r"""Inventory balance: stock carried from period to period, with lead times and open orders.

Decision
    I[p,t] >= 0   on-hand inventory of p at the end of period t (no backlog)

Constraint, for every p in P and t in T
    inventory_balance[p,t]:
        I[p,t] = I[p,t-1] + sum_{k: (k,p,t-L_k) in O} x[k,p,t-L_k] + open[p,t] - sum_s q[s,p,t]

with I[p,-1] = initial_inventory[p] and open[p,t] the quantity already in
transit arriving in t. An order placed in t is available to serve demand in
t + L_k (a lead time of 0 means it serves demand in the period it is placed).

Profit term
    holding_cost = sum_{p,t} holding_cost[p] * I[p,t]

Holding cost is charged on end-of-period stock; stock left at the end of the
horizon has no salvage value (it is still there for the next run, which sees
it as initial inventory).

===================  =======================  ===================================
symbol               Pyomo                     input
===================  =======================  ===================================
I                    ``m.inventory``
initial_inventory    constant                  products.initial_inventory
open                 constant                  open_orders.quantity by arrival_period
L_k                  slot arrival              suppliers.lead_time
holding_cost         coefficient               products.holding_cost
===================  =======================  ===================================
"""

from collections import defaultdict

import pyomo.environ as pyo

NAME = "inventory_balance"
SUMMARY = "Stock balance per product and period with lead times, open orders and initial inventory; holding cost."
DEFAULT_ON = True
CAN_DISABLE = False


def build(m, inst, params):
    init = dict(zip(inst.products["product"], inst.products["initial_inventory"].astype(float)))
    hold = dict(zip(inst.products["product"], inst.products["holding_cost"].astype(float)))
    opened = inst.open_arrivals
    arrivals = defaultdict(list)
    for k, p, t in m.ORDER_SLOTS:
        arrivals[p, t + inst.lead_time[k]].append((k, p, t))
    sales = defaultdict(list)
    for s, p, t in m.DEMAND:
        sales[p, t].append((s, p, t))

    m.inventory = pyo.Var(m.P, m.T, domain=pyo.NonNegativeReals)

    def balance(m, p, t):
        before = m.inventory[p, t - 1] if t > 0 else init[p]
        inflow = sum(m.order_qty[i] for i in arrivals[p, t]) + opened.get((p, t), 0.0)
        outflow = sum(m.served[i] for i in sales[p, t])
        return m.inventory[p, t] == before + inflow - outflow

    m.inventory_balance = pyo.Constraint(m.P, m.T, rule=balance)
    m.holding_cost = pyo.Expression(expr=sum(hold[p] * m.inventory[p, t] for p in m.P for t in m.T))
    m.profit_terms["holding_cost"] = (-1, m.holding_cost)
