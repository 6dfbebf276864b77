r"""Sales: how much of each segment's demand is served.

Decision
    q[s,p,t] in [0, d[s,p,t]]   units of p served to segment s in period t

Unserved demand is lost (no backlog): lost[s,p,t] = d[s,p,t] - q[s,p,t].

Profit terms
    revenue            = sum_D price[s,p,t] * q[s,p,t]
    cost_to_serve      = sum_D cost_to_serve[s] * q[s,p,t]
    lost_sale_penalty  = sum_D lost_sale_penalty[s] * (d[s,p,t] - q[s,p,t])

Because each segment has its own price, cost to serve and penalty, a unit of
scarce stock goes where price - cost_to_serve + lost_sale_penalty is highest,
unless a service-tier floor says otherwise.

Checked on a plan: every demand row has its service row (service_row), with
0 <= served <= demand (served_bounds) and lost = demand - served
(lost_definition); the three terms recomputed from service.csv.

Contributes to the plan: ``service.csv`` and, per segment in
``segments.csv``, demand, served, fill rate, revenue, cost to serve and penalty.

=====================  ======================  ===========================
symbol                 Pyomo                    input
=====================  ======================  ===========================
q                      ``m.served``
d, price               (bounds / coefficients)  demand.quantity, demand.price
cost_to_serve          coefficient              segments.cost_to_serve
lost_sale_penalty      coefficient              segments.lost_sale_penalty
=====================  ======================  ===========================
"""

import pandas as pd
import pyomo.environ as pyo

from models.values import values
from planner.contract.checks import FamilyCheck, named, tol

NAME = "sales"
SUMMARY = "Served quantity per segment, product and period; revenue, cost to serve, lost-sale penalty."
DEFAULT_ON = True
CAN_DISABLE = False
KEEPS_ORDER_BOUND = True  # no order in its rows


def build(m, inst, params):
    d = inst.demand_indexed
    d = d[d["quantity"] > 0]
    keys = list(zip(d["segment"], d["product"], d["t"].astype(int)))
    qty = dict(zip(keys, d["quantity"].astype(float)))
    price = dict(zip(keys, d["price"].astype(float)))
    cts = dict(zip(inst.segments["segment"], inst.segments["cost_to_serve"]))
    pen = dict(zip(inst.segments["segment"], inst.segments["lost_sale_penalty"]))

    m.demand_qty = qty
    m.served = pyo.Var(m.DEMAND, domain=pyo.NonNegativeReals, bounds=lambda m, s, p, t: (0, qty[s, p, t]))

    m.revenue = pyo.Expression(expr=sum(price[i] * m.served[i] for i in m.DEMAND))
    m.cost_to_serve = pyo.Expression(expr=sum(cts[i[0]] * m.served[i] for i in m.DEMAND))
    m.lost_sale_penalty = pyo.Expression(expr=sum(pen[i[0]] * (qty[i] - m.served[i]) for i in m.DEMAND))
    m.profit_terms["revenue"] = (+1, m.revenue)
    m.profit_terms["cost_to_serve"] = (-1, m.cost_to_serve)
    m.profit_terms["lost_sale_penalty"] = (-1, m.lost_sale_penalty)


def extract(m, inst):
    d = inst.demand_indexed
    by_cell = values(m.served)
    served = [min(q, max(0.0, round(by_cell.get((s, p, t), 0.0), 6))) for s, p, t, q in zip(d["segment"], d["product"], d["t"], d["quantity"])]
    service = pd.DataFrame({"segment": d["segment"], "product": d["product"], "period": d["period"], "demand": d["quantity"].astype(float), "served": served})
    service["lost"] = (service["demand"] - service["served"]).clip(lower=0).round(6)
    seg = inst.segments.set_index("segment")
    sums = service.assign(revenue=d["price"].to_numpy() * service["served"]).groupby("segment")[["demand", "served", "revenue"]].sum()
    sums = sums.reindex(inst.segment_ids, fill_value=0.0)
    segments = pd.DataFrame({"segment": inst.segment_ids, "demand": sums["demand"].to_numpy(), "served": sums["served"].to_numpy()})
    segments["fill_rate"] = (segments["served"] / segments["demand"].where(segments["demand"] > 0)).fillna(1.0)
    segments["revenue"] = sums["revenue"].to_numpy()
    segments["cost_to_serve"] = seg["cost_to_serve"].reindex(inst.segment_ids).to_numpy(dtype=float) * segments["served"]
    segments["lost_sale_penalty"] = seg["lost_sale_penalty"].reindex(inst.segment_ids).to_numpy(dtype=float) * (segments["demand"] - segments["served"])
    return {"service": service, "segments": segments}


def verify(inst, plan, params):
    check = FamilyCheck()
    sv = plan.service
    cell = ["segment", "product", "period"]
    for w, r in named(sv, sv["missing"], cell):
        check.violation("service_row", w, r.quantity, "demand row missing from service table")
    bad = (sv["served"] < -tol(0)) | (sv["served"] > sv["quantity"] + tol(sv["quantity"]))
    for w, r in named(sv, bad, cell):
        check.violation("served_bounds", w, r.served, f"served {r.served:g} outside [0, demand {r.quantity:g}]")
    off = (sv["quantity"] - sv["served"] - sv["lost"]).abs()
    for w, r in named(sv.assign(off=off), sv["lost"].notna() & (off > tol(sv["quantity"])), cell):
        check.violation("lost_definition", w, r.off, "lost != demand - served")
    seg = inst.segments.set_index("segment")
    check.term("revenue", +1, (sv["price"] * sv["served"]).sum())
    check.term("cost_to_serve", -1, (sv["served"] * sv["segment"].map(seg["cost_to_serve"])).sum())
    check.term("lost_sale_penalty", -1, ((sv["quantity"] - sv["served"]) * sv["segment"].map(seg["lost_sale_penalty"])).sum())
    return check
