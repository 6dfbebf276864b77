r"""Safety stock pooled across segments: one buffer per product, sized on the pooled forecast error.

An edited copy of the core family ``models/safety_stock.py`` (the walkthrough in
docs/model-guide.md). The core family adds each segment's buffer; pooling
recognises that the segments' forecast errors partly cancel, so the product
holds one buffer on the pooled error, at the strictest promise among the
segments that buy it.

Decision
    K[p] >= 0   the safety factor product p is held at

Constraints
    pooled_factor[s,p]:  K[p] >= sum_{j in J_s} k[s,j] * z[s,j]     for every segment s buying p
    safety_stock[p,t]:   I[p,t] >= sigma_pool[p,t] * K[p] + sum_b B_b[p,t]   outside p's frozen zone

with sigma_pool[p,t] = sqrt(sum_s sigma[s,p,t]^2), k[s,j] = max(0, Phi^-1(csl[s,j])) and,
as in the core family, B_b the buffers other families register (the late share of arrivals).
K[p] is then at least the highest safety factor of the tiers chosen for p's
segments (holding cost keeps it there); the safety stock a plan reports is
sigma_pool[p,t] * max_s k[s, tier of s], which the row guarantees.

Checked on a plan: inventory.csv reports that safety stock (safety_stock_value),
and outside the frozen zone on_hand is at least it plus the late buffer (safety_stock).

The tight order bound stays valid (``KEEPS_ORDER_BOUND``): the most its row can require
is sigma_pool times the highest allowed safety factor (``max_stock``). A copied family
that did not say so would only make the order bounds looser, never a plan wrong.

=============  ======================  ===========================================
symbol         Pyomo                    input
=============  ======================  ===========================================
K[p]           ``m.pooled_factor_of``
k[s,j]         coefficient              service_tiers.cycle_service_level
sigma[s,p,t]   coefficient              demand.std
=============  ======================  ===========================================
"""

import math
from collections import defaultdict

import pandas as pd
import pyomo.environ as pyo

from models.values import values
from planner.contract.checks import FamilyCheck, tol

NAME = "safety_stock"
SUMMARY = "End-of-period inventory at least the pooled safety stock: sqrt(sum of sigma^2) x the highest safety factor."
REPLACES_BUILTIN = True  # takes the core family's place (and its DEFAULT_ON)
KEEPS_ORDER_BOUND = True  # the stock its row requires is max_stock below


def _pooled_sigma(inst) -> dict[tuple[str, int], float]:
    d = inst.demand_indexed
    d = d[d["std"] > 0]
    var = (d["std"].astype(float) ** 2).groupby([d["product"], d["t"].astype(int)]).sum()
    return {key: math.sqrt(v) for key, v in var.items()}


def max_stock(inst, params):
    top = inst.tiers[inst.tiers["allowed"]]["safety_factor"].max()
    out: dict[str, float] = {}
    for (p, _), sd in _pooled_sigma(inst).items():
        out[p] = max(out.get(p, 0.0), sd * float(top))
    return out


def build(m, inst, params):
    t = inst.tiers[inst.tiers["allowed"]]
    k = dict(zip(zip(t["segment"], t["tier"]), t["safety_factor"].astype(float)))
    tiers_of = defaultdict(list)
    for s, j in m.TIERS:
        tiers_of[s].append(j)
    sigma = _pooled_sigma(inst)
    buyers = inst.demand[inst.demand["std"] > 0].groupby("product")["segment"].apply(set).to_dict()
    products = sorted({p for p, _ in sigma}, key=inst.product_ids.index)
    m.pooled_factor_of = pyo.Var(products, domain=pyo.NonNegativeReals)
    m.pooled_factor = pyo.Constraint(
        [(s, p) for p in products for s in sorted(buyers[p])],
        rule=lambda m, s, p: m.pooled_factor_of[p] >= sum(k[s, j] * m.tier_chosen[s, j] for j in tiers_of[s]),
    )
    buffers = list(m.stock_buffers.values())
    cells = {c for c in sigma if not inst.is_frozen(*c)} | {c for b in buffers for c in b if not inst.is_frozen(*c)}

    def row(m, p, tt):
        pooled = sigma[p, tt] * m.pooled_factor_of[p] if (p, tt) in sigma else 0.0
        return m.inventory[p, tt] >= pooled + sum(b[p, tt] for b in buffers if (p, tt) in b)

    m.safety_stock = pyo.Constraint(sorted(cells, key=lambda c: (inst.product_ids.index(c[0]), c[1])), rule=row)


def extract(m, inst):
    chosen = {s: j for (s, j), z in values(m.tier_chosen).items() if z > 0.5}
    k = inst.tiers.set_index(["segment", "tier"])["safety_factor"]
    buyers = inst.demand[inst.demand["std"] > 0].groupby("product")["segment"].apply(set).to_dict()
    rows = [(p, inst.periods[t], round(sd * max(float(k[s, chosen[s]]) for s in buyers[p]), 6)) for (p, t), sd in _pooled_sigma(inst).items()]
    return {"inventory": pd.DataFrame(rows, columns=["product", "period", "safety_stock"])}


def verify(inst, plan, params):
    check = FamilyCheck()
    factor = {s: float(r["safety_factor"]) for s, r in plan.chosen_tiers.items()}
    sv = plan.service[plan.service["std"] > 0]
    top = sv["segment"].map(factor).groupby(sv["product"]).max()
    ss = pd.Series(_pooled_sigma(inst)).rename_axis(["product", "t"])
    ss = ss * ss.index.get_level_values("product").map(top).to_numpy()
    reported = plan.stock["safety_stock"].reindex(ss.index).fillna(0.0)
    for (p, t), got, e in zip(ss.index, reported, ss):
        if abs(got - e) > tol(e) * 10:
            check.violation("safety_stock_value", f"{p}/{inst.periods[t]}", got - e, f"reported safety stock {got:g}, pooled {e:g}")
    need = ss.reindex(plan.on_hand.index, fill_value=0.0) + plan.stock["late_buffer"].reindex(plan.on_hand.index).fillna(0.0)
    held = plan.on_hand.fillna(0.0)
    short = ~plan.frozen_cells(need.index) & (held < need - tol(need))
    for (p, t), got, e in zip(need[short].index, held[short], need[short]):
        check.violation("safety_stock", f"{p}/{inst.periods[t]}", e - got, f"on_hand {got:g} below pooled safety stock and late buffer {e:g}")
    return check
