"""The run page's charts as Plotly figure specifications (plain dicts, drawn by plotly.js in the
browser). Built from the plan's tables with pandas; no figure object is made on the server, so a
page with charts renders in milliseconds.

Large plans stay readable: inventory is drawn one product at a time (the page's picker chooses;
the products with the most safety stock first), orders and service are summed per supplier or
segment and period, so a chart never holds more than suppliers x periods points.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from planner.contract.results import Plan

PALETTE = ["#1f5fa8", "#d9822b", "#2e8b57", "#a23b72", "#6b6b6b", "#c0392b", "#17becf", "#8c564b"]
MAX_PICKER = 200  # products offered in the inventory picker (most safety stock first)


def _layout(title: str, y: str, **more: Any) -> dict[str, Any]:
    return {"title": {"text": title, "font": {"size": 15}}, "yaxis": {"title": {"text": y}, "separatethousands": True, "rangemode": "tozero"},
            "margin": {"l": 70, "r": 20, "t": 40, "b": 60}, "legend": {"orientation": "h", "y": -0.2}, "height": 340,
            "font": {"family": "system-ui, sans-serif", "size": 13}, **more}


def inventory(plan: Plan, periods: list[str]) -> dict[str, Any]:
    """Per product: stock on hand against safety stock; ``products`` lists what the picker offers."""
    inv = plan.tables["inventory"]
    ranked = inv.groupby("product")["safety_stock"].sum().sort_values(ascending=False, kind="stable")
    products = list(ranked.index[:MAX_PICKER])
    series = {}
    for product, rows in inv[inv["product"].isin(products)].groupby("product", sort=False):
        rows = rows.set_index("period").reindex(periods)
        series[product] = {"on_hand": rows["on_hand"].round(3).fillna(0).tolist(), "safety_stock": rows["safety_stock"].round(3).fillna(0).tolist()}
    return {"periods": periods, "products": products, "total_products": int(inv["product"].nunique()), "series": series,
            "layout": _layout("Inventory against safety stock", "units")}


def orders_by_supplier(plan: Plan, periods: list[str]) -> dict[str, Any]:
    orders = plan.tables["orders"]
    per = orders.groupby(["supplier", "period"])["quantity"].sum().unstack("period").reindex(columns=periods).fillna(0.0)
    data = [{"type": "bar", "name": str(k), "x": periods, "y": row.round(3).tolist(), "marker": {"color": PALETTE[i % len(PALETTE)]},
             "hovertemplate": "%{x}: %{y:,.0f} units<extra>" + str(k) + "</extra>"} for i, (k, row) in enumerate(per.iterrows())]
    return {"data": data, "layout": _layout("Orders per supplier (by the week they are placed)", "units", barmode="stack")}


def service_by_segment(plan: Plan) -> dict[str, Any]:
    svc = plan.tables["service"].groupby("segment")[["served", "lost"]].sum()
    x = [str(s) for s in svc.index]
    data = [{"type": "bar", "name": "served", "x": x, "y": svc["served"].round(3).tolist(), "marker": {"color": PALETTE[2]},
             "hovertemplate": "%{x}: %{y:,.0f} units served<extra></extra>"},
            {"type": "bar", "name": "lost", "x": x, "y": svc["lost"].round(3).tolist(), "marker": {"color": PALETTE[5]},
             "hovertemplate": "%{x}: %{y:,.0f} units lost<extra></extra>"}]
    return {"data": data, "layout": _layout("Demand served and lost, by segment", "units", barmode="stack")}


def profit_by_segment(profitability: pd.DataFrame) -> dict[str, Any]:
    x = [str(s) for s in profitability["segment"]]
    colors = [PALETTE[0] if v >= 0 else PALETTE[5] for v in profitability["profit"]]
    data = [{"type": "bar", "x": x, "y": profitability["profit"].round(2).tolist(), "marker": {"color": colors},
             "hovertemplate": "%{x}: %{y:,.2f} profit after every cost<extra></extra>"}]
    return {"data": data, "layout": _layout("Profit by segment, every cost allocated", "money", showlegend=False)}


def frontier(front: pd.DataFrame) -> dict[str, Any]:
    """Profit against the overall fill rate, the plan itself marked."""
    ok = front[front["profit"].notna()] if "profit" in front else front.iloc[0:0]
    chosen = ok[ok.get("chosen", pd.Series(False, index=ok.index)).astype(bool)] if "chosen" in ok else ok.iloc[0:0]
    data = [{"type": "scatter", "mode": "lines+markers", "name": "best plan at each floor", "x": ok["fill_rate"].round(4).tolist(),
             "y": ok["profit"].round(2).tolist(), "marker": {"color": PALETTE[0]},
             "hovertemplate": "fill rate %{x:.1%}: profit %{y:,.0f}<extra></extra>"},
            {"type": "scatter", "mode": "markers", "name": "this plan", "x": chosen["fill_rate"].round(4).tolist(), "y": chosen["profit"].round(2).tolist(),
             "marker": {"color": PALETTE[1], "size": 14, "symbol": "star"}, "hovertemplate": "this plan: %{x:.1%}, %{y:,.0f}<extra></extra>"}]
    return {"data": data, "layout": _layout("Profit against the overall fill rate", "money", xaxis={"title": {"text": "overall fill rate"}, "tickformat": ".0%"})}
