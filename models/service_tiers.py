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

=====================  ===================  ===============================
symbol                 Pyomo                 input
=====================  ===================  ===============================
z                      ``m.tier_chosen``
J_s                    ``m.TIERS``           service_tiers, segments.min_tier
tier_value, tier_cost  coefficient           service_tiers.tier_value, .tier_cost
=====================  ===================  ===============================
"""

import pyomo.environ as pyo

NAME = "service_tiers"
SUMMARY = "Exactly one allowed service tier per segment (min_tier respected); tier value net of tier cost."
DEFAULT_ON = True
CAN_DISABLE = False


def build(m, inst, params):
    t = inst.tiers[inst.tiers["allowed"]]
    net = dict(zip(zip(t["segment"], t["tier"]), (t["tier_value"] - t["tier_cost"]).astype(float)))
    m.tier_chosen = pyo.Var(m.TIERS, domain=pyo.Binary)
    tiers_of = {s: [j for (s2, j) in m.TIERS if s2 == s] for s in m.S}
    m.one_tier = pyo.Constraint(m.S, rule=lambda m, s: sum(m.tier_chosen[s, j] for j in tiers_of[s]) == 1)
    m.tier_net_value = pyo.Expression(expr=sum(net[i] * m.tier_chosen[i] for i in m.TIERS))
    m.profit_terms["tier_net_value"] = (+1, m.tier_net_value)
