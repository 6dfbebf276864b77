"""Why is a plan infeasible? Re-solve with penalised slack and say which requirements had to give.

The elastic model is the run's own model with every row of the requirement
families made elastic:

    supplier_capacity[k,t]:  use - s <= capacity          (s: capacity units short)
    warehouse_capacity[t]:   volume - s <= capacity       (s: volume short)
    budget[t]:               spend - s <= budget          (s: money short)
    fill_rate_floor[s,p,t]:  q + s >= fill_rate * demand  (s: units not served that the tier promised)
    safety_stock[p,t]:       I + s >= safety stock        (s: units of buffer missing)

and min_tier relaxed: every tier is allowed, and a tier below the segment's
floor pays the penalty once per unit of the segment's demand. The objective is
profit minus a penalty per unit of slack far above any price or cost in the
data, so the solver finds the cheapest relaxation and, among those, the most
profitable plan. Slacks are weighed in units of product: a capacity unit is
worth 1 / (mean capacity_use) units, a volume unit 1 / (mean unit_volume), a
unit of money 1 / (mean unit_cost). Promises (fill rate, safety stock,
min_tier) weigh 1 % more than limits, so where keeping the promise and
relaxing a limit cost the same, the explanation names the limit: "to keep
every promise, supplier K would need 5 more capacity units in week 3". The
slacks that are positive name the requirements in business terms.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pyomo.environ as pyo

from models import build_model, select
from planner.contract.instance import Instance
from planner.solve.highs import SolveOptions, solve_model

PROMISE_WEIGHT = 1.01

#: component name -> (unit of the slack, index names)
ELASTIC = {
    "supplier_capacity": ("capacity units", ("supplier", "period")),
    "warehouse_capacity": ("volume", ("period",)),
    "budget": ("money", ("period",)),
    "fill_rate_floor": ("units", ("segment", "product", "period")),
    "safety_stock": ("units", ("product", "period")),
}


def _penalty(inst: Instance) -> float:
    d, sp, p = inst.demand, inst.supplier_products, inst.products
    biggest = max(
        [1.0, float(d["price"].max()), float(sp["unit_cost"].max()), float(sp["order_cost"].max()), float(inst.segments["lost_sale_penalty"].max())]
        + [float(p["holding_cost"].max()) * inst.horizon]
    )
    return 1000.0 * biggest


def _weights(inst: Instance) -> dict[str, float]:
    sp, p = inst.supplier_products, inst.products
    per = lambda v: 1.0 / v if v > 1e-9 else 1.0  # noqa: E731
    return {
        "supplier_capacity": per(float(sp["capacity_use"].mean())),
        "warehouse_capacity": per(float(p["unit_volume"].mean())),
        "budget": per(float(sp["unit_cost"].mean())),
        "fill_rate_floor": PROMISE_WEIGHT,
        "safety_stock": PROMISE_WEIGHT,
    }


def _where(names: tuple[str, ...], index: Any, inst: Instance) -> dict[str, Any]:
    index = index if isinstance(index, tuple) else (index,)
    out = {}
    for name, value in zip(names, index):
        out[name] = inst.periods[value] if name == "period" else value
    return out


def explain_infeasibility(
    inst: Instance, model_options: dict | None = None, models_dirs: list | None = None, time_limit: float | None = 60.0
) -> dict[str, Any]:
    """The cheapest relaxation that makes the run feasible, as named requirements.

    Returns ``{"relaxations": [...], "message": str, "feasible_when_relaxed": bool}``; each
    relaxation names its requirement, where (supplier/product/segment/period), the
    shortfall and its unit, in a sentence too.
    """
    floors = {s: t for s, t in zip(inst.segments["segment"], inst.segments["min_tier"]) if isinstance(t, str) and t}
    m, slacks, below = _elastic_model(inst, floors, model_options, models_dirs)
    result = solve_model(m, SolveOptions(time_limit=time_limit, mip_gap=1e-6))
    if not result.status.has_plan:
        return {
            "feasible_when_relaxed": False,
            "relaxations": [],
            "message": "the run stays infeasible even with capacity, warehouse, budget, fill-rate, safety-stock and "
            "min_tier requirements relaxed: the conflict lies elsewhere (e.g. frozen orders or a user constraint family)",
        }
    found = _relaxations(m, inst, slacks, below, floors)
    summary = "; ".join(r["message"] for r in found[:5]) + (f"; and {len(found) - 5} more" if len(found) > 5 else "")
    return {"feasible_when_relaxed": True, "relaxations": found, "message": summary or "no relaxation was needed"}


def _elastic_model(inst: Instance, floors: dict[str, str], model_options, models_dirs):
    """The run's model with every requirement row elastic and min_tier a penalty: (model, the
    slack variables by family, the (segment, tier) pairs below a floor)."""
    relaxed = dataclasses.replace(inst, segments=inst.segments.assign(min_tier=None), elastic=True)
    m = build_model(relaxed, select(model_options, models_dirs))
    weight = _weights(inst)
    slack_terms = []
    slacks: dict[str, Any] = {}
    for name in ELASTIC:
        comp = getattr(m, name, None)
        if comp is None or not isinstance(comp, pyo.Constraint) or not comp.is_indexed():
            continue
        keys = list(comp.keys())
        s = pyo.Var(keys, domain=pyo.NonNegativeReals)
        m.add_component(f"slack_{name}", s)
        for k in keys:
            con = comp[k]
            # loosen the row in the direction it binds (Pyomo may store a >= row as <=)
            body = con.body - s[k] if con.has_ub() else con.body + s[k]
            con.set_value((con.lower, body, con.upper))
        slacks[name] = s
        slack_terms.append(weight[name] * sum(s[k] for k in keys))
    rank = dict(zip(zip(inst.tiers["segment"], inst.tiers["tier"]), inst.tiers["fill_rate"]))
    demand_of = inst.demand.groupby("segment")["quantity"].sum().to_dict()
    below = [(s, j) for (s, j) in m.TIERS if s in floors and rank[(s, j)] < rank[(s, floors[s])]]
    tier_penalty = sum(PROMISE_WEIGHT * max(1.0, demand_of.get(s, 0.0)) * m.tier_chosen[s, j] for s, j in below)
    m.profit.deactivate()
    m.elastic_profit = pyo.Objective(expr=m.profit.expr - _penalty(inst) * (sum(slack_terms) + tier_penalty), sense=pyo.maximize)
    return m, slacks, below


def _relaxations(m, inst: Instance, slacks: dict[str, Any], below: list, floors: dict[str, str]) -> list[dict[str, Any]]:
    """The positive slacks and the floors given up, as named requirements, largest first."""
    found = []
    for name, s in slacks.items():
        unit, names = ELASTIC[name]
        for k in s:
            v = s[k].value or 0.0
            if v > 1e-6:
                where = _where(names, k, inst)
                place = ", ".join(f"{n} {w}" for n, w in where.items())
                found.append({"requirement": name, **where, "shortfall": round(v, 6), "unit": unit, "message": f"{name.replace('_', ' ')} ({place}) short by {v:,.4g} {unit}"})
    for s, j in below:
        if (m.tier_chosen[s, j].value or 0) > 0.5:
            found.append(
                {"requirement": "min_tier", "segment": s, "min_tier": floors[s], "tier": j, "shortfall": 1, "unit": "tier",
                 "message": f"segment {s} cannot get its contractual min_tier {floors[s]}; {j} is the best the supply allows"}
            )
    found.sort(key=lambda r: -r["shortfall"] if r["requirement"] != "min_tier" else -1e18)
    return found
