"""Seeded instance generator for tests and benchmarks (``planner generate``).

Every generated instance has a feasible plan, by construction: each product is
ordered lot-for-lot from its fastest supplier at the highest tiers of all
segments, and each supplier's capacity (also after the one reduced week), the
warehouse and the budget are sized to hold that plan with room to spare. The
optimiser is then free to find something cheaper — consolidating suppliers,
batching orders, lowering tiers where they do not pay.

Shape: weekly periods labelled ISO-style (``2026-W48``), 2–4 eligible
suppliers per product (sparse), lead times 0–2 weeks with faster suppliers
dearer, segments with distinct prices and penalties, three tiers each
(bronze, silver, gold), a contractual floor for the first segment, a few
open orders and one week of reduced capacity at one supplier.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

SEGMENT_NAMES = ["Key Accounts", "Retail", "Online", "Wholesale"]
# price multiplier on unit cost, lost-sale penalty (share of price), cost to serve (share of cost)
SEGMENT_PROFILE = [(1.7, 0.30, 0.06), (1.4, 0.10, 0.04), (1.3, 0.05, 0.08), (1.15, 0.0, 0.02)]
TIERS = [("bronze", 0.80, 0.80), ("silver", 0.90, 0.90), ("gold", 0.97, 0.97)]


def week_labels(n: int, start: dt.date = dt.date(2026, 11, 23)) -> list[str]:
    out = []
    for i in range(n):
        y, w, _ = (start + dt.timedelta(weeks=i)).isocalendar()
        out.append(f"{y}-W{w:02d}")
    return out


def generate(
    products: int = 40,
    segments: int = 4,
    suppliers: int = 6,
    periods: int = 13,
    seed: int = 0,
    lead_times: list[int] | None = None,
    cost_factors: list[float] | None = None,
) -> dict[str, pd.DataFrame]:
    """Tables of a feasible instance. ``lead_times`` and ``cost_factors`` (unit-cost multiplier per
    supplier) override the random supplier profiles; capacities are sized after them.

    The steps draw from one random stream in a fixed order: the same seed, the same instance."""
    rng = np.random.default_rng(seed)
    P = [f"P{i + 1:04d}" for i in range(products)]
    S = [SEGMENT_NAMES[i] if i < len(SEGMENT_NAMES) else f"Segment {i + 1}" for i in range(segments)]
    K = [f"S{i + 1:02d}" for i in range(suppliers)]
    T = week_labels(periods)
    base_cost = rng.uniform(5, 100, products)
    volume = rng.uniform(0.5, 3.0, products).round(2)
    holding = (base_cost * rng.uniform(0.003, 0.006, products)).round(3)
    sup = _suppliers(rng, suppliers, products, lead_times, cost_factors)
    dem = _demand(rng, P, S, T, base_cost)
    terms = _terms(rng, P, K, sup, dem, base_cost)
    capacity, spend = _capacities(P, K, sup, dem, terms)
    init = (dem.mean_week * rng.uniform(1.0, 2.0, products) + dem.ss_max * 0.5).round(0)
    tables = {
        "products": pd.DataFrame({"product": P, "unit_volume": volume, "holding_cost": holding, "initial_inventory": init}),
        "segments": pd.DataFrame({
            "segment": S,
            "lost_sale_penalty": [round(SEGMENT_PROFILE[s % 4][1] * 50, 2) for s in range(segments)],
            "cost_to_serve": [round(SEGMENT_PROFILE[s % 4][2] * 50, 2) for s in range(segments)],
            "min_tier": ["silver" if s == 0 else None for s in range(segments)],
        }),
        "service_tiers": _tiers(rng, S, dem.rows, periods),
        "demand": pd.DataFrame(dem.rows, columns=["segment", "product", "period", "quantity", "std", "price"]),
        "suppliers": pd.DataFrame({"supplier": K, "lead_time": sup.lead, "fixed_cost": sup.fixed, "capacity": capacity, "on_time_rate": sup.on_time}),
        "supplier_products": terms.table,
    }
    warehouse = float(np.ceil(1.5 * (volume * (init + dem.ss_max + terms.moq + dem.peak)).sum()))
    tables["settings"] = pd.DataFrame({"warehouse_capacity": [warehouse], "budget": [float(np.ceil(1.3 * spend))]})
    k_down = int(rng.integers(suppliers))
    tables["supplier_capacity"] = pd.DataFrame({"supplier": [K[k_down]], "period": [T[min(3, periods - 1)]], "capacity": [float(np.floor(capacity[k_down] * 0.8))]})
    tables["open_orders"] = _open_orders(rng, P, K, T, terms.fastest, dem.mean_week)
    return tables


@dataclass
class _Suppliers:
    lead: np.ndarray
    factor: list[float]  # unit-cost multiplier
    on_time: np.ndarray
    fixed: np.ndarray


def _suppliers(rng, suppliers: int, products: int, lead_times, cost_factors) -> _Suppliers:
    """Lead time 0..2 weeks, faster = dearer."""
    lead = np.array([i % 3 for i in range(suppliers)])
    rng.shuffle(lead)
    if lead_times is not None:
        lead = np.array(lead_times, dtype=int)
    speed_premium = {0: 1.12, 1: 1.0, 2: 0.9}
    factor = [speed_premium.get(int(L), 0.85) for L in lead] if cost_factors is None else list(cost_factors)
    on_time = rng.uniform(0.85, 0.99, suppliers).round(3)
    fixed = rng.uniform(200, 1500, suppliers).round(0) * max(1, products // 40)
    return _Suppliers(lead, factor, on_time, fixed)


@dataclass
class _Demand:
    rows: list[tuple]  # (segment, product, period, quantity, std, price)
    peak: np.ndarray  # per product: highest weekly demand plus highest top-tier safety stock
    ss_max: np.ndarray  # per product: highest top-tier safety stock
    mean_week: np.ndarray  # per product: mean weekly demand


def _demand(rng, P: list[str], S: list[str], T: list[str], base_cost: np.ndarray) -> _Demand:
    """Seasonal demand of 70 % of the segments per product, with a forecast error of 10-40 %."""
    periods = len(T)
    season = 1 + 0.2 * np.sin(np.linspace(0, 2 * np.pi, periods, endpoint=False) + rng.uniform(0, 2 * np.pi))
    out = _Demand([], np.zeros(len(P)), np.zeros(len(P)), np.zeros(len(P)))
    z_top = 1.8807936081512509  # Phi^-1(0.97)
    for i, p in enumerate(P):
        segs = [s for s in range(len(S)) if rng.random() < 0.7] or [int(rng.integers(len(S)))]
        per_t = np.zeros(periods)
        ss_t = np.zeros(periods)
        for s in segs:
            mu = rng.uniform(5, 60)
            cv = rng.uniform(0.1, 0.4)
            mult, _, _ = SEGMENT_PROFILE[s % 4]
            price = round(base_cost[i] * mult * rng.uniform(0.95, 1.1), 2)
            for t in range(periods):
                q = round(float(mu * season[t] * rng.uniform(0.8, 1.2)), 1)
                sd = round(cv * q, 2)
                out.rows.append((S[s], p, T[t], q, sd, price))
                per_t[t] += q
                ss_t[t] += z_top * sd
        out.peak[i] = per_t.max() + ss_t.max()
        out.ss_max[i] = ss_t.max()
        out.mean_week[i] = per_t.mean()
    return out


@dataclass
class _Terms:
    table: pd.DataFrame  # supplier_products
    fastest: dict[int, int]  # product index -> its fastest supplier's index
    moq: np.ndarray
    order_cost: np.ndarray


def _terms(rng, P: list[str], K: list[str], sup: _Suppliers, dem: _Demand, base_cost: np.ndarray) -> _Terms:
    """2-4 eligible suppliers per product, half the products with a MOQ."""
    rows = []
    fastest = {}
    moq = np.zeros(len(P))
    order_cost = np.zeros(len(P))
    for i, p in enumerate(P):
        n = int(rng.integers(2, min(4, len(K)) + 1))
        ks = sorted(rng.choice(len(K), size=n, replace=False).tolist())
        fastest[i] = min(ks, key=lambda k: (sup.lead[k], k))
        moq[i] = 0.0 if rng.random() < 0.5 else float(round(dem.mean_week[i] * rng.uniform(0.5, 1.5)))
        order_cost[i] = round(float(rng.uniform(20, 120)), 0)
        for k in ks:
            uc = round(float(base_cost[i] * sup.factor[k] * rng.uniform(0.95, 1.05)), 2)
            rows.append((K[k], p, uc, order_cost[i], moq[i], 1.0, 5.0))
    table = pd.DataFrame(rows, columns=["supplier", "product", "unit_cost", "order_cost", "moq", "capacity_use", "order_capacity_use"])
    return _Terms(table, fastest, moq, order_cost)


def _capacities(P: list[str], K: list[str], sup: _Suppliers, dem: _Demand, terms: _Terms) -> tuple[np.ndarray, float]:
    """Capacities sized for the lot-for-lot plan from each product's fastest supplier (with room
    to spare), and that plan's spend."""
    sp = terms.table
    need = np.zeros(len(K))
    spend = 0.0
    for i in range(len(P)):
        k = terms.fastest[i]
        need[k] += dem.peak[i] + terms.moq[i] + 5.0
        uc = sp.loc[(sp["supplier"] == K[k]) & (sp["product"] == P[i]), "unit_cost"].iloc[0]
        spend += uc * (dem.peak[i] + terms.moq[i]) + terms.order_cost[i]
    other = np.zeros(len(K))
    for r in sp.itertuples(index=False):
        other[K.index(r.supplier)] += 0.3 * dem.peak[P.index(r.product)]
    return np.ceil(1.3 * need + other + 10), spend


