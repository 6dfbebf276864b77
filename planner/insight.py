"""Decision insight over the planning core: what integration earns, what service costs, what changes.

- :func:`value_of_integration`: the same instance planned CRM-led (every segment
  at its highest tier), SCM-led (every segment at its lowest allowed tier) and
  integrated (tiers chosen jointly), side by side, by cost term and by segment.
- :func:`frontier`: profit against overall fill rate and inventory investment,
  sweeping the ``service_level_floor``; per-segment fill rates show which
  segments lose service first as the floor drops.
- :func:`apply_scenario` + :func:`compare_plans`: named what-if changes and the
  differences between two plans (orders moved, added, dropped; tiers changed; KPI deltas).
- :func:`shadow_prices`: what one more unit of supplier capacity, warehouse space
  or budget is worth in each period (duals of the LP with the plan's integer
  decisions fixed); :func:`tier_reasons`: why each segment got its tier.
- :func:`profitability`: profit per segment (and per customer) with supply and
  stock costs allocated, adding up to the plan's profit.

Everything here calls :func:`planner.run.solve_instance` or reads plan tables;
none of it holds model logic of its own.
"""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

import numpy as np
import pandas as pd

from planner.instance import Instance
from planner.loading import RawTables
from planner.plan import Plan
from planner.solver import SolveOptions

TERMS = ["revenue", "purchase_cost", "order_cost", "supplier_fixed_cost", "holding_cost", "cost_to_serve", "lost_sale_penalty", "tier_net_value"]
KPIS = ["status", "profit", *TERMS, "fill_rate", "average_inventory", "orders_placed", "suppliers_used", "mip_gap"]


def _with(model_options: dict | None, **families: Any) -> dict:
    opts = copy.deepcopy(model_options) if model_options else {}
    opts.setdefault("constraints", {}).update(families)
    return opts


def _solve(inst: Instance, options: SolveOptions | None, model_options: dict | None, models_dirs=None) -> Plan:
    from planner.run import solve_instance

    return solve_instance(inst, options or SolveOptions(), model_options, models_dirs, explain=False)


# ---------------------------------------------------------------------------------------
# Value of integration
# ---------------------------------------------------------------------------------------

@dataclasses.dataclass
class IntegrationValue:
    plans: dict[str, Plan]  # crm_led, scm_led, integrated
    kpis: pd.DataFrame  # kpi x (crm_led, scm_led, integrated, vs_crm_led, vs_scm_led)
    segments: pd.DataFrame  # segment x (tier and profit contribution of each plan)

    def gain(self, versus: str) -> float | None:
        a, b = self.plans["integrated"].kpis.get("profit"), self.plans[versus].kpis.get("profit")
        return None if a is None or b is None else a - b


def value_of_integration(inst: Instance, options: SolveOptions | None = None, model_options: dict | None = None, models_dirs=None) -> IntegrationValue:
    plans = {
        "crm_led": _solve(inst, options, _with(model_options, fixed_tiers={"policy": "highest"}), models_dirs),
        "scm_led": _solve(inst, options, _with(model_options, fixed_tiers={"policy": "lowest"}), models_dirs),
        "integrated": _solve(inst, options, model_options, models_dirs),
    }
    rows = {}
    for kpi in KPIS:
        rows[kpi] = {name: p.kpis.get(kpi) for name, p in plans.items()}
    kpis = pd.DataFrame.from_dict(rows, orient="index")
    for versus in ("crm_led", "scm_led"):
        kpis[f"integrated_vs_{versus}"] = [
            (a - b) if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool) else None
            for a, b in zip(kpis["integrated"], kpis[versus])
        ]
    kpis.index.name = "kpi"
    seg = pd.DataFrame({"segment": inst.segment_ids})
    for name, p in plans.items():
        if "segments" in p.tables:
            t = p.tables["segments"].set_index("segment")
            seg[f"{name}_tier"] = seg["segment"].map(t["tier"])
            seg[f"{name}_profit_contribution"] = seg["segment"].map(t["profit_contribution"])
            seg[f"{name}_fill_rate"] = seg["segment"].map(t["fill_rate"])
    return IntegrationValue(plans, kpis.reset_index(), seg)


# ---------------------------------------------------------------------------------------
# Trade-off frontier
# ---------------------------------------------------------------------------------------

