"""Profit per customer from the customer's own order history, and the whale curve.

For each customer, over the order lines given::

    revenue        = sum over lines with quantity > 0 of quantity x net_unit_price
    returns        = sum over lines with quantity < 0 of |quantity| x net_unit_price
                     + sum over every line of returned_quantity x net_unit_price
    cost_of_goods  = unit_cost[p] x (units sold - units returned)       per product p
    cost_to_serve  = per_order x orders + per_line x lines + per_delivery x deliveries
                     + per_return x return lines
    profit         = revenue - returns - cost_of_goods - cost_to_serve

orders are the customer's distinct order ids with a line of positive quantity, lines those
lines, deliveries the distinct (order id, ship-to) among them, return lines the lines with a
negative quantity or a returned quantity. unit_cost[p] is the lowest unit cost among the
product's suppliers in the planning instance: goods are costed at the best price the supply
side can get, so a customer shown losing money loses it even then.

The whale curve ranks customers by profit, most profitable first, and accumulates: it rises
above the total profit (the customers who earn it) and falls back to it (those who lose it).
"""

from __future__ import annotations

import pandas as pd

from planner.contract.crm import CustomerProfit, CrmData, ServeRates, WhalePoint
from planner.contract.instance import Instance
from planner.contract.problems import LoadError, Problem

COLUMNS = list(CustomerProfit.model_fields)


def unit_costs(inst: Instance) -> dict[str, float]:
    """Each product's lowest unit cost among its suppliers."""
    return inst.supplier_products.groupby("product")["unit_cost"].min().astype(float).to_dict()


def unknown_products(crm: CrmData, costs: dict[str, float], source: str = "order_lines") -> list[Problem]:
    """Order lines whose product the supply side does not know (the first 50)."""
    lines = crm.order_lines
    return [Problem("error", source, int(i), "product", f"product {p!r} is not a product any supplier of the planning instance delivers")
            for i, p in zip(lines.index, lines["product"]) if p not in costs][:50]


def customer_profitability(crm: CrmData, costs: dict[str, float], rates: ServeRates, source: str = "order_lines") -> pd.DataFrame:
    """One row per customer of the master (customers with no line get zeros), most profitable
    first; see the module's formulas. A product without a cost is a located error."""
    problems = unknown_products(crm, costs, source)
    if problems:
        raise LoadError(problems)
    lines = crm.order_lines
    sold = lines["quantity"].clip(lower=0)
    cancelled = (-lines["quantity"]).clip(lower=0)
    back = cancelled + lines["returned_quantity"].fillna(0.0)
    df = pd.DataFrame({
        "customer": lines["customer"],
        "order_id": lines["order_id"],
        "ship_to": lines["ship_to"].fillna(""),
        "revenue": sold * lines["net_unit_price"],
        "returns": back * lines["net_unit_price"],
        "cost_of_goods": (sold - back) * lines["product"].map(costs),
        "units": sold - back,
        "line": (lines["quantity"] > 0).astype(int),
        "return_line": (back > 0).astype(int),
    })
    positive = df[df["line"] == 1]
    per = df.groupby("customer").agg(revenue=("revenue", "sum"), returns=("returns", "sum"), cost_of_goods=("cost_of_goods", "sum"),
                                     units=("units", "sum"), lines=("line", "sum"), return_lines=("return_line", "sum"))
    per["orders"] = positive.groupby("customer")["order_id"].nunique()
    per["deliveries"] = positive.drop_duplicates(["customer", "order_id", "ship_to"]).groupby("customer").size()
    per = per.reindex(crm.customers["customer"]).fillna(0.0)
    for c in ("orders", "deliveries", "lines", "return_lines"):
        per[c] = per[c].astype(int)
    per["cost_to_serve"] = (rates.per_order * per["orders"] + rates.per_line * per["lines"] + rates.per_delivery * per["deliveries"]
                            + rates.per_return * per["return_lines"])
    per["profit"] = per["revenue"] - per["returns"] - per["cost_of_goods"] - per["cost_to_serve"]
    net = per["revenue"] - per["returns"]
    per["margin"] = (per["profit"] / net.where(net != 0)).astype(float)
    out = per.reset_index().rename(columns={"index": "customer"})
    out = out.sort_values(["profit", "customer"], ascending=[False, True], kind="stable").reset_index(drop=True)
    out["rank"] = range(1, len(out) + 1)
    return out[COLUMNS]


def whale_curve(profits: pd.DataFrame) -> pd.DataFrame:
    """Cumulative profit against the share of customers, most profitable first."""
    ranked = profits.sort_values("rank")
    n = len(ranked)
    total = float(ranked["profit"].sum())
    cumulative = ranked["profit"].cumsum()
    return pd.DataFrame(columns=list(WhalePoint.model_fields), data={
        "rank": ranked["rank"].to_numpy(),
        "customer": ranked["customer"].to_numpy(),
        "customer_share": [(i + 1) / n for i in range(n)],
        "cumulative_profit": cumulative.to_numpy(),
        "cumulative_share_of_total": (cumulative / total).to_numpy() if total else [float("nan")] * n,
    })
