"""The plan's report: one self-contained HTML page (KPIs, tables, charts), its charts as PNG, every table in XLSX."""

from __future__ import annotations

import base64
import datetime as dt
import html
from pathlib import Path
from typing import Any

import pandas as pd

from planner.analysis.profitability import profitability
from planner.contract.instance import Instance
from planner.contract.outputs import kpi_unit
from planner.contract.results import Plan, write_workbook
from planner.report import figures

#: The KPIs the report's first table shows, in this order.
KEY_FIGURES = ["status", "profit", "revenue", "purchase_cost", "order_cost", "supplier_fixed_cost", "holding_cost",
               "cost_to_serve", "lost_sale_penalty", "tier_net_value", "fill_rate", "expected_fill_rate", "perfect_order_rate",
               "cost_of_goods_sold", "average_inventory_value", "inventory_turns", "days_of_supply", "gmroi", "safety_stock_value",
               "order_cycle_time", "mip_gap", "solve_seconds"]
TITLES = {"shadow_prices": "What one more unit is worth (shadow prices)", "tier_reasons": "Why each segment got its tier",
          "value_of_integration": "Value of integration", "customer_profitability": "Profit by customer"}
STYLE = """body{font-family:system-ui,sans-serif;max-width:1000px;margin:2em auto;color:#222}h1{margin-bottom:0}
table.t{border-collapse:collapse;font-size:13px;margin:.5em 0}table.t td,table.t th{padding:3px 8px;border-bottom:1px solid #ddd;text-align:right}
table.t th{background:#f3f3f3}td.n{text-align:right}.kpi td{padding:2px 10px}img{max-width:100%}.note{color:#666;font-size:13px}.w{overflow-x:auto}"""


def _kpi(name: str, v: Any) -> str:
    unit = kpi_unit(name)
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        if unit.startswith("fraction"):
            return f"{v:.3%}" if name == "mip_gap" else f"{v:.1%}"
        return f"{v:,.2f} {html.escape(unit)}".strip()
    return html.escape("–" if v is None else str(v))


def html_table(df: pd.DataFrame, max_rows: int = 60) -> str:
    more = f"<p class=note>{len(df) - max_rows} more rows in the workbook.</p>" if len(df) > max_rows else ""
    body = df.head(max_rows).to_html(index=False, float_format=lambda v: f"{v:,.4g}" if abs(v) < 1 else f"{v:,.2f}", border=0, classes="t", na_rep="–")
    return f"<div class=w>{body}</div>{more}"


def report_tables(inst: Instance, plan: Plan, extra: dict[str, pd.DataFrame] | None = None) -> dict[str, pd.DataFrame]:
    """The analysis tables a report shows besides the plan: profitability (per customer too,
    when the instance maps customers) and whatever the job added (``extra``)."""
    out = dict(extra or {})
    out.setdefault("profitability", profitability(inst, plan.tables, plan.kpis))
    if len(inst.customers):
        out.setdefault("customer_profitability", profitability(inst, plan.tables, plan.kpis, inst.customers))
    return out


def charts(inst: Instance, plan: Plan, tables: dict[str, pd.DataFrame]) -> dict[str, bytes]:
    """Every chart of the report as PNG bytes, by name."""
    made = {
        "inventory_vs_safety_stock": figures.inventory(inst, plan.tables),
        "orders_by_supplier": figures.orders(inst, plan.tables),
        "service_by_segment": figures.service(plan.tables),
        "profit_by_segment": figures.profit(tables["profitability"]),
    }
    if "frontier" in tables:
        made["frontier"] = figures.frontier(tables["frontier"])
    return {name: figures.png(fig) for name, fig in made.items()}


def report_html(inst: Instance, plan: Plan, extra: dict[str, pd.DataFrame] | None = None) -> str:
    """The report as one self-contained HTML page (charts inlined)."""
    tables = report_tables(inst, plan, extra)
    return _page(inst, plan, tables, charts(inst, plan, tables))


def _page(inst: Instance, plan: Plan, tables: dict[str, pd.DataFrame], pngs: dict[str, bytes]) -> str:
    k = plan.kpis
    kpi_rows = "".join(
        f"<tr><td>{html.escape(name.replace('_', ' '))}</td><td class=n>{_kpi(name, k.get(name))}</td></tr>" for name in KEY_FIGURES if name in k
    )
    fr = k.get("fill_rate")

    def img(name: str) -> str:
        return f'<img alt="{name.replace("_", " ")}" src="data:image/png;base64,{base64.b64encode(pngs[name]).decode()}">'

    sections = [
        f"<h2>Service by segment</h2>{html_table(plan.tables['segments'])}{img('service_by_segment')}",
        "<h2>Profit by segment</h2><p class=note>Supply and stock costs allocated: purchases by units served, order and supplier "
        "costs with purchases, holding by each segment's share of safety and cycle stock. Rows add up to the plan's profit.</p>"
        f"{html_table(tables['profitability'])}{img('profit_by_segment')}",
        f"<h2>Inventory</h2>{img('inventory_vs_safety_stock')}",
        f"<h2>Suppliers</h2>{html_table(plan.tables['suppliers'])}{img('orders_by_supplier')}",
    ]
    for name, df in tables.items():
        if name not in ("profitability", "frontier"):
            sections.append(f"<h2>{html.escape(TITLES.get(name, name.replace('_', ' ').capitalize()))}</h2>{html_table(df)}")
    if "frontier" in tables:
        sections.append(f"<h2>Trade-off frontier</h2>{html_table(tables['frontier'])}{img('frontier')}")
    sections.append(f"<h2>Orders</h2>{html_table(plan.tables['orders'])}")
    manifest = {key: k.get(key) for key in ("input_hash", "version_planner", "version_pyomo", "version_highspy")}
    fill = "" if fr is None else f" · fill rate {fr:.1%}"
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Plan report</title><style>{STYLE}</style></head><body>
<h1>Plan report</h1><p class=note>{html.escape(inst.describe())} · status <b>{html.escape(plan.status)}</b>{fill} · written {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC</p>
<h2>Key figures (over the horizon)</h2><table class=kpi>{kpi_rows}</table>
{''.join(sections)}
<p class=note>Manifest: {html.escape(str(manifest))}; options {html.escape(str(plan.options))}</p></body></html>"""


def write_report(out: str | Path, inst: Instance, plan: Plan, extra: dict[str, pd.DataFrame] | None = None) -> Path:
    """Write report.html, the PNG charts, report.xlsx (every table) and profitability.csv into ``out``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    tables = report_tables(inst, plan, extra)
    tables["profitability"].to_csv(out / "profitability.csv", index=False)
    pngs = charts(inst, plan, tables)
    for name, data in pngs.items():
        (out / f"{name}.png").write_bytes(data)
    write_workbook(out / "report.xlsx", {**plan.all_tables(), **tables})
    (out / "report.html").write_text(_page(inst, plan, tables, pngs), encoding="utf-8")
    return out / "report.html"
