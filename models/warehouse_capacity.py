r"""Warehouse space for end-of-period inventory (when settings.warehouse_capacity is given).

Constraint, for every t in T
    warehouse_capacity[t]:   sum_p unit_volume[p] * I[p,t] <= warehouse_capacity

Checked on end-of-period stock, the same stock that pays holding cost; goods
received and shipped within one period are assumed to pass through.

====================  ===================  =============================
symbol                Pyomo                 input
====================  ===================  =============================
unit_volume           coefficient           products.unit_volume
warehouse_capacity    constant              settings.warehouse_capacity
====================  ===================  =============================
"""

import pyomo.environ as pyo

NAME = "warehouse_capacity"
SUMMARY = "Total volume of end-of-period inventory within the warehouse capacity."
DEFAULT_ON = True


def build(m, inst, params):
    cap = inst.warehouse_capacity
    if cap is None:
        return
    vol = dict(zip(inst.products["product"], inst.products["unit_volume"].astype(float)))
    m.warehouse_capacity = pyo.Constraint(
        m.T, rule=lambda m, t: sum(vol[p] * m.inventory[p, t] for p in m.P if vol[p] > 0) <= cap
        if any(vol[p] > 0 for p in m.P) else pyo.Constraint.Skip
    )