def inventory_investment(inst: Instance, inventory: pd.DataFrame) -> float:
    """Average value of stock on hand per period, at each product's cheapest unit cost."""
    cost = inst.supplier_products.groupby("product")["unit_cost"].min()
    value = inventory["on_hand"] * inventory["product"].map(cost).fillna(0.0)
    return float(value.groupby(inventory["period"]).sum().mean()) if len(inventory) else 0.0


def _point(inst: Instance, plan: Plan, floor: float | None, chosen: bool) -> dict[str, Any]:
    row: dict[str, Any] = {"floor": floor, "chosen": chosen, "status": plan.status, "profit": plan.kpis.get("profit")}
    if plan.tables:
        row["fill_rate"] = plan.kpis["fill_rate"]
        row["inventory_investment"] = inventory_investment(inst, plan.tables["inventory"])
        for s, fr in zip(plan.tables["segments"]["segment"], plan.tables["segments"]["fill_rate"]):
            row[f"fill_rate:{s}"] = fr
    return row


def frontier(inst: Instance, floors: list[float] | None = None, options: SolveOptions | None = None, model_options: dict | None = None, models_dirs=None) -> pd.DataFrame:
    """Profit, fill rate and inventory investment as the overall fill-rate floor rises.

    Floors default to steps from the integrated plan's own fill rate (the chosen
    plan, marked) up to 100 %. Each row also has every segment's fill rate, so
    reading the table from the top floor down shows which segments lose service first.
    """
    base = _solve(inst, options, model_options, models_dirs)
    rows = [_point(inst, base, None, True)]
    if floors is None:
        start = base.kpis.get("fill_rate") or 0.0
        floors = sorted({round(float(f), 4) for f in np.linspace(start, 1.0, 6)[1:]})
    for f in floors:
        plan = _solve(inst, options, _with(model_options, service_level_floor={"fill_rate": f}), models_dirs)
        rows.append(_point(inst, plan, f, False))
    out = pd.DataFrame(rows)
    return out.sort_values(["fill_rate", "chosen"], na_position="last", kind="stable").reset_index(drop=True)


# ---------------------------------------------------------------------------------------
# Scenarios and plan differences
# ---------------------------------------------------------------------------------------

SCENARIO_CHANGES = {
    "demand_scale": "demand.quantity (and std) x factor, for a segment and/or product and/or periods",
    "price_scale": "demand.price x factor, for a segment and/or product",
    "supplier_down": "supplier capacity 0 in the given periods (a list, or from/to labels)",
    "capacity_scale": "supplier capacity x factor, for a supplier (or all) and optionally periods",
}


def _periods_of(change: dict, periods: list[str]) -> list[str]:
    if "periods" in change:
        return [str(p) for p in change["periods"]]
    for key in ("from", "to"):
        if key in change and str(change[key]) not in periods:
            raise ValueError(f"{key} period {change[key]!r} is not in the horizon ({periods[0]}..{periods[-1]})")
    lo = periods.index(str(change["from"])) if "from" in change else 0
    hi = periods.index(str(change["to"])) if "to" in change else len(periods) - 1
    return periods[lo : hi + 1]


def apply_scenario(raw: RawTables, periods: list[str], changes: list[dict]) -> RawTables:
    """The raw tables with named changes applied (see SCENARIO_CHANGES). Raises ValueError on a bad change."""
    out = copy.deepcopy(raw)
    for i, ch in enumerate(changes):
        if not isinstance(ch, dict):
            raise ValueError(f"change {i + 1}: must be an object with a type")
        try:
            _apply_change(out, periods, i, ch)
        except KeyError as exc:
            raise ValueError(f"change {i + 1} ({ch.get('type')}): missing {exc.args[0]!r}") from exc
        except (TypeError, ValueError) as exc:
            if str(exc).startswith("change "):
                raise
            raise ValueError(f"change {i + 1} ({ch.get('type')}): {exc}") from exc
    return out


