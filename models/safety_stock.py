r"""Safety stock: end-of-period inventory covers the forecast error at the chosen tiers, and the buffers other families ask for.

Constraint, for every p in P and t in T outside p's frozen zone (t >= e_p)
    safety_stock[p,t]:   I[p,t] >= SS[p,t] + sum_b B_b[p,t]
    SS[p,t] = sum_s sum_{j in J_s} k[s,j] * sigma[s,p,t] * z[s,j]

with the safety factor k[s,j] = max(0, Phi^-1(cycle_service_level[s,j])) and
sigma[s,p,t] the standard deviation of segment s's forecast error for p over
the protection interval (demand.std), and B_b the stock buffers other families
register in ``m.stock_buffers`` (``punctuality.py``: the expected late share of
the period's arrivals).

Modelling choices
- Safety stock *adds* across segments (sum of k*sigma) rather than pooling
  (k*sqrt(sum sigma^2)): each segment's buffer is attributable to its promise,
  the row stays linear in z, and the result is conservative (it never holds
  less than pooling would). The verifier recomputes the same sum.
- A cycle service level of 50 % or less needs no buffer: k is clipped at 0 so
  one segment's low promise never cancels another segment's buffer.
- Frozen zone (t < e_p): not enforced, for the reason given in ``fill_rate.py``;
  the shortfall is reported (kpis: frozen_safety_stock_shortfall).

Checked on a plan: inventory.csv reports SS[p,t] as recomputed here from
demand.std and the tiers in segments.csv (safety_stock_value), and outside the
frozen zone on_hand >= SS[p,t] + late_buffer (safety_stock; the late buffer's
own value is punctuality's check).

Contributes to the plan: ``inventory.csv``'s safety_stock.

============  ======================  ===========================================
symbol        Pyomo                    input
============  ======================  ===========================================
k[s,j]        coefficient              service_tiers.cycle_service_level
sigma[s,p,t]  coefficient              demand.std
SS[p,t]       ``m.safety_stock_target``  (expression, reported in inventory.csv)
============  ======================  ===========================================
"""

from collections import defaultdict

import pandas as pd
import pyomo.environ as pyo

from models.values import values
from planner.contract.checks import FamilyCheck, tol

NAME = "safety_stock"
SUMMARY = "End-of-period inventory at least the safety stock of the chosen tiers (additive over segments) plus the late-delivery buffer."
DEFAULT_ON = True
KEEPS_ORDER_BOUND = True  # the stock its row requires is max_stock below (the late share is in the bound itself)


def build(m, inst, params):
    t = inst.tiers[inst.tiers["allowed"]]
    k = dict(zip(zip(t["segment"], t["tier"]), t["safety_factor"].astype(float)))
    tiers_of = defaultdict(list)
    for s, j in m.TIERS:
        tiers_of[s].append(j)
    d = inst.demand_indexed
    d = d[d["std"] > 0]
    coef = defaultdict(dict)  # (p,t) -> {(s,j): k*sigma}
    for s, p, tt, sigma in zip(d["segment"], d["product"], d["t"].astype(int), d["std"].astype(float)):
        for j in tiers_of[s]:
            if k[s, j] > 0:
                coef[p, tt][s, j] = coef[p, tt].get((s, j), 0.0) + k[s, j] * sigma
    position = {p: i for i, p in enumerate(inst.product_ids)}
    buffers = list(m.stock_buffers.values())
    cells = {(p, tt) for (p, tt) in coef if not inst.is_frozen(p, tt)}
    cells |= {(p, tt) for b in buffers for (p, tt) in b if not inst.is_frozen(p, tt)}
    m.SAFETY_STOCK_CELLS = pyo.Set(dimen=2, ordered=True, initialize=sorted(cells, key=lambda c: (position[c[0]], c[1])))
    m.safety_stock_target = pyo.Expression(
        list(coef), rule=lambda m, p, tt: sum(c * m.tier_chosen[sj] for sj, c in coef[p, tt].items())
    )

    def row(m, p, tt):
        need = m.safety_stock_target[p, tt] if (p, tt) in coef else 0.0
        return m.inventory[p, tt] >= need + sum(b[p, tt] for b in buffers if (p, tt) in b)

    m.safety_stock = pyo.Constraint(m.SAFETY_STOCK_CELLS, rule=row)


def max_stock(inst, params):
    """The most its row can require: SS[p,t] with every segment at its highest allowed tier."""
    return inst.max_safety_stock


def extract(m, inst):
    rows = [(p, inst.periods[t], round(v, 6)) for (p, t), v in values(m.safety_stock_target).items()]
    return {"inventory": pd.DataFrame(rows, columns=["product", "period", "safety_stock"])}


def target(inst, plan) -> pd.Series:
    """SS[p,t] = sum_s k[s, tier of s] * sigma[s,p,t], for every (product, t) with demand."""
    k = {s: float(r["safety_factor"]) for s, r in plan.chosen_tiers.items()}
    sv = plan.service
    return (sv["std"] * sv["segment"].map(k).fillna(0.0)).groupby([sv["product"], sv["t"]]).sum()


def verify(inst, plan, params):
    check = FamilyCheck()
    ss = target(inst, plan)
    reported = plan.stock["safety_stock"].reindex(ss.index).fillna(0.0)
    wrong = (reported - ss).abs() > tol(ss) * 10
    for (p, t), got, e in zip(ss[wrong].index, reported[wrong], ss[wrong]):
        check.violation("safety_stock_value", f"{p}/{inst.periods[t]}", got - e, f"reported safety stock {got:g}, recomputed {e:g}")
    need = (ss.reindex(plan.on_hand.index, fill_value=0.0) + plan.stock["late_buffer"].reindex(plan.on_hand.index).fillna(0.0))
    held = plan.on_hand.fillna(0.0)
    short = ~plan.frozen_cells(need.index) & (held < need - tol(need))
    for (p, t), got, e in zip(need[short].index, held[short], need[short]):
        check.violation("safety_stock", f"{p}/{inst.periods[t]}", e - got, f"on_hand {got:g} below safety stock and late buffer {e:g}")
    return check
