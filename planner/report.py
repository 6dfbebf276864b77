"""Reports planners read: one self-contained HTML file per run, the same charts as PNG, all tables in XLSX.

Charts (matplotlib, labelled with units): inventory against safety stock over
time, orders per supplier over time, served against lost by segment, profit by
segment, and — when computed — the trade-off frontier.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from planner.instance import Instance  # noqa: E402

MONEY = "{:,.2f}".format


def _kpi(name: str, v: Any) -> str:
    if name == "mip_gap" and isinstance(v, (int, float)):
        return f"{v:.3%}"
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return MONEY(v)
    return html.escape(str(v))


def _figure_inventory(inst: Instance, tables) -> plt.Figure:
    inv = tables["inventory"].copy()
    inv["period"] = inv["period"].astype(str)
    per = inv.groupby("period", sort=False)[["on_hand", "safety_stock"]].sum().reindex(inst.periods)
    fig, ax = plt.subplots(figsize=(8, 3.6))
    ax.plot(per.index, per["on_hand"], marker="o", label="on hand (end of period)")
    ax.plot(per.index, per["safety_stock"], linestyle="--", label="safety stock required")
    frozen_until = max((inst.first_supply_period[p] for p in inst.product_ids), default=0)
    if 0 < frozen_until < len(inst.periods):
        ax.axvspan(-0.5, frozen_until - 0.5, color="grey", alpha=0.12, label="frozen zone (some products)")
    ax.set_title("Inventory against safety stock, all products")
    ax.set_ylabel("units")
    ax.set_xlabel("period")
    ax.tick_params(axis="x", rotation=45)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def _figure_orders(inst: Instance, tables) -> plt.Figure:
    o = tables["orders"].copy()
    o["period"] = o["period"].astype(str)
    pivot = o.pivot_table(index="period", columns="supplier", values="quantity", aggfunc="sum").reindex(inst.periods).fillna(0.0)
    fig, ax = plt.subplots(figsize=(8, 3.6))
    bottom = pd.Series(0.0, index=pivot.index)
    for k in pivot.columns:
        ax.bar(pivot.index, pivot[k], bottom=bottom, label=str(k))
        bottom += pivot[k]
    ax.set_title("Orders placed per supplier")
    ax.set_ylabel("units ordered")
    ax.set_xlabel("period placed")
    ax.tick_params(axis="x", rotation=45)
    if len(pivot.columns):
        ax.legend(fontsize=8, ncol=2)
    ax.grid(alpha=0.3, axis="y")
    fig.tight_layout()
    return fig


def _figure_service(tables) -> plt.Figure:
    s = tables["service"].groupby("segment", sort=False)[["served", "lost"]].sum()
    tiers = dict(zip(tables["segments"]["segment"], tables["segments"]["tier"]))
    labels = [f"{seg} ({tiers.get(seg)})" for seg in s.index]
    fig, ax = plt.subplots(figsize=(8, 0.6 + 0.5 * len(s)))
    ax.barh(labels, s["served"], label="served", color="tab:green")
    ax.barh(labels, s["lost"], left=s["served"], label="lost", color="tab:red")
    ax.set_title("Served and lost demand by segment (tier)")
    ax.set_xlabel("units over the horizon")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    ax.grid(alpha=0.3, axis="x")
    fig.tight_layout()
    return fig


def _figure_profit(profit: pd.DataFrame) -> plt.Figure:
    fig, ax = plt.subplots(figsize=(8, 0.6 + 0.5 * len(profit)))
    colors = ["tab:green" if v >= 0 else "tab:red" for v in profit["profit"]]
    ax.barh(profit["segment"], profit["profit"], color=colors)
    ax.set_title("Profit by segment, all costs allocated")
    ax.set_xlabel("money over the horizon")
    ax.grid(alpha=0.3, axis="x")
    fig.tight_layout()
    return fig


def figure_frontier(front: pd.DataFrame) -> plt.Figure:
    ok = front.dropna(subset=["profit"])
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(9, 3.6))
    for ax, x, label in ((a1, "fill_rate", "overall fill rate"), (a2, "inventory_investment", "inventory investment (money, average)")):
        ax.plot(ok[x], ok["profit"], marker="o")
        chosen = ok[ok["chosen"]]
        ax.scatter(chosen[x], chosen["profit"], s=120, facecolors="none", edgecolors="tab:red", label="plan chosen", zorder=3)
        ax.set_xlabel(label)
        ax.set_ylabel("profit (money)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    a1.set_title("Profit against service")
    a2.set_title("Profit against inventory")
    fig.tight_layout()
    return fig


def _png(fig: plt.Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    return buf.getvalue()


def _table(df: pd.DataFrame, max_rows: int = 60) -> str:
    more = f"<p class=note>{len(df) - max_rows} more rows in the workbook.</p>" if len(df) > max_rows else ""
    body = df.head(max_rows).to_html(index=False, float_format=lambda v: f"{v:,.4g}" if abs(v) < 1 else f"{v:,.2f}", border=0, classes="t", na_rep="–")
    return f'<div class=w>{body}</div>{more}'


def write_report(out: str | Path, inst: Instance, plan, extra: dict[str, pd.DataFrame] | None = None, frontier: pd.DataFrame | None = None) -> Path:
    """Write report.html, the PNG figures and report.xlsx (every table) into ``out``."""
    from planner.insight import profitability

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    extra = dict(extra or {})
    tables = plan.tables
    profit = profitability(inst, tables, plan.kpis)
    extra.setdefault("profitability", profit)
    if len(inst.customers):
        extra.setdefault("customer_profitability", profitability(inst, tables, plan.kpis, inst.customers))
    figures = {
        "inventory_vs_safety_stock": _figure_inventory(inst, tables),
        "orders_by_supplier": _figure_orders(inst, tables),
        "service_by_segment": _figure_service(tables),
        "profit_by_segment": _figure_profit(profit),
    }
    if frontier is not None:
        figures["frontier"] = figure_frontier(frontier)
        extra.setdefault("frontier", frontier)
    pngs = {name: _png(fig) for name, fig in figures.items()}
    for name, data in pngs.items():
        (out / f"{name}.png").write_bytes(data)

    with pd.ExcelWriter(out / "report.xlsx", engine="openpyxl") as xw:
        plan.kpi_table().to_excel(xw, sheet_name="kpis", index=False)
        for name, df in {**tables, **extra}.items():
            df.to_excel(xw, sheet_name=name[:31], index=False)

    k = plan.kpis
    kpi_rows = "".join(
        f"<tr><td>{html.escape(name.replace('_', ' '))}</td><td class=n>{_kpi(name, k.get(name))}</td></tr>"
        for name in ["status", "profit", "revenue", "purchase_cost", "order_cost", "supplier_fixed_cost", "holding_cost", "cost_to_serve", "lost_sale_penalty", "tier_net_value", "mip_gap", "solve_seconds"]
        if name in k
    )
    fr = k.get("fill_rate")
    img = lambda n: f'<img alt="{n}" src="data:image/png;base64,{base64.b64encode(pngs[n]).decode()}">'  # noqa: E731
    sections = [
        f"<h2>Service by segment</h2>{_table(tables['segments'])}{img('service_by_segment')}",
        f"<h2>Profit by segment</h2><p class=note>Supply and stock costs allocated: purchases by units served, order and supplier costs with purchases, holding by each segment's share of safety and cycle stock. Rows add up to the plan's profit.</p>{_table(profit)}{img('profit_by_segment')}",
        f"<h2>Inventory</h2>{img('inventory_vs_safety_stock')}",
        f"<h2>Suppliers</h2>{_table(tables['suppliers'])}{img('orders_by_supplier')}",
    ]
    titles = {"shadow_prices": "What one more unit is worth (shadow prices)", "tier_reasons": "Why each segment got its tier", "value_of_integration": "Value of integration", "customer_profitability": "Profit by customer"}
    for name, df in extra.items():
        if name in ("profitability", "frontier"):
            continue
        sections.append(f"<h2>{html.escape(titles.get(name, name.replace('_', ' ').capitalize()))}</h2>{_table(df)}")
    if frontier is not None:
        sections.append(f"<h2>Trade-off frontier</h2>{_table(frontier)}{img('frontier')}")
    sections.append(f"<h2>Orders</h2>{_table(tables['orders'])}")
    manifest = {key: k.get(key) for key in ("input_hash", "version_planner", "version_pyomo", "version_highspy")}
    doc = f"""<!doctype html><html><head><meta charset="utf-8"><title>Plan report</title>
<style>body{{font-family:system-ui,sans-serif;max-width:1000px;margin:2em auto;color:#222}}h1{{margin-bottom:0}}
table.t{{border-collapse:collapse;font-size:13px;margin:.5em 0}}table.t td,table.t th{{padding:3px 8px;border-bottom:1px solid #ddd;text-align:right}}
table.t th{{background:#f3f3f3}}td.n{{text-align:right}}.kpi td{{padding:2px 10px}}img{{max-width:100%}}.note{{color:#666;font-size:13px}}.w{{overflow-x:auto}}</style></head><body>
<h1>Plan report</h1><p class=note>{html.escape(inst.describe())} · status <b>{html.escape(plan.status)}</b> · fill rate {fr:.1%} · written {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC</p>
<h2>Key figures (money over the horizon)</h2><table class=kpi>{kpi_rows}</table>
{''.join(sections)}
<p class=note>Manifest: {html.escape(str(manifest))}; options {html.escape(str(plan.options))}</p></body></html>"""
    (out / "report.html").write_text(doc, encoding="utf-8")
    return out / "report.html"
