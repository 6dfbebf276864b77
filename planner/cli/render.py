"""How the command line shows things: problems, progress, plans and tables (rich)."""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd
from rich.console import Console
from rich.table import Table

from planner.contract.problems import Problem
from planner.contract.results import Plan
from planner.jobs import Progress

console = Console()
err = Console(stderr=True)


def problems(items: list[Problem]) -> None:
    for p in items:
        style = "red" if p.severity == "error" else "yellow"
        err.print(f"[{style}]{p}[/{style}]", highlight=False, markup=True, soft_wrap=True)


class ProgressPrinter:
    """Elapsed, incumbent, bound and gap while HiGHS searches: a live line on a terminal,
    a line every few seconds otherwise (logs)."""

    def __init__(self, every: float = 5.0):
        self.every = every
        self.last = 0.0
        self.status = None

    def __call__(self, p: Progress) -> None:
        inc = "-" if p.incumbent is None else f"{p.incumbent:,.2f}"
        bnd = "-" if p.bound is None else f"{p.bound:,.2f}"
        gap = "-" if p.gap is None else f"{p.gap:.2%}"
        text = f"solving: {p.elapsed:6.1f}s  best plan {inc}  bound {bnd}  gap {gap}"
        if self.status is not None:
            self.status.update(text)
        elif time.monotonic() - self.last >= self.every:
            self.last = time.monotonic()
            err.print(text, highlight=False)


def money(v) -> str:
    return "-" if v is None else f"{v:,.2f}"


def summary(plan: Plan, out: Path | None) -> None:
    """The plan's KPIs and its segments, then its messages."""
    k = plan.kpis
    t = Table(title=f"Plan: {plan.status}", show_header=True, header_style="bold")
    t.add_column("kpi")
    t.add_column("value", justify="right")
    rows = [("profit", money(k.get("profit")))]
    for name in ("revenue", "purchase_cost", "order_cost", "supplier_fixed_cost", "holding_cost", "cost_to_serve", "lost_sale_penalty", "tier_net_value"):
        if name in k:
            rows.append((f"  {name}", money(k[name])))
    if k.get("fill_rate") is not None:
        rows.append(("fill rate", f"{k['fill_rate']:.1%}"))
    for name, label, fmt in (("expected_fill_rate", "expected fill rate", "{:.1%}"), ("perfect_order_rate", "perfect-order rate", "{:.1%}"),
                             ("cost_of_goods_sold", "cost of goods sold", None), ("average_inventory_value", "average inventory value", None),
                             ("inventory_turns", "inventory turns (horizon)", "{:.1f}"), ("days_of_supply", "days of supply", "{:.1f}"),
                             ("gmroi", "GMROI", "{:.2f}"), ("safety_stock_value", "cash in safety stock", None),
                             ("order_cycle_time", "order cycle time (days)", "{:.1f}")):
        if k.get(name) is not None:
            rows.append((label, money(k[name]) if fmt is None else fmt.format(k[name])))
    if k.get("orders_placed") is not None:
        rows.append(("orders placed", str(k["orders_placed"])))
        rows.append(("suppliers used", str(k["suppliers_used"])))
    rows.append(("mip gap", "-" if k.get("mip_gap") is None else f"{k['mip_gap']:.4%}"))
    rows.append(("solve seconds", f"{k.get('solve_seconds', 0):.2f}"))
    for r in rows:
        t.add_row(*r)
    console.print(t)
    if "segments" in plan.tables:
        s = Table(title="Service by segment", header_style="bold")
        for c in ("segment", "tier", "fill rate", "profit contribution"):
            s.add_column(c, justify="right" if c != "segment" else "left")
        for r in plan.tables["segments"].itertuples(index=False):
            s.add_row(str(r.segment), str(r.tier), f"{r.fill_rate:.1%}", money(r.profit_contribution))
        console.print(s)
    for msg in plan.messages:
        err.print(msg, highlight=False)
    if out is not None and plan.tables:
        console.print(f"plan written to [bold]{out}[/bold] (orders.csv, inventory.csv, service.csv, segments.csv, suppliers.csv, kpis.csv, plan.xlsx, plan.json); report: {out / 'report.html'}")


def table(df: pd.DataFrame, title: str) -> None:
    t = Table(title=title, header_style="bold")
    for c in df.columns:
        t.add_column(str(c), overflow="fold")
    for row in df.itertuples(index=False):
        t.add_row(*["-" if v is None or (isinstance(v, float) and v != v) else f"{v:,.2f}" if isinstance(v, float) else str(v) for v in row])
    console.print(t)
