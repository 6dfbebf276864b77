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

=====================  ======================  ===========================
symbol                 Pyomo                    input
=====================  ======================  ===========================
q                      ``m.served``
d, price               (bounds / coefficients)  demand.quantity, demand.price
cost_to_serve          coefficient              segments.cost_to_serve
lost_sale_penalty      coefficient              segments.lost_sale_penalty
=====================  ======================  ===========================
"""

import pyomo.environ as pyo

NAME = "sales"
SUMMARY = "Served quantity per segment, product and period; revenue, cost to serve, lost-sale penalty."
DEFAULT_ON = True
CAN_DISABLE = False


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
