"""Profit per segment (and per customer) with every cost of a plan allocated."""

from __future__ import annotations

import numpy as np
import pandas as pd

from planner.contract.instance import Instance


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
