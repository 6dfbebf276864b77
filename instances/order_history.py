"""Seeded CRM order history for a planning instance's products (``planner generate-orders``).

Shaped like a real B2B order book, so that the customer analyses have something to find:

* customer sizes are heavy-tailed (lognormal yearly volume): a few customers buy most, so the
  whale curve has its shape;
* order habits differ: most customers order every few weeks in full cases, but a quarter are
  small customers who order almost every week one or two units a line, and pay for it in cost
  to serve; and a few were won on price (25-40 % off list, near or below cost) and send more
  back: with the demo rates, many of both lose money;
* each customer buys from a handful of the products, with more popular products more often
  chosen; prices vary around the product's list price (the instance's median segment price)
  by customer discount and a little by line;
* some lines are cancelled or returned (a negative line on an order id starting ``C``, as the
  "Online Retail" layout books it), and some deliveries go to a second site.

The same seed gives the same history. Columns are the order_lines and customers tables of
:mod:`planner.contract.crm`, so no mapping is needed.

The process behind the history is known: with ``truth=True`` the generator also returns what
each customer is expected to buy, send back and cost to serve a year, given the habits it
drew for the customer (its order rate, basket, discount, return rate); :func:`true_profitability`
turns that into the customer's expected profit, against which the profit measured from one
realised year (and the segments cut from it) can be checked.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

#: Activity costs the demo's history is meant to be read with (money each).
DEMO_RATES = {"per_order": 40.0, "per_line": 6.0, "per_delivery": 60.0, "per_return": 30.0}
REGIONS = ["North", "South", "East", "West"]
CHANNELS = ["field sales", "inside sales", "web shop"]


def generate_orders(products: pd.DataFrame, prices: pd.Series, customers: int = 500, weeks: int = 52, seed: int = 0,
                    start: dt.date = dt.date(2025, 11, 24), truth: bool = False) -> dict[str, pd.DataFrame]:
    """Order lines and a customer master. ``products``: the instance's products table;
    ``prices``: list price per product (money / unit). With ``truth``, also ``true_customers``
    and ``true_products``: the expected activity of each customer (see :func:`_expected`)."""
    rng = np.random.default_rng(seed)
    last = start + dt.timedelta(days=weeks * 7 - 1)  # the history's last day: returns are booked within it
    ids = list(products["product"])
    popularity = rng.dirichlet(np.full(len(ids), 0.6))
    master, lines, true_customers, true_products = [], [], [], []
    for c in range(customers):
        customer = f"C{c + 1:04d}"
        small_and_often = rng.random() < 0.25
        bought_on_price = not small_and_often and rng.random() < 0.12  # won with a deep discount, at or below cost
        yearly_units = rng.lognormal(5.2, 1.4) * (0.15 if small_and_often else 1.0)
        orders_a_year = int(np.clip(rng.poisson(45 if small_and_often else 10) + 1, 1, weeks * 2))
        basket = rng.choice(len(ids), size=min(len(ids), 1 + rng.poisson(4)), replace=False, p=popularity)
        discount = rng.uniform(0.25, 0.4) if bought_on_price else rng.uniform(0.0, 0.15)
        returns = 0.12 if bought_on_price else 0.03
        sites = 2 if rng.random() < 0.15 else 1
        master.append({"customer": customer, "name": f"Customer {c + 1}", "customer_class": None,
                       "region": REGIONS[int(rng.integers(len(REGIONS)))], "channel": CHANNELS[int(rng.integers(len(CHANNELS)))]})
        per_order = max(1.0, yearly_units / orders_a_year)
        orders = max(1, round(orders_a_year * weeks / 52))  # the habit of a year, kept over the whole history
        if truth:
            expected = _expected(small_and_often, per_order, orders, len(basket), returns)
            true_customers.append({"customer": customer, "orders": float(orders), "deliveries": float(orders),
                                   "lines": expected["lines"], "return_lines": expected["return_lines"]})
            true_products += [{"customer": customer, "product": ids[i], "price": float(prices[ids[i]]) * (1 - discount),
                               "units_sold": expected["sold_per_product"], "units_returned": expected["back_per_product"]} for i in basket]
        for o in range(orders):
            day = start + dt.timedelta(days=int(rng.integers(0, weeks * 7)))
            order_id = f"{customer}-{o + 1:03d}"
            site = f"{customer}/site{int(rng.integers(sites)) + 1}"
            n_lines = 1 + int(rng.binomial(len(basket) - 1, 0.5)) if len(basket) > 1 else 1
            chosen = rng.choice(basket, size=n_lines, replace=False)
            for i in chosen:
                units = 1 + int(rng.integers(0, 2)) if small_and_often else max(1, int(round(rng.gamma(2.0, per_order / (2.0 * n_lines)))))
                price = round(float(prices[ids[i]]) * (1 - discount) * rng.uniform(0.97, 1.03), 2)
                lines.append({"order_id": order_id, "customer": customer, "product": ids[i], "order_date": day.isoformat(),
                              "quantity": units, "net_unit_price": price, "ship_to": site})
                if rng.random() < returns:  # a cancellation or a return of part of the line, booked as its own negative line
                    back = max(1, int(units * rng.uniform(0.2, 1.0)))
                    lines.append({"order_id": "C" + order_id, "customer": customer, "product": ids[i],
                                  "order_date": min(day + dt.timedelta(days=int(rng.integers(1, 20))), last).isoformat(),
                                  "quantity": -back, "net_unit_price": price, "ship_to": site})
    order_lines = pd.DataFrame(lines).sort_values(["order_date", "order_id"], kind="stable").reset_index(drop=True)
    out = {"order_lines": order_lines, "customers": pd.DataFrame(master)}
    if truth:
        out.update(true_customers=pd.DataFrame(true_customers), true_products=pd.DataFrame(true_products))
    return out


def _units_per_line(small_and_often: bool, mean: float) -> tuple[np.ndarray, np.ndarray]:
    """The distribution of a line's units: values and probabilities. Small customers order 1 or
    2; the others max(1, round(G)) with G ~ Gamma(shape 2, scale mean/2), whose distribution
    function is 1 - exp(-x/s)(1 + x/s)."""
    if small_and_often:
        return np.array([1.0, 2.0]), np.array([0.5, 0.5])
    scale = mean / 2.0
    k = np.arange(1, int(np.ceil(mean * 12)) + 30, dtype=float)
    cdf = lambda x: 1 - np.exp(-x / scale) * (1 + x / scale)  # noqa: E731
    upper = cdf(k + 0.5)
    pmf = upper - np.concatenate([[0.0], upper[:-1]])  # P(round(G) = k), and every G below 1.5 counted as 1
    return k, pmf / pmf.sum()


def _sent_back(units: np.ndarray) -> np.ndarray:
    """E[max(1, floor(u x U))] for U ~ Uniform(0.2, 1): what a returned line of u units sends
    back. Exact below 40 units; above, floor's mean loss of one half is exact to 1e-3 relative."""
    out = 0.6 * units - 0.5
    for j, u in enumerate(units):
        if u < 40:
            levels = np.arange(2, u + 1)
            out[j] = 1 + float(np.clip((1 - np.maximum(0.2, levels / u)) / 0.8, 0, 1).sum())
    return out


