r"""Reliable supply for the best tiers: premium promises are only backed by punctual suppliers.

A segment promised a high fill rate cannot be served from a supplier that is
often late. If segment s is given a tier whose fill rate is at least
``min_fill_rate``, every product s buys may only be ordered from suppliers
whose on_time_rate is at least ``min_on_time_rate``.

Constraint, for every segment s, product p with demand from s, and order slot
(k,p,t) of an unreliable supplier k (on_time_rate[k] < min_on_time_rate)
    reliable_supply[s,k,p,t]:   y[k,p,t] <= 1 - sum_{j in J_s: fill_rate[s,j] >= min_fill_rate} z[s,j]

The model therefore weighs a premium tier's value against losing the cheap
but unreliable suppliers for that segment's products. Open orders already in
transit are not affected.

=================  ==================  =====================================
symbol             Pyomo               input
=================  ==================  =====================================
y                  ``m.order_placed``  (decision, ``orders.py``)
z                  ``m.tier_chosen``   (decision, ``service_tiers.py``)
on_time_rate       data                suppliers.on_time_rate
=================  ==================  =====================================
"""

import pyomo.environ as pyo
from pydantic import BaseModel, ConfigDict, Field

from planner.contract.checks import FamilyCheck

NAME = "reliable_supply_for_tier"
SUMMARY = "Segments at high-fill-rate tiers are only supplied from suppliers with a minimum on-time rate."
KEEPS_ORDER_BOUND = True  # only order indicators in its rows, and the cut keeps them


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid")
    min_fill_rate: float = Field(0.95, ge=0, le=1, description="Tiers with at least this fill rate count as premium.", json_schema_extra={"unit": "fraction"})
    min_on_time_rate: float = Field(0.95, ge=0, le=1, description="On-time rate a supplier needs to supply premium segments' products.", json_schema_extra={"unit": "fraction"})


def _unreliable(inst, params):
    return set(inst.suppliers.loc[inst.suppliers["on_time_rate"] < params.min_on_time_rate, "supplier"])


def build(m, inst, params):
    t = inst.tiers[inst.tiers["allowed"]]
    premium = {}
    for s, j, fr in zip(t["segment"], t["tier"], t["fill_rate"]):
        if fr >= params.min_fill_rate:
            premium.setdefault(s, []).append(j)
    bad = _unreliable(inst, params)
    d = inst.demand[inst.demand["quantity"] > 0]
    buys = d.groupby("segment")["product"].apply(set).to_dict()
    rows = [(s, k, p, tt) for s in premium for (k, p, tt) in m.ORDER_SLOTS if k in bad and p in buys.get(s, ())]
    m.reliable_supply = pyo.Constraint(
        rows, rule=lambda m, s, k, p, tt: m.order_placed[k, p, tt] <= 1 - sum(m.tier_chosen[s, j] for j in premium[s])
    )


def verify(inst, tables, params):
    check = FamilyCheck()
    tiers = inst.tiers.set_index(["segment", "tier"])["fill_rate"]
    bad = _unreliable(inst, params)
    d = inst.demand[inst.demand["quantity"] > 0]
    o = tables["orders"]
    for s, j in zip(tables["segments"]["segment"], tables["segments"]["tier"]):
        if tiers.get((s, j), 0.0) < params.min_fill_rate:
            continue
        products = set(d.loc[d["segment"] == s, "product"])
        hits = o[o["supplier"].isin(bad) & o["product"].isin(products)]
        for r in hits.itertuples(index=False):
            check.violation(NAME, f"{s}/{r.supplier}/{r.product}/{r.period}", r.quantity, f"{s} is at premium tier {j} but {r.product} is ordered from unreliable {r.supplier}")
    return check
