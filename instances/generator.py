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
    supplier) override the random supplier profiles; capacities are sized after them."""
    rng = np.random.default_rng(seed)
    P = [f"P{i + 1:04d}" for i in range(products)]
    S = [SEGMENT_NAMES[i] if i < len(SEGMENT_NAMES) else f"Segment {i + 1}" for i in range(segments)]
    K = [f"S{i + 1:02d}" for i in range(suppliers)]
    T = week_labels(periods)

    base_cost = rng.uniform(5, 100, products)
    volume = rng.uniform(0.5, 3.0, products).round(2)
    holding = (base_cost * rng.uniform(0.003, 0.006, products)).round(3)

    # ---- suppliers: lead time 0..2, faster = dearer ------------------------------------
    lead = np.array([i % 3 for i in range(suppliers)])
    rng.shuffle(lead)
    if lead_times is not None:
        lead = np.array(lead_times, dtype=int)
    speed_premium = {0: 1.12, 1: 1.0, 2: 0.9}
    factor = [speed_premium.get(int(L), 0.85) for L in lead] if cost_factors is None else list(cost_factors)
    on_time = rng.uniform(0.85, 0.99, suppliers).round(3)
    fixed = rng.uniform(200, 1500, suppliers).round(0) * max(1, products // 40)

    # ---- demand ---------------------------------------------------------------------
    season = 1 + 0.2 * np.sin(np.linspace(0, 2 * np.pi, periods, endpoint=False) + rng.uniform(0, 2 * np.pi))
    demand_rows = []
    peak = np.zeros(products)
    ss_max = np.zeros(products)
    mean_week = np.zeros(products)
    z_top = 1.8807936081512509  # Phi^-1(0.97)
    for i, p in enumerate(P):
        segs = [s for s in range(segments) if rng.random() < 0.7] or [int(rng.integers(segments))]
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
                demand_rows.append((S[s], p, T[t], q, sd, price))
                per_t[t] += q
                ss_t[t] += z_top * sd
        peak[i] = per_t.max() + ss_t.max()
        ss_max[i] = ss_t.max()
        mean_week[i] = per_t.mean()

    # ---- supplier terms: 2-4 eligible suppliers per product ---------------------------
    sp_rows = []
    fastest = {}
    moq = np.zeros(products)
    order_cost = np.zeros(products)
    for i, p in enumerate(P):
        n = int(rng.integers(2, min(4, suppliers) + 1))
        ks = sorted(rng.choice(suppliers, size=n, replace=False).tolist())
        fastest[i] = min(ks, key=lambda k: (lead[k], k))
        moq[i] = 0.0 if rng.random() < 0.5 else float(round(mean_week[i] * rng.uniform(0.5, 1.5)))
        order_cost[i] = round(float(rng.uniform(20, 120)), 0)
        for k in ks:
            uc = round(float(base_cost[i] * factor[k] * rng.uniform(0.95, 1.05)), 2)
            sp_rows.append((K[k], p, uc, order_cost[i], moq[i], 1.0, 5.0))
    sp = pd.DataFrame(sp_rows, columns=["supplier", "product", "unit_cost", "order_cost", "moq", "capacity_use", "order_capacity_use"])

    # ---- capacities sized for the lot-for-lot plan from each product's fastest supplier ----
    need = np.zeros(suppliers)
    spend = 0.0
    for i in range(products):
        k = fastest[i]
        need[k] += peak[i] + moq[i] + 5.0
        uc = sp.loc[(sp["supplier"] == K[k]) & (sp["product"] == P[i]), "unit_cost"].iloc[0]
        spend += uc * (peak[i] + moq[i]) + order_cost[i]
    other = np.zeros(suppliers)
    for r in sp.itertuples(index=False):
        other[K.index(r.supplier)] += 0.3 * peak[P.index(r.product)]
    capacity = np.ceil(1.3 * need + other + 10)
    init = (mean_week * rng.uniform(1.0, 2.0, products) + ss_max * 0.5).round(0)

    products_df = pd.DataFrame({"product": P, "unit_volume": volume, "holding_cost": holding, "initial_inventory": init})
    segments_df = pd.DataFrame(
        {
            "segment": S,
            "lost_sale_penalty": [round(SEGMENT_PROFILE[s % 4][1] * 50, 2) for s in range(segments)],
            "cost_to_serve": [round(SEGMENT_PROFILE[s % 4][2] * 50, 2) for s in range(segments)],
            "min_tier": ["silver" if s == 0 else None for s in range(segments)],
        }
    )
    seg_volume = {s: 0.0 for s in S}
    for s, _, _, q, _, price in demand_rows:
        seg_volume[s] += q * price
    tier_rows = []
    for s in S:
        scale = seg_volume[s] / max(1, periods) * 0.02
        for rank, (name, fr, csl) in enumerate(TIERS):
            tier_rows.append((s, name, fr, csl, round(scale * rank * rng.uniform(0.5, 1.5), 2), round(scale * rank * 0.3, 2)))
    tiers_df = pd.DataFrame(tier_rows, columns=["segment", "tier", "fill_rate", "cycle_service_level", "tier_value", "tier_cost"])
    suppliers_df = pd.DataFrame({"supplier": K, "lead_time": lead, "fixed_cost": fixed, "capacity": capacity, "on_time_rate": on_time})
    demand_df = pd.DataFrame(demand_rows, columns=["segment", "product", "period", "quantity", "std", "price"])
    warehouse = float(np.ceil(1.5 * (volume * (init + ss_max + moq + peak)).sum()))
    settings_df = pd.DataFrame({"warehouse_capacity": [warehouse], "budget": [float(np.ceil(1.3 * spend))]})
    k_down = int(rng.integers(suppliers))
    cap_df = pd.DataFrame({"supplier": [K[k_down]], "period": [T[min(3, periods - 1)]], "capacity": [float(np.floor(capacity[k_down] * 0.8))]})
    oo = []
    for i in rng.choice(products, size=max(1, products // 10), replace=False):
        k = fastest[int(i)]
        oo.append((K[k], P[int(i)], T[int(rng.integers(0, min(2, periods)))], round(float(mean_week[int(i)]), 0)))
    open_df = pd.DataFrame(oo, columns=["supplier", "product", "arrival_period", "quantity"]).drop_duplicates(["supplier", "product", "arrival_period"])
    return {
        "products": products_df,
        "segments": segments_df,
        "service_tiers": tiers_df,
        "demand": demand_df,
        "suppliers": suppliers_df,
        "supplier_products": sp,
        "settings": settings_df,
        "supplier_capacity": cap_df,
        "open_orders": open_df,
    }


def write_instance(tables: dict[str, pd.DataFrame], out: str | Path) -> Path:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for name, df in tables.items():
        df.to_csv(out / f"{name}.csv", index=False)
    return out
