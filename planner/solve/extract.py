"""The plan tables out of a solved model: what each family contributes, on the declared tables.

Every family that adds variables says what they contribute (``extract(m, inst)``
in its file: ``orders.py`` the orders and supplier use, ``inventory_balance.py``
the stock, ``safety_stock.py`` the safety stock column...). Here the
contributions are merged on each table's key and given the declared columns
and types (:data:`planner.contract.outputs.PLAN_TABLES`); a column no built
family fills gets its neutral value (0, false or blank), so a plan always has
the same tables.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np
import pandas as pd
import pyomo.environ as pyo
from scipy.special import ndtr
from pyomo.common.gc_manager import PauseGC

from models import tidy_solution
from models.values import value
from planner.contract.instance import Instance
from planner.contract.outputs import PLAN_TABLES


def read_solution(m: pyo.ConcreteModel, inst: Instance, families: list[tuple[Any, Any]]) -> tuple[dict[str, pd.DataFrame], dict[str, float]]:
    """A solved model's plan: its tables and KPIs, after every family's ``tidy``."""
    with PauseGC():  # many small objects and no garbage: see models.build_model
        tidy_solution(m, families)
        tables = extract(m, inst, families)
        return tables, plan_kpis(m, inst, tables)


def extract(m: pyo.ConcreteModel, inst: Instance, families: list[tuple[Any, Any]]) -> dict[str, pd.DataFrame]:
    """Read the solved model into the plan tables (no KPIs of the solve itself)."""
    parts: dict[str, list[pd.DataFrame]] = defaultdict(list)
    for fam, _ in families:
        if fam.extract is not None:
            for table, df in fam.extract(m, inst).items():
                parts[table].append(df)
    tables = {}
    for name, spec in PLAN_TABLES.items():
        merged = None
        for df in parts.get(name, []):
            merged = df if merged is None else merged.merge(df, on=list(spec.key), how="outer", sort=False)
        tables[name] = spec.frame(_fill(spec, merged if merged is not None else pd.DataFrame(columns=list(spec.key))))
    segments = tables["segments"]
    segments["profit_contribution"] = segments["revenue"] - segments["cost_to_serve"] - segments["lost_sale_penalty"] + segments["tier_net_value"]
    lines, full = served_in_full(tables["service"])
    segments["perfect_order_rate"] = segments["segment"].map(full.groupby(lines["segment"]).mean()).fillna(1.0).astype(float)
    return tables


def served_in_full(service: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    """The service rows with demand (the order lines of the perfect-order rate) and whether
    each is served in full."""
    lines = service[service["demand"] > 1e-9]
    return lines, lines["served"] >= lines["demand"] - 1e-6


def _fill(spec, df: pd.DataFrame) -> pd.DataFrame:
    """The declared columns no family filled (or left blank in some rows): 0, false or blank."""
    df = df.copy()
    for c in spec.columns:
        if c not in df:
            df[c] = 0.0 if c in spec.numeric else False if c in spec.flags else None
        elif c in spec.numeric:
            df[c] = df[c].astype(float).fillna(0.0)
        elif c in spec.flags:
            df[c] = df[c].astype("boolean").fillna(False)
    return df


def plan_kpis(m: pyo.ConcreteModel, inst: Instance, tables: dict[str, pd.DataFrame]) -> dict[str, float]:
    """Profit and its terms (from the model's expressions) and the service figures of the plan."""
    kpis: dict[str, float] = {}
    # (a term with an unset variable goes to Pyomo's evaluator, which says which)
    terms = {name: float(x if (x := value(expr)) is not None else pyo.value(expr)) for name, (_, expr) in m.profit_terms.items()}
    kpis["profit"] = sum(m.profit_terms[n][0] * v for n, v in terms.items())
    kpis.update(terms)
    kpis.update(plan_figures(inst, tables, frozen_periods=int(getattr(m, "frozen_periods", 0))))
    return kpis


def plan_figures(inst: Instance, tables: dict[str, pd.DataFrame], frozen_periods: int = 0) -> dict[str, float]:
    """The KPIs read off the plan tables: service, stock, orders, and the frozen zone's shortfalls;
    ``frozen_periods``: leading periods whose orders the run could not change (a family sets
    ``m.frozen_periods``)."""
    service, inv = tables["service"], tables["inventory"]
    dem = float(service["demand"].sum())
    out: dict[str, Any] = {
        "fill_rate": float(service["served"].sum()) / dem if dem > 0 else 1.0,
        "average_inventory": float(inv.groupby("period")["on_hand"].sum().mean()) if len(inv) else 0.0,
        "orders_placed": int(len(tables["orders"])),
        "suppliers_used": int(tables["suppliers"]["used"].sum()),
    }
    # Shortfalls in the frozen zone (reported, not enforced; see models/fill_rate.py)
    frozen = inv[inv["frozen"]]
    out["frozen_safety_stock_shortfall"] = float((frozen["safety_stock"] - frozen["on_hand"]).clip(lower=0).sum())
    fr = inst.tiers.set_index(["segment", "tier"])["fill_rate"]
    chosen = dict(zip(tables["segments"]["segment"], tables["segments"]["tier"]))
    is_frozen = service["period"].map(inst.period_index) < service["product"].map(inst.first_supply_period)  # Instance.is_frozen
    floor = service["segment"].map({s: fr.get((s, chosen.get(s)), 0.0) for s in inst.segment_ids}).fillna(0.0)
    short = (floor * service["demand"] - service["served"]).clip(lower=0)
    out["frozen_service_shortfall"] = float(short[is_frozen].sum())
    out.update(business_figures(inst, tables, frozen_periods))
    return out


def unit_values(inst: Instance, orders: pd.DataFrame) -> pd.Series:
    """What a unit of each product costs in this plan: its orders' average unit cost, or, for a
    product the plan orders none of, its lowest supplier unit cost (stock at replacement cost)."""
    terms = inst.supplier_products.set_index(["supplier", "product"])["unit_cost"]
    value = inst.supplier_products.groupby("product")["unit_cost"].min().astype(float)
    if len(orders):
        cost = orders["quantity"] * [float(terms.get((k, p), 0.0)) for k, p in zip(orders["supplier"], orders["product"])]
        bought = orders.assign(cost=cost).groupby("product")[["cost", "quantity"]].sum()
        bought = bought[bought["quantity"] > 0]
        value.update(bought["cost"] / bought["quantity"])
    return value.reindex(inst.product_ids).fillna(0.0)


def ndtr_pdf(z: np.ndarray) -> np.ndarray:
    return np.exp(-0.5 * z * z) / np.sqrt(2.0 * np.pi)


def _normal_loss(z: np.ndarray) -> np.ndarray:
    """G(z) = E[(X - z)+] for a standard normal X: expected units short per unit of sigma."""
    return ndtr_pdf(z) - z * (1.0 - ndtr(z))


def business_figures(inst: Instance, tables: dict[str, pd.DataFrame], frozen_periods: int = 0) -> dict[str, float | None]:
    """The figures the business reads (declared in planner.contract.outputs, group "business")."""
    service, inv, orders = tables["service"], tables["inventory"], tables["orders"]
    T = max(inst.horizon, 1)
    value = unit_values(inst, orders)
    served = service.groupby("product")["served"].sum()
    cogs = float((served * value.reindex(served.index).fillna(0.0)).sum())
    inv_value = float((inv["on_hand"] * inv["product"].map(value).fillna(0.0)).sum()) / T
    ss_value = float((inv["safety_stock"] * inv["product"].map(value).fillna(0.0)).sum()) / T
    revenue = float(tables["segments"]["revenue"].sum())
    lines, full = served_in_full(service)
    lead = inst.lead_time
    # expected fill rate: demand uncertain around the forecast, segments' errors independent
    # (sigma = sqrt of the sum of squares), stock available in a period = what it serves + what is left
    d = inst.demand_indexed.reset_index()
    d["var"] = d["std"].astype(float) ** 2
    per = d.groupby(["product", "period"]).agg(mu=("quantity", "sum"), var=("var", "sum"))
    avail = service.groupby(["product", "period"])["served"].sum().add(inv.set_index(["product", "period"])["on_hand"], fill_value=0.0)
    per["available"] = avail.reindex(per.index).fillna(0.0)
    sigma = np.sqrt(per["var"].to_numpy())
    gap = per["available"].to_numpy() - per["mu"].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        short = np.where(sigma > 0, sigma * _normal_loss(gap / np.where(sigma > 0, sigma, 1.0)), np.maximum(-gap, 0.0))
    mu = float(per["mu"].sum())
    return {
        "cost_of_goods_sold": cogs,
        "average_inventory_value": inv_value,
        "inventory_turns": cogs / inv_value if inv_value > 0 else None,
        "periods_of_supply": inv_value / (cogs / T) if cogs > 0 else None,
        "days_of_supply": inv_value / (cogs / T) * inst.period_days if cogs > 0 else None,
        "gmroi": (revenue - cogs) / inv_value if inv_value > 0 else None,
        "safety_stock_value": ss_value,
        "expected_fill_rate": 1.0 - float(short.sum()) / mu if mu > 0 else 1.0,
        "perfect_order_rate": float(full.mean()) if len(lines) else 1.0,
        "order_cycle_time": (float((orders["quantity"] * orders["supplier"].map(lead)).sum() / orders["quantity"].sum()) + frozen_periods)
        * inst.period_days if len(orders) and float(orders["quantity"].sum()) > 0 else None,
    }
