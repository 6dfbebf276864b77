r"""Punctuality: stock also covers the expected late share of each period's arrivals.

A supplier delivers on time with probability rho[k] (suppliers.on_time_rate) and
late, after the period the delivery was planned for, otherwise; the stock at the
end of that period is then short by what did not come. The plan holds a buffer
against the expected late quantity of every arrival:

    B[p,t] = sum_{(k,p,t-L_k) in O} (1 - rho[k]) * x[k,p,t-L_k]  +  sum_k (1 - rho[k]) * open[k,p,t]

and the safety stock row (``safety_stock.py``) requires, outside p's frozen zone,

    I[p,t] >= SS[p,t] + B[p,t]

A cheap supplier that is often late therefore costs buffer stock — holding
cost, and the capacity and money to buy it — and a punctual one earns its
price: with equal prices the model moves volume to the punctual supplier. With
every on_time_rate 1 the family changes nothing. The buffer protects the
expected lateness, not the worst case, and a late delivery is taken to arrive
the period after (where the stock it missed was held).

Registers B as ``m.stock_buffers["late_deliveries"]``; switched off
(``{"constraints": {"punctuality": false}}``), on_time_rate is only reported.

Checked on a plan: inventory.csv's late_buffer equals B recomputed from
orders.csv, open_orders and on_time_rate (late_buffer_value); that the stock
covers it is the safety stock row's check.

Contributes to the plan: ``inventory.csv``'s late_buffer, and per supplier in
``suppliers.csv`` the buffer its arrivals cause over the horizon.

=============  ======================  =========================================
symbol         Pyomo                    input
=============  ======================  =========================================
B[p,t]         ``m.late_buffer``        (expression; inventory.csv late_buffer)
rho[k]         coefficient              suppliers.on_time_rate
open[k,p,t]    constant                 open_orders.quantity by arrival_period
=============  ======================  =========================================
"""

from collections import defaultdict

import pandas as pd
import pyomo.environ as pyo

from models.values import values
from planner.contract.checks import FamilyCheck, tol

NAME = "punctuality"
SUMMARY = "Stock also covers the expected late share of each period's arrivals, (1 - on_time_rate) x arrivals."
DEFAULT_ON = True
KEEPS_ORDER_BOUND = True  # the late share of the cut order falls with it (the bound's (d + S) / rho term)


def _late_rate(inst) -> dict[str, float]:
    return {k: 1.0 - float(r) for k, r in zip(inst.suppliers["supplier"], inst.suppliers["on_time_rate"])}


def _late_open(inst) -> dict[tuple[str, int], float]:
    """(product, period) -> expected late quantity of the orders already in transit arriving then."""
    late = _late_rate(inst)
    out: dict[tuple[str, int], float] = defaultdict(float)
    for k, p, a, q in inst.open_orders[["supplier", "product", "arrival_period", "quantity"]].itertuples(index=False):
        if late[k] > 0:
            out[p, inst.period_index[a]] += late[k] * float(q)
    return out


def build(m, inst, params):
    late = _late_rate(inst)
    arriving = defaultdict(list)  # (p, a) -> [(1 - rho, slot)]
    for k, p, t in m.ORDER_SLOTS:
        if late[k] > 0:
            arriving[p, t + inst.lead_time[k]].append((late[k], (k, p, t)))
    opened = _late_open(inst)
    position = {p: i for i, p in enumerate(inst.product_ids)}
    cells = sorted(set(arriving) | set(opened), key=lambda c: (position[c[0]], c[1]))
    m.late_buffer = pyo.Expression(
        cells, rule=lambda m, p, t: sum(c * m.order_qty[slot] for c, slot in arriving.get((p, t), [])) + opened.get((p, t), 0.0)
    )
    m.stock_buffers["late_deliveries"] = m.late_buffer


def extract(m, inst):
    rows = [(p, inst.periods[t], round(v, 6)) for (p, t), v in values(m.late_buffer).items()]
    late = _late_rate(inst)
    caused: dict[str, float] = defaultdict(float)
    for (k, p, t), q in values(m.order_qty).items():
        caused[k] += late[k] * q
    for k, q in inst.open_orders.groupby("supplier")["quantity"].sum().items():
        caused[k] += late[k] * float(q)
    return {
        "inventory": pd.DataFrame(rows, columns=["product", "period", "late_buffer"]),
        "suppliers": pd.DataFrame({"supplier": inst.supplier_ids, "late_buffer": [round(caused[k], 6) for k in inst.supplier_ids]}),
    }


def buffer(inst, plan) -> pd.Series:
    """B[p,t] recomputed from the plan's orders and the open orders, over (product, t)."""
    late = _late_rate(inst)
    o = plan.orders
    parts = [(o["quantity"] * o["supplier"].map(late)).groupby([o["product"], o["arrival"]]).sum().rename_axis(["product", "t"])]
    opened = _late_open(inst)
    if opened:
        parts.append(pd.Series(opened).rename_axis(["product", "t"]))
    return pd.concat(parts).groupby(level=["product", "t"]).sum()


def verify(inst, plan, params):
    check = FamilyCheck()
    expected = buffer(inst, plan).reindex(plan.on_hand.index, fill_value=0.0)
    reported = plan.stock["late_buffer"].reindex(expected.index).fillna(0.0)
    wrong = (reported - expected).abs() > tol(expected) * 10
    for (p, t), got, e in zip(expected[wrong].index, reported[wrong], expected[wrong]):
        check.violation("late_buffer_value", f"{p}/{inst.periods[t]}", got - e, f"reported late buffer {got:g}, recomputed {e:g}")
    return check
