"""What changed between two plans: orders added, dropped, resized or moved; tiers; KPI deltas."""

from __future__ import annotations

import pandas as pd

from planner.analysis.common import KPIS, delta

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
    kpis = pd.DataFrame([(k, base_kpis.get(k), other_kpis.get(k), delta(base_kpis.get(k), other_kpis.get(k))) for k in KPIS],
                        columns=["kpi", "base", "other", "delta"])
    return {"orders": orders, "supplier_volume": by_supplier, "tiers": tiers, "kpis": kpis}