def _tiers(rng, S: list[str], demand_rows: list[tuple], periods: int) -> pd.DataFrame:
    """Bronze, silver and gold for every segment, valued in proportion to its sales."""
    seg_volume = {s: 0.0 for s in S}
    for s, _, _, q, _, price in demand_rows:
        seg_volume[s] += q * price
    rows = []
    for s in S:
        scale = seg_volume[s] / max(1, periods) * 0.02
        for rank, (name, fr, csl) in enumerate(TIERS):
            rows.append((s, name, fr, csl, round(scale * rank * rng.uniform(0.5, 1.5), 2), round(scale * rank * 0.3, 2)))
    return pd.DataFrame(rows, columns=["segment", "tier", "fill_rate", "cycle_service_level", "tier_value", "tier_cost"])


def _open_orders(rng, P: list[str], K: list[str], T: list[str], fastest: dict[int, int], mean_week: np.ndarray) -> pd.DataFrame:
    """A week of demand in transit for a tenth of the products, from their fastest supplier."""
    rows = []
    for i in rng.choice(len(P), size=max(1, len(P) // 10), replace=False):
        k = fastest[int(i)]
        rows.append((K[k], P[int(i)], T[int(rng.integers(0, min(2, len(T))))], round(float(mean_week[int(i)]), 0)))
    return pd.DataFrame(rows, columns=["supplier", "product", "arrival_period", "quantity"]).drop_duplicates(["supplier", "product", "arrival_period"])


def write_instance(tables: dict[str, pd.DataFrame], out: str | Path) -> Path:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for name, df in tables.items():
        df.to_csv(out / f"{name}.csv", index=False)
    return out