def _apply_change(out: RawTables, periods: list[str], i: int, ch: dict) -> None:
    """Apply change number ``i`` (0-based) to ``out`` in place."""
    kind = ch.get("type")
    if kind not in SCENARIO_CHANGES:
        raise ValueError(f"change {i + 1}: unknown type {kind!r} (known: {', '.join(SCENARIO_CHANGES)})")
    if kind in ("demand_scale", "price_scale"):
        factor = float(ch["factor"])
        ps = set(_periods_of(ch, periods)) if ("periods" in ch or "from" in ch or "to" in ch) else None
        hit = 0
        for row in out["demand"]:
            if ch.get("segment") not in (None, row.get("segment")) or ch.get("product") not in (None, row.get("product")):
                continue
            if ps is not None and str(row.get("period")) not in ps:
                continue
            hit += 1
            if kind == "demand_scale":
                row["quantity"] = float(row["quantity"]) * factor
                if row.get("std") is not None:
                    row["std"] = float(row["std"]) * factor
            else:
                row["price"] = float(row["price"]) * factor
        if not hit:
            raise ValueError(f"change {i + 1} ({kind}): no demand row matches")
    else:
        suppliers = [str(ch["supplier"])] if ch.get("supplier") else [str(r["supplier"]) for r in out["suppliers"]]
        known = {str(r["supplier"]) for r in out["suppliers"]}
        if not set(suppliers) <= known:
            raise ValueError(f"change {i + 1} ({kind}): unknown supplier {ch.get('supplier')!r}")
        ps = _periods_of(ch, periods) if (kind == "supplier_down" or "periods" in ch or "from" in ch or "to" in ch) else periods
        default = {str(r["supplier"]): float(r["capacity"]) for r in out["suppliers"]}
        caps = {(str(r["supplier"]), str(r["period"])): float(r["capacity"]) for r in out.get("supplier_capacity", [])}
        for k in suppliers:
            for p in ps:
                cur = caps.get((k, p), default[k])
                caps[(k, p)] = 0.0 if kind == "supplier_down" else cur * float(ch["factor"])
        out["supplier_capacity"] = [{"supplier": k, "period": p, "capacity": c} for (k, p), c in caps.items()]


def compare_plans(base: dict[str, pd.DataFrame], other: dict[str, pd.DataFrame], base_kpis: dict, other_kpis: dict) -> dict[str, pd.DataFrame]:
    """What changed from ``base`` to ``other``: orders added, dropped, changed or moved; tiers; KPIs."""
    key = ["supplier", "product", "period"]
    a = base["orders"][key + ["quantity"]].copy()
    b = other["orders"][key + ["quantity"]].copy()
    for df in (a, b):
        df["period"] = df["period"].astype(str)
    m = a.merge(b, on=key, how="outer", suffixes=("_base", "_other"), indicator=True)
    m[["quantity_base", "quantity_other"]] = m[["quantity_base", "quantity_other"]].fillna(0.0)
    m["change"] = m["_merge"].map({"left_only": "dropped", "right_only": "added", "both": "same"}).astype(str)
    both = m["change"] == "same"
    m.loc[both & ((m["quantity_base"] - m["quantity_other"]).abs() > 1e-6), "change"] = "changed"
    m["delta"] = m["quantity_other"] - m["quantity_base"]
    orders = m[m["change"] != "same"].drop(columns="_merge").sort_values(key).reset_index(drop=True)
    # volume moved between suppliers, per product and period
    pa = a.groupby(["product", "period", "supplier"])["quantity"].sum()
    pb = b.groupby(["product", "period", "supplier"])["quantity"].sum()
    moved = pd.concat([pa.rename("base"), pb.rename("other")], axis=1).fillna(0.0)
    moved["delta"] = moved["other"] - moved["base"]
    moved = moved[moved["delta"].abs() > 1e-6].reset_index()
    by_supplier = moved.groupby("supplier")["delta"].sum().rename("volume_change").reset_index()
    ta = dict(zip(base["segments"]["segment"], base["segments"]["tier"]))
    tb = dict(zip(other["segments"]["segment"], other["segments"]["tier"]))
    tiers = pd.DataFrame(
        [(s, ta.get(s), tb.get(s)) for s in sorted(set(ta) | set(tb)) if ta.get(s) != tb.get(s)],
        columns=["segment", "tier_base", "tier_other"],
    )
    rows = []
    for k in KPIS:
        x, y = base_kpis.get(k), other_kpis.get(k)
        num = isinstance(x, (int, float)) and isinstance(y, (int, float)) and not isinstance(x, bool)
        rows.append((k, x, y, (y - x) if num else None))
    kpis = pd.DataFrame(rows, columns=["kpi", "base", "other", "delta"])
    return {"orders": orders, "supplier_volume": by_supplier, "tiers": tiers, "kpis": kpis}


# ---------------------------------------------------------------------------------------
# Explanations
# ---------------------------------------------------------------------------------------

