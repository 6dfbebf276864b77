r"""Service tiers: which promise of service each segment gets.

Decision
    z[s,j] in {0,1}    segment s is given tier j (only tiers at or above its
                       min_tier exist: the contractual floor is a domain, not a row)

Constraint
    one_tier[s]:   sum_{j in J_s} z[s,j] = 1

Profit term
    tier_net_value = sum_{(s,j)} (tier_value[s,j] - tier_cost[s,j]) * z[s,j]

The tier a segment gets sets its fill-rate floor (``fill_rate.py``) and its
contribution to safety stock (``safety_stock.py``). The model weighs what the
tier earns (tier_value, plus the sales it protects) against what it costs
(tier_cost, plus the stock and supply it requires).

Checked on a plan: segments.csv gives every segment exactly one of its tiers
(one_tier), at or above its min_tier (min_tier); tier_net_value recomputed.

Contributes to the plan: the tier of each segment in ``segments.csv``, and its
tier_net_value.

=====================  ===================  ===============================
symbol                 Pyomo                 input
=====================  ===================  ===============================
z                      ``m.tier_chosen``
J_s                    ``m.TIERS``           service_tiers, segments.min_tier
tier_value, tier_cost  coefficient           service_tiers.tier_value, .tier_cost
=====================  ===================  ===============================
"""

import pandas as pd
import pyomo.environ as pyo

from models.values import values
from planner.contract.checks import FamilyCheck

NAME = "service_tiers"
SUMMARY = "Exactly one allowed service tier per segment (min_tier respected); tier value net of tier cost."
DEFAULT_ON = True
CAN_DISABLE = False
KEEPS_ORDER_BOUND = True  # no order in its rows


def build(m, inst, params):
    t = inst.tiers[inst.tiers["allowed"]]
    net = dict(zip(zip(t["segment"], t["tier"]), (t["tier_value"] - t["tier_cost"]).astype(float)))
    m.tier_chosen = pyo.Var(m.TIERS, domain=pyo.Binary)
    tiers_of = {s: [j for (s2, j) in m.TIERS if s2 == s] for s in m.S}
    m.one_tier = pyo.Constraint(m.S, rule=lambda m, s: sum(m.tier_chosen[s, j] for j in tiers_of[s]) == 1)
    m.tier_net_value = pyo.Expression(expr=sum(net[i] * m.tier_chosen[i] for i in m.TIERS))
    m.profit_terms["tier_net_value"] = (+1, m.tier_net_value)


def extract(m, inst):
    chosen = {s: j for (s, j), z in values(m.tier_chosen).items() if z > 0.5}
    net = inst.tiers.set_index(["segment", "tier"])
    net = (net["tier_value"] - net["tier_cost"]).to_dict()
    tiers = [chosen.get(s) for s in inst.segment_ids]
    return {"segments": pd.DataFrame({"segment": inst.segment_ids, "tier": tiers,
                                      "tier_net_value": [float(net.get((s, j), 0.0)) for s, j in zip(inst.segment_ids, tiers)]})}


def verify(inst, plan, params):
    check = FamilyCheck()
    tiers = inst.tiers.set_index(["segment", "tier"])
    given = plan["segments"].groupby("segment")["tier"].apply(list).to_dict() if len(plan["segments"]) else {}
    for s in inst.segment_ids:
        js = [j for j in given.get(s, []) if j is not None]
        if len(js) != 1:
            check.violation("one_tier", s, len(js), f"segment {s} has {len(js)} tiers in the plan; exactly one required")
        elif (s, js[0]) not in tiers.index:
            check.violation("one_tier", s, 1, f"segment {s}: tier {js[0]!r} is not one of its tiers")
        elif not bool(tiers.at[(s, js[0]), "allowed"]):
            check.violation("min_tier", s, 1, f"segment {s}: tier {js[0]!r} is below its min_tier")
    check.term("tier_net_value", +1, sum(float(r["tier_value"] - r["tier_cost"]) for r in plan.chosen_tiers.values()))
    return check
