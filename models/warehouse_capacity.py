r"""Warehouse space for end-of-period inventory (when settings.warehouse_capacity is given).

Constraint, for every t in T
    warehouse_capacity[t]:   sum_p unit_volume[p] * I[p,t] <= warehouse_capacity

Checked on end-of-period stock, the same stock that pays holding cost; goods
received and shipped within one period are assumed to pass through. The plan
check recomputes each period's volume from inventory.csv (warehouse_capacity).

====================  ===================  =============================
symbol                Pyomo                 input
====================  ===================  =============================
unit_volume           coefficient           products.unit_volume
warehouse_capacity    constant              settings.warehouse_capacity
====================  ===================  =============================
"""

import pyomo.environ as pyo

from planner.contract.checks import FamilyCheck, tol

NAME = "warehouse_capacity"
SUMMARY = "Total volume of end-of-period inventory within the warehouse capacity."
DEFAULT_ON = True
KEEPS_ORDER_BOUND = True  # a smaller order leaves less stock


def build(m, inst, params):
    cap = inst.warehouse_capacity
    if cap is None:
        return
    vol = dict(zip(inst.products["product"], inst.products["unit_volume"].astype(float)))
    m.warehouse_capacity = pyo.Constraint(
        m.T, rule=lambda m, t: sum(vol[p] * m.inventory[p, t] for p in m.P if vol[p] > 0) <= cap
        if any(vol[p] > 0 for p in m.P) else pyo.Constraint.Skip
    )


def verify(inst, plan, params):
    check = FamilyCheck()
    cap = inst.warehouse_capacity
    if cap is None:
        return check
    inv = plan["inventory"]
    volume = (inv["on_hand"] * inv["product"].map(dict(zip(inst.products["product"], inst.products["unit_volume"])))).groupby(inv["period"]).sum()
    for period, v in volume.items():
        if v > cap + tol(cap):
            check.violation("warehouse_capacity", period, v - cap, f"volume {v:g} > {cap:g}")
    return check