def _expected(small_and_often: bool, per_order: float, orders: int, basket: int, return_rate: float) -> dict[str, float]:
    """A customer's expected lines, return lines, and units sold and sent back per basket
    product over its ``orders``, under the draws of :func:`generate_orders`: an order has 1 + Binomial(b-1,
    1/2) lines on distinct basket products (each product equally likely), a non-small line
    holds about per_order / lines units, and a line is sent back in part with ``return_rate``."""
    n = np.arange(1, basket + 1)
    p_n = np.array([math.comb(basket - 1, int(k) - 1) for k in n], dtype=float) / 2 ** (basket - 1)
    sold = back = 0.0
    for lines_in_order, p in zip(n, p_n):
        units, pmf = _units_per_line(small_and_often, per_order / lines_in_order)
        sold += p * lines_in_order * float(units @ pmf)
        back += p * lines_in_order * return_rate * float(_sent_back(units) @ pmf)
    lines = orders * float(n @ p_n)
    return {"lines": lines, "return_lines": lines * return_rate,
            "sold_per_product": orders * sold / basket, "back_per_product": orders * back / basket}


def true_profitability(truth: dict[str, pd.DataFrame], costs: dict[str, float], rates: dict[str, float]) -> pd.DataFrame:
    """Each customer's expected profit over the history, by the formulas of
    :mod:`planner.analysis.customers` applied to the expected activity; ranked like
    ``customer_profitability`` (columns customer, profit, rank)."""
    lines = truth["true_products"]
    goods = (lines["units_sold"] - lines["units_returned"]) * (lines["price"] - lines["product"].map(costs))
    per = truth["true_customers"].set_index("customer")
    serve = (rates["per_order"] * per["orders"] + rates["per_line"] * per["lines"] + rates["per_delivery"] * per["deliveries"]
             + rates["per_return"] * per["return_lines"])
    profit = goods.groupby(lines["customer"]).sum().reindex(per.index).fillna(0.0) - serve
    out = pd.DataFrame({"customer": per.index, "profit": profit.to_numpy()})
    out = out.sort_values(["profit", "customer"], ascending=[False, True], kind="stable").reset_index(drop=True)
    out["rank"] = range(1, len(out) + 1)
    return out


def generate_for_instance(instance_dir: str | Path, customers: int = 500, weeks: int = 52, seed: int = 0,
                          truth: bool = False) -> dict[str, pd.DataFrame]:
    """History for an instance folder's products, listed at each product's median segment price."""
    instance_dir = Path(instance_dir)
    products = pd.read_csv(instance_dir / "products.csv", dtype={"product": str})
    demand = pd.read_csv(instance_dir / "demand.csv", dtype={"product": str})
    prices = demand.groupby("product")["price"].median()
    products = products[products["product"].isin(prices.index)]
    return generate_orders(products, prices, customers, weeks, seed, truth=truth)


def write_orders(tables: dict[str, pd.DataFrame], out: str | Path) -> Path:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for name, df in tables.items():
        df.to_csv(out / f"{name}.csv", index=False)
    (out / "rates.json").write_text(json.dumps(DEMO_RATES, indent=2) + "\n")
    return out
