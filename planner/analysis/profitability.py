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
    With a ``customers`` table, the segment rows are split among its customers
    (:func:`_per_customer`): by what each bought and paid and what serving it cost, when the
    instance has the customers' own history (``customer_products``, ``customers.cost_to_serve``),
    else by share.
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
        return _per_customer(inst, out, svc, customers)
    return out


MONEY = ["revenue", "cost_to_serve", "lost_sale_penalty", "tier_net_value", "purchase_cost", "order_and_fixed_cost", "holding_cost", "profit"]


def _per_customer(inst: Instance, segments: pd.DataFrame, svc: pd.DataFrame, customers: pd.DataFrame) -> pd.DataFrame:
    """Each segment's row split among its customers; the customers of a segment add up to it
    when their shares do.

    From the customers' own history (``customer_products``: customer c's share x of its
    segment's units of product p, and its price; ``customers.cost_to_serve``: its own cost per
    unit), with served and lost units of the segment's product p in the plan:

    - c is served x * served[p] and loses x * lost[p];
    - revenue: the segment's revenue of p split by x * served[p] * c's price of p;
    - cost to serve: the segment's split by c's served units * c's own cost per unit;
    - lost-sale penalty: by c's lost units; tier value: by c's served units;
    - purchase, order and fixed, holding cost: by c's served units at p's purchase cost per
      served unit (what the goods c takes cost).

    So a customer who is served at a discount, or costs much to serve, shows it, where a split by
    share gives every customer of a segment the same margin. Without the history: by share."""
    if not len(inst.customer_products):
        c = customers[["customer", "segment", "share"]].merge(segments, on="segment", how="left")
        for col in MONEY:
            c[col] = c[col] * c["share"]
        return c[["customer", "segment", "tier", "share", *MONEY, "margin"]]
    by_pair = svc.groupby(["segment", "product"])[["served", "lost"]].sum()
    priced = svc.merge(inst.demand[["segment", "product", "period", "price"]].astype({"period": str}), on=["segment", "product", "period"], how="left")
    revenue = (priced["served"] * priced["price"]).groupby([priced["segment"], priced["product"]]).sum()
    cp = inst.customer_products.merge(customers[["customer", "segment"]], on="customer", how="inner")
    pair = pd.MultiIndex.from_frame(cp[["segment", "product"]])
    served = by_pair["served"].reindex(pair, fill_value=0.0).to_numpy()
    cp["served"] = cp["share"] * served
    cp["lost"] = cp["share"] * by_pair["lost"].reindex(pair, fill_value=0.0).to_numpy()
    cp["goods"] = cp["served"] * cp["product"].map(inst.supplier_products.groupby("product")["unit_cost"].min().astype(float))
    pair_revenue = revenue.reindex(pair, fill_value=0.0).to_numpy()
    price = cp["price"].astype(float).fillna(pd.Series(pair_revenue / np.maximum(served, 1e-12), index=cp.index))  # blank: the segment's
    weight = cp["served"] * price
    total = weight.groupby([cp["segment"], cp["product"]]).transform("sum")
    cp["revenue"] = np.where(total > 0, pair_revenue * weight / total.where(total > 0, 1), 0.0)
    per = customers.set_index("customer")[["segment", "share", "cost_to_serve"]].join(
        cp.groupby("customer")[["revenue", "served", "lost", "goods"]].sum(), how="left").fillna({"revenue": 0.0, "served": 0.0, "lost": 0.0, "goods": 0.0})
    own = per["cost_to_serve"].astype(float)
    seg = segments.set_index("segment")
    weights = {
        "cost_to_serve": per["served"] * own.where(own.notna(), seg["cost_to_serve"].reindex(per["segment"]).to_numpy()),
        "lost_sale_penalty": per["lost"],
        "tier_net_value": per["served"],
        "purchase_cost": per["goods"],
        "order_and_fixed_cost": per["goods"],
        "holding_cost": per["goods"],
    }
    rows = pd.DataFrame({"customer": per.index, "segment": per["segment"].to_numpy(), "tier": seg["tier"].reindex(per["segment"]).to_numpy(),
                         "share": per["share"].to_numpy(), "revenue": per["revenue"].to_numpy()})
    for col, w in weights.items():
        w = w.fillna(0.0).to_numpy()
        total = pd.Series(w).groupby(rows["segment"]).transform("sum").to_numpy()
        amount = seg[col].reindex(rows["segment"]).to_numpy(dtype=float)
        rows[col] = np.where(total > 0, amount * w / np.where(total > 0, total, 1), amount * rows["share"].to_numpy())
    rows["profit"] = (rows["revenue"] - rows["cost_to_serve"] - rows["lost_sale_penalty"] + rows["tier_net_value"] - rows["purchase_cost"]
                      - rows["order_and_fixed_cost"] - rows["holding_cost"])
    rows["margin"] = np.where(rows["revenue"] > 0, rows["profit"] / rows["revenue"].where(rows["revenue"] > 0, 1), 0.0)
    return rows[["customer", "segment", "tier", "share", *MONEY, "margin"]]