def shadow_prices(inst: Instance, tables: dict[str, pd.DataFrame], model_options: dict | None = None, models_dirs=None) -> pd.DataFrame:
    """What one more unit of each limit is worth, per period, with the plan's integer decisions fixed.

    The LP is built with order bounds that do not repeat the limits (``Instance.elastic``),
    so the supplier capacity, warehouse and budget rows themselves carry the duals.
    Returns rows (limit, supplier, period, value_per_unit, unit, used, available) for binding limits.
    """
    import pyomo.environ as pyo

    from models import build_model, select
    from planner.solver import solve_model

    lp_inst = dataclasses.replace(inst, elastic=True)
    m = build_model(lp_inst, select(model_options, models_dirs))
    m.dual = pyo.Suffix(direction=pyo.Suffix.IMPORT)
    fix_integers_from_plan(m, inst, tables)
    res = solve_model(m, SolveOptions())
    if not res.status.has_plan:
        return pd.DataFrame(columns=["limit", "supplier", "period", "value_per_unit", "unit"])
    rows = []
    for name, unit in (("supplier_capacity", "money per capacity unit"), ("warehouse_capacity", "money per volume unit"), ("budget", "money per unit of budget")):
        comp = getattr(m, name, None)
        if comp is None:
            continue
        for idx in comp:
            d = m.dual.get(comp[idx])
            if d is None or abs(d) < 1e-7:
                continue
            idx = idx if isinstance(idx, tuple) else (idx,)
            supplier = idx[0] if name == "supplier_capacity" else None
            period = inst.periods[idx[-1]]
            rows.append((name, supplier, period, abs(d), unit))
    return pd.DataFrame(rows, columns=["limit", "supplier", "period", "value_per_unit", "unit"])


def fix_integers_from_plan(m, inst: Instance, tables: dict[str, pd.DataFrame]) -> None:
    """Fix tier, order and supplier-use decisions of model ``m`` at the plan's values."""
    tiers = dict(zip(tables["segments"]["segment"], tables["segments"]["tier"]))
    for s, j in m.TIERS:
        m.tier_chosen[s, j].fix(1 if tiers.get(s) == j else 0)
    placed = {(k, p, inst.period_index[str(t)]) for k, p, t in tables["orders"][["supplier", "product", "period"]].itertuples(index=False)}
    for i in m.ORDER_SLOTS:
        m.order_placed[i].fix(1 if i in placed else 0)
    used = {k for k, u in zip(tables["suppliers"]["supplier"], tables["suppliers"]["used"]) if str(u).lower() in ("true", "1")}
    for k in m.K:
        m.supplier_used[k].fix(1 if k in used else 0)


def tier_reasons(inst: Instance, plan: Plan, options: SolveOptions | None = None, model_options: dict | None = None, models_dirs=None) -> pd.DataFrame:
    """For each segment and each allowed tier it did not get: the plan's profit with that tier
    imposed (all else free), and how the main terms move. Negative difference = why not."""
    chosen = dict(zip(plan.tables["segments"]["segment"], plan.tables["segments"]["tier"]))
    t = inst.tiers[inst.tiers["allowed"]]
    rows = []
    for s, j in zip(t["segment"], t["tier"]):
        if chosen.get(s) == j:
            rows.append((s, j, True, plan.kpis["profit"], 0.0, 0.0, 0.0, 0.0, "chosen"))
            continue
        alt = _solve(inst, options, _with(model_options, fixed_tiers={"tiers": {s: j}}), models_dirs)
        if alt.kpis.get("profit") is None:
            rows.append((s, j, False, None, None, None, None, None, f"not possible ({alt.status})"))
            continue
        d = {k: alt.kpis[k] - plan.kpis[k] for k in ["profit", *TERMS]}
        tier = d["tier_net_value"]
        sales = d["revenue"] - d["lost_sale_penalty"] - d["cost_to_serve"]
        supply = -(d["purchase_cost"] + d["order_cost"] + d["supplier_fixed_cost"] + d["holding_cost"])
        why = f"profit {d['profit']:+,.2f} = tier value {tier:+,.2f} + sales {sales:+,.2f} + stock and supply {supply:+,.2f}"
        rows.append((s, j, False, alt.kpis["profit"], d["profit"], tier, sales, supply, why))
    return pd.DataFrame(rows, columns=["segment", "tier", "chosen", "profit", "profit_difference", "tier_value_effect", "sales_effect", "stock_and_supply_effect", "reading"])


