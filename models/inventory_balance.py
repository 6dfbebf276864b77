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

Checked on a plan: inventory.csv has a row per product and period
(inventory_row), each equal to the previous stock plus what arrives (located
orders on their lead time, open orders) less what is served
(inventory_balance), never negative (inventory_nonnegative); holding_cost
recomputed.

Contributes to the plan: ``inventory.csv``'s on_hand, and whether the period
is in the product's frozen zone.

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

import numpy as np
import pandas as pd
import pyomo.environ as pyo

from models.values import values
from planner.contract.checks import FamilyCheck, tol

NAME = "inventory_balance"
SUMMARY = "Stock balance per product and period with lead times, open orders and initial inventory; holding cost."
DEFAULT_ON = True
CAN_DISABLE = False
KEEPS_ORDER_BOUND = True  # the bound's own argument: stock falls by the cut from the arrival on; holding cost falls


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


def extract(m, inst):
    periods, first = inst.periods, inst.first_supply_period
    rows = [(p, periods[t], max(0.0, round(v, 6)), t < first[p]) for (p, t), v in values(m.inventory).items()]
    return {"inventory": pd.DataFrame(rows, columns=["product", "period", "on_hand", "frozen"])}


def verify(inst, plan, params):
    check = FamilyCheck()
    on_hand = plan.on_hand
    grid = on_hand.index
    o = plan.orders
    arrived = pd.concat([
        pd.DataFrame({"product": o["product"], "t": o["arrival"], "quantity": o["quantity"]}),
        pd.DataFrame([(p, t, q) for (p, t), q in inst.open_arrivals.items()], columns=["product", "t", "quantity"]),
    ])
    inflow = arrived.groupby(["product", "t"])["quantity"].sum().reindex(grid, fill_value=0.0)
    sold = plan.service.groupby(["product", "t"])["served"].sum().reindex(grid, fill_value=0.0)
    before = on_hand.groupby(level="product").shift(1)
    first = grid.get_level_values("t") == 0
    init = inst.products.set_index("product")["initial_inventory"].astype(float)
    before[first] = grid.get_level_values("product")[first].map(init)
    expected = before + inflow - sold
    for p, t in on_hand[on_hand.isna()].index:
        check.violation("inventory_row", f"{p}/{inst.periods[t]}", 0, "inventory row missing")
    wrong = (expected - on_hand).abs() > tol(np.maximum(expected.abs().fillna(0.0), on_hand.abs().fillna(0.0))) * 10
    for (p, t), got, e in zip(on_hand[wrong].index, on_hand[wrong], expected[wrong]):
        check.violation("inventory_balance", f"{p}/{inst.periods[t]}", got - e, f"on_hand {got:g} but stock flow gives {e:g}")
    for (p, t), got in on_hand[on_hand < -tol(0)].items():
        check.violation("inventory_nonnegative", f"{p}/{inst.periods[t]}", -got, "negative inventory")
    inv = plan["inventory"]
    hold = inv["product"].map(dict(zip(inst.products["product"], inst.products["holding_cost"])))
    check.term("holding_cost", -1, (inv["on_hand"] * hold).sum())
    return check
