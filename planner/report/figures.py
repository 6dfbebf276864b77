"""The charts of a plan (matplotlib, labelled with units): what planners would rather look at than read."""

from __future__ import annotations

import io

import matplotlib
import matplotlib.ticker

matplotlib.use("Agg")  # no screen: files only
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from planner.contract.instance import Instance  # noqa: E402


def inventory(inst: Instance, tables) -> plt.Figure:
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


def orders(inst: Instance, tables) -> plt.Figure:
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


def service(tables) -> plt.Figure:
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


def profit(by_segment: pd.DataFrame) -> plt.Figure:
    fig, ax = plt.subplots(figsize=(8, 0.6 + 0.5 * len(by_segment)))
    colors = ["tab:green" if v >= 0 else "tab:red" for v in by_segment["profit"]]
    ax.barh(by_segment["segment"], by_segment["profit"], color=colors)
    ax.set_title("Profit by segment, all costs allocated")
    ax.set_xlabel("money over the horizon")
    ax.grid(alpha=0.3, axis="x")
    fig.tight_layout()
    return fig


def frontier(front: pd.DataFrame) -> plt.Figure:
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


def whale(curve: pd.DataFrame) -> plt.Figure:
    """Cumulative profit against the share of customers, most profitable first."""
    fig, ax = plt.subplots(figsize=(8, 3.6))
    x = [0.0, *(100 * curve["customer_share"])]
    y = [0.0, *curve["cumulative_profit"]]
    ax.plot(x, y, color="tab:blue")
    total = y[-1]
    ax.axhline(total, color="grey", linestyle="--", linewidth=1, label=f"total profit {total:,.0f}")
    top = max(range(len(y)), key=y.__getitem__)
    if y[top] > total:
        ax.plot([x[top]], [y[top]], marker="o", color="tab:green")
        ax.annotate(f"{y[top]:,.0f} from the first {x[top]:.0f} % of customers", (x[top], y[top]), textcoords="offset points",
                    xytext=(8, -14), fontsize=8)
    ax.set_title("Whale curve: cumulative profit, customers ranked by profit")
    ax.set_xlabel("customers, most profitable first (%)")
    ax.set_ylabel("cumulative profit (money)")
    ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def png(fig: plt.Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    return buf.getvalue()
