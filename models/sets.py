"""Index sets of the model.

=============  =====================================  ==========================
symbol         Pyomo                                   from
=============  =====================================  ==========================
P              ``m.P``                                 products.product
S              ``m.S``                                 segments.segment
K              ``m.K``                                 suppliers.supplier
T              ``m.T`` (0..|T|-1)                      periods / demand.period
O              ``m.ORDER_SLOTS`` (k, p, t)             supplier_products, lead_time
D              ``m.DEMAND`` (s, p, t), quantity > 0    demand
J              ``m.TIERS`` (s, j), j allowed for s     service_tiers, min_tier
=============  =====================================  ==========================

Only cells that exist are indexed (sparse sets): a product is only ordered
from its eligible suppliers, and only where the order can arrive inside the
horizon and fit the supplier's capacity (see ``Instance.order_slots``).
"""

import pyomo.environ as pyo

NAME = "sets"
SUMMARY = "Index sets: products, segments, suppliers, periods, order slots, demand cells, allowed tiers."
DEFAULT_ON = True
CAN_DISABLE = False
KEEPS_ORDER_BOUND = True  # index sets only


def build(m, inst, params):
    m.P = pyo.Set(initialize=inst.product_ids, ordered=True)
    m.S = pyo.Set(initialize=inst.segment_ids, ordered=True)
    m.K = pyo.Set(initialize=inst.supplier_ids, ordered=True)
    m.T = pyo.Set(initialize=range(inst.horizon), ordered=True)
    slots = inst.order_slots
    m.ORDER_SLOTS = pyo.Set(dimen=3, ordered=True, initialize=list(zip(slots["supplier"], slots["product"], slots["t"].astype(int))))
    d = inst.demand_indexed
    d = d[d["quantity"] > 0]
    m.DEMAND = pyo.Set(dimen=3, ordered=True, initialize=list(zip(d["segment"], d["product"], d["t"].astype(int))))
    tiers = inst.tiers[inst.tiers["allowed"]]
    m.TIERS = pyo.Set(dimen=2, ordered=True, initialize=list(zip(tiers["segment"], tiers["tier"])))