# ---------------------------------------------------------------------------------------
# Customer profitability
# ---------------------------------------------------------------------------------------

def profitability(inst: Instance, tables: dict[str, pd.DataFrame], kpis: dict, customers: pd.DataFrame | None = None) -> pd.DataFrame:
    """Profit per segment with every cost of the plan allocated; the rows add up to the plan's profit.

    - revenue, cost to serve, lost-sale penalty and tier net value are the segment's own;
    - purchase cost of each product is shared by units served of that product;
      order and supplier fixed costs follow the purchase cost;
    - holding cost is shared in proportion to each segment's share of the stock it
      makes the plan hold: its safety stock plus its share of served units (cycle stock).
    With a ``customers`` table (customer, segment, share), each segment row is split by share.
    """
    svc = tables["service"].copy()
    svc["period"] = svc["period"].astype(str)
    segs = tables["segments"].set_index("segment")
    total_purchase = float(kpis.get("purchase_cost", 0.0))
    fixed_like = float(kpis.get("order_cost", 0.0)) + float(kpis.get("supplier_fixed_cost", 0.0))
    o = tables["orders"].merge(inst.supplier_products[["supplier", "product", "unit_cost"]], on=["supplier", "product"])
    purchase_by_product = (o["quantity"] * o["unit_cost"]).groupby(o["product"]).sum()
    served_by_pp = svc.groupby(["product", "segment"])["served"].sum()
    served_by_p = svc.groupby("product")["served"].sum()
    alloc_purchase = {s: 0.0 for s in inst.segment_ids}
    for (p, s), q in served_by_pp.items():
        if served_by_p.get(p, 0) > 0:
            alloc_purchase[s] += float(purchase_by_product.get(p, 0.0)) * q / served_by_p[p]
    unalloc = total_purchase - sum(alloc_purchase.values())  # stock bought for products nobody was served (safety stock)
    k = inst.tiers.set_index(["segment", "tier"])["safety_factor"]
    d = inst.demand_indexed
    ss_share = (d["std"] * [k.get((s, segs.at[s, "tier"]), 0.0) if s in segs.index else 0.0 for s in d["segment"]]).groupby(d["segment"]).sum()
    served_share = svc.groupby("segment")["served"].sum()
    parts = [x.reindex(inst.segment_ids).fillna(0.0) / float(x.sum()) for x in (ss_share, served_share) if float(x.sum()) > 0]
    weight = sum(parts) / len(parts) if parts else pd.Series(1.0 / len(inst.segment_ids), index=inst.segment_ids)
    rows = []
    for s in inst.segment_ids:
        r = segs.loc[s]
        share_p = alloc_purchase[s] / total_purchase if total_purchase > 0 else 0.0
        purchase = alloc_purchase[s] + unalloc * float(weight.get(s, 0.0))
        supply_fixed = fixed_like * (purchase / total_purchase if total_purchase > 0 else float(weight.get(s, 0.0)))
        holding = float(kpis.get("holding_cost", 0.0)) * float(weight.get(s, 0.0))
        profit = float(r["revenue"]) - float(r["cost_to_serve"]) - float(r["lost_sale_penalty"]) + float(r["tier_net_value"]) - purchase - supply_fixed - holding
        rows.append((s, r["tier"], float(r["revenue"]), float(r["cost_to_serve"]), float(r["lost_sale_penalty"]), float(r["tier_net_value"]), purchase, supply_fixed, holding, profit, share_p))
    out = pd.DataFrame(rows, columns=["segment", "tier", "revenue", "cost_to_serve", "lost_sale_penalty", "tier_net_value", "purchase_cost", "order_and_fixed_cost", "holding_cost", "profit", "share_of_purchases"])
    out["margin"] = np.where(out["revenue"] > 0, out["profit"] / out["revenue"].where(out["revenue"] > 0, 1), 0.0)
    if customers is not None and len(customers):
        money = ["revenue", "cost_to_serve", "lost_sale_penalty", "tier_net_value", "purchase_cost", "order_and_fixed_cost", "holding_cost", "profit"]
        c = customers.merge(out, on="segment", how="left")
        for col in money:
            c[col] = c[col] * c["share"]
        return c[["customer", "segment", "tier", "share", *money, "margin"]]
    return out
