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
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd

#: Activity costs the demo's history is meant to be read with (money each).
DEMO_RATES = {"per_order": 40.0, "per_line": 6.0, "per_delivery": 60.0, "per_return": 30.0}
REGIONS = ["North", "South", "East", "West"]
CHANNELS = ["field sales", "inside sales", "web shop"]


def generate_orders(products: pd.DataFrame, prices: pd.Series, customers: int = 500, weeks: int = 52, seed: int = 0,
                    start: dt.date = dt.date(2025, 11, 24)) -> dict[str, pd.DataFrame]:
    """Order lines and a customer master. ``products``: the instance's products table;
    ``prices``: list price per product (money / unit)."""
    rng = np.random.default_rng(seed)
    last = start + dt.timedelta(days=weeks * 7 - 1)  # the history's last day: returns are booked within it
    ids = list(products["product"])
    popularity = rng.dirichlet(np.full(len(ids), 0.6))
    master, lines = [], []
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
        for o in range(orders_a_year):
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
    return {"order_lines": order_lines, "customers": pd.DataFrame(master)}


def generate_for_instance(instance_dir: str | Path, customers: int = 500, weeks: int = 52, seed: int = 0) -> dict[str, pd.DataFrame]:
    """History for an instance folder's products, listed at each product's median segment price."""
    instance_dir = Path(instance_dir)
    products = pd.read_csv(instance_dir / "products.csv", dtype={"product": str})
    demand = pd.read_csv(instance_dir / "demand.csv", dtype={"product": str})
    prices = demand.groupby("product")["price"].median()
    products = products[products["product"].isin(prices.index)]
    return generate_orders(products, prices, customers, weeks, seed)


def write_orders(tables: dict[str, pd.DataFrame], out: str | Path) -> Path:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for name, df in tables.items():
        df.to_csv(out / f"{name}.csv", index=False)
    (out / "rates.json").write_text(json.dumps(DEMO_RATES, indent=2) + "\n")
    return out
