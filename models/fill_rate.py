r"""Fill-rate floor: the chosen tier's share of each period's demand must be served.

Constraint, for every (s,p,t) in D outside p's frozen zone (t >= e_p)
    fill_rate_floor[s,p,t]:   q[s,p,t] >= sum_{j in J_s} fill_rate[s,j] * d[s,p,t] * z[s,j]

Frozen zone. In the periods before any order placed now can arrive (t < e_p,
e_p = the shortest lead time among p's suppliers), what can be served is
already decided by initial inventory and open orders. A promise that cannot
be kept there is reported as a shortfall (``kpis``: frozen_service_shortfall),
not enforced: enforcing it would make a tier infeasible although no decision
could change the outcome (standard planning practice: targets bind from the
first period the plan can reach). Sales in the frozen zone still earn revenue
and pay lost-sale penalties, so the model still allocates frozen stock to the
most profitable segments.

Checked on a plan: outside the frozen zone, service.csv serves each demand row
at least the fill rate of the tier segments.csv gives its segment
(fill_rate_floor).

===============  ======================  ==================================
symbol           Pyomo                    input
===============  ======================  ==================================
fill_rate[s,j]   coefficient              service_tiers.fill_rate
d[s,p,t]         coefficient              demand.quantity
e_p              ``inst.first_supply_period``  suppliers.lead_time
===============  ======================  ==================================
"""

import pyomo.environ as pyo

from planner.contract.checks import FamilyCheck, named, tol

NAME = "fill_rate"
SUMMARY = "Served quantity at least the chosen tier's fill rate times demand, outside the frozen zone."
DEFAULT_ON = True
KEEPS_ORDER_BOUND = True  # sales are not changed by the cut


def build(m, inst, params):
    t = inst.tiers[inst.tiers["allowed"]]
    fr = dict(zip(zip(t["segment"], t["tier"]), t["fill_rate"].astype(float)))
    tiers_of = {s: [j for (s2, j) in m.TIERS if s2 == s] for s in m.S}
    cells = [(s, p, tt) for (s, p, tt) in m.DEMAND if not inst.is_frozen(p, tt) and any(fr[s, j] > 0 for j in tiers_of[s])]
    m.FILL_RATE_CELLS = pyo.Set(dimen=3, ordered=True, initialize=cells)
    m.fill_rate_floor = pyo.Constraint(
        m.FILL_RATE_CELLS,
        rule=lambda m, s, p, tt: m.served[s, p, tt]
        >= sum(fr[s, j] * m.demand_qty[s, p, tt] * m.tier_chosen[s, j] for j in tiers_of[s] if fr[s, j] > 0),
    )


def verify(inst, plan, params):
    check = FamilyCheck()
    fr = {s: float(r["fill_rate"]) for s, r in plan.chosen_tiers.items()}
    sv = plan.service
    need = sv["segment"].map(fr).fillna(0.0) * sv["quantity"]
    short = ~sv["frozen"] & (sv["served"] < need - tol(need))
    for w, r in named(sv.assign(need=need), short, ["segment", "product", "period"]):
        check.violation("fill_rate_floor", w, r.need - r.served, f"served {r.served:g} < {fr.get(r.segment, 0.0):g} x demand {r.quantity:g}")
    return check
