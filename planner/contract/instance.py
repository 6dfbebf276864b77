"""A validated instance and the quantities every layer derives from it the same way.

The model families (``models/``) and the independent verifier
(``planner/verify``) both read an :class:`Instance`; what they must agree on
— the order of periods, the safety factor of a tier, the frozen zone of a
product, the capacity of a supplier in a period, the big-M of an order — is
computed here once.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from statistics import NormalDist

import numpy as np
import pandas as pd

from planner.contract.inputs import TABLES


def safety_factor(cycle_service_level: float) -> float:
    """z = max(0, Phi^-1(csl)).

    A tier below 50 % cycle service level holds no safety stock: a negative
    factor would let one segment's low promise eat another segment's buffer.
    """
    if cycle_service_level <= 0.5:
        return 0.0
    return NormalDist().inv_cdf(cycle_service_level)


@dataclass(frozen=True)
class OrderBounds:
    """What the order big-Ms of a model may rely on (see :attr:`Instance.order_slots`).

    ``models.build_model`` sets it from the families it builds: which limit rows exist, the most
    stock any of them can require of each product (None when some family does not say, or says
    that cutting a useless order could break its rows), whether the safety stock row also covers
    late deliveries, and the quantities families fix orders at.
    """

    limits: frozenset[str] = frozenset()
    stock_ceiling: Mapping[str, float] | None = None
    late_deliveries: bool = False
    floors: Mapping[tuple[str, str, int], float] = field(default_factory=dict)
    naive: bool = False  # tests only: every slot kept, every big-M the naive bound


@dataclass
class Instance:
    """The validated tables of one planning instance (long-format DataFrames, defaults filled)."""

    products: pd.DataFrame
    segments: pd.DataFrame
    service_tiers: pd.DataFrame
    demand: pd.DataFrame
    suppliers: pd.DataFrame
    supplier_products: pd.DataFrame
    settings: pd.DataFrame
    supplier_capacity: pd.DataFrame
    open_orders: pd.DataFrame
    periods_table: pd.DataFrame
    periods: list[str] = field(default_factory=list)
    customers: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["customer", "segment", "share", "cost_to_serve"]))
    customer_products: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["customer", "product", "share", "price"]))
    #: For the infeasibility diagnosis: order bounds from capacity, budget and warehouse
    #: are left out of the big-M so that those rows alone limit orders and can be relaxed.
    elastic: bool = False
    #: What the order big-Ms may rely on; set by ``models.build_model`` for the families it builds.
    bounds: OrderBounds = field(default_factory=OrderBounds)

    # ---- tables -----------------------------------------------------------------
    def tables(self) -> dict[str, pd.DataFrame]:
        """The contract tables (name -> DataFrame), as they would be written back out."""
        out = {name: getattr(self, name) for name in TABLES if name != "periods"}
        out["periods"] = self.periods_table
        return out

    def to_json_dict(self) -> dict[str, list[dict]]:
        out = {}
        for name, df in self.tables().items():
            if len(df):
                out[name] = json.loads(df.to_json(orient="records"))
        return out

    @cached_property
    def input_hash(self) -> str:
        return hashlib.sha256(json.dumps(self.to_json_dict(), sort_keys=True).encode()).hexdigest()

    # ---- sets -------------------------------------------------------------------
    @property
    def horizon(self) -> int:
        return len(self.periods)

    @cached_property
    def period_index(self) -> dict[str, int]:
        return {p: i for i, p in enumerate(self.periods)}

    @cached_property
    def product_ids(self) -> list[str]:
        return list(self.products["product"])

    @cached_property
    def segment_ids(self) -> list[str]:
        return list(self.segments["segment"])

    @cached_property
    def supplier_ids(self) -> list[str]:
        return list(self.suppliers["supplier"])

    def describe(self) -> str:
        return (
            f"{len(self.product_ids)} products, {len(self.segment_ids)} segments, {len(self.supplier_ids)} suppliers, "
            f"{self.horizon} periods ({self.periods[0]}..{self.periods[-1]})"
        )

    # ---- settings ---------------------------------------------------------------
    def _setting(self, name: str) -> float | None:
        if self.settings.empty:
            return None
        v = self.settings.iloc[0][name]
        return None if pd.isna(v) else float(v)

    @property
    def period_days(self) -> float:
        """Days in one period (settings.period_days; 7 when not given)."""
        days = self._setting("period_days") if "period_days" in self.settings.columns else None
        return 7.0 if days is None else days

    @property
    def warehouse_capacity(self) -> float | None:
        return self._setting("warehouse_capacity")

    @property
    def budget(self) -> float | None:
        return self._setting("budget")

    # ---- suppliers --------------------------------------------------------------
    @cached_property
    def lead_time(self) -> dict[str, int]:
        return dict(zip(self.suppliers["supplier"], self.suppliers["lead_time"].astype(int)))

    @cached_property
    def supplier_capacity_by_period(self) -> dict[tuple[str, int], float]:
        """capacity[k, t]: the supplier default, replaced by supplier_capacity rows."""
        cap = {
            (k, t): float(c)
            for k, c in zip(self.suppliers["supplier"], self.suppliers["capacity"])
            for t in range(self.horizon)
        }
        for k, p, c in self.supplier_capacity[["supplier", "period", "capacity"]].itertuples(index=False):
            if p in self.period_index:
                cap[(k, self.period_index[p])] = float(c)
        return cap

    @cached_property
    def terms(self) -> pd.DataFrame:
        """supplier_products indexed by (supplier, product)."""
        return self.supplier_products.set_index(["supplier", "product"])

    @cached_property
    def first_supply_period(self) -> dict[str, int]:
        """e_p: index of the first period an order placed now can reach (min lead time of p's suppliers).

        Equal to the horizon length for a product nobody supplies.
        """
        e = {p: self.horizon for p in self.product_ids}
        for k, p in zip(self.supplier_products["supplier"], self.supplier_products["product"]):
            e[p] = min(e[p], self.lead_time[k])
        return e

    def is_frozen(self, product: str, t: int) -> bool:
        """Periods before the first possible delivery: inventory there is already decided
        by stock on hand and in transit, so service and safety-stock targets do not bind."""
        return t < self.first_supply_period[product]

    # ---- demand -----------------------------------------------------------------
    @cached_property
    def demand_indexed(self) -> pd.DataFrame:
        """demand with an integer period index column ``t``."""
        d = self.demand.copy()
        d["t"] = d["period"].map(self.period_index).astype(int)
        return d

    @cached_property
    def open_arrivals(self) -> dict[tuple[str, int], float]:
        """Quantity in transit arriving per (product, period index)."""
        out: dict[tuple[str, int], float] = {}
        for p, a, q in self.open_orders[["product", "arrival_period", "quantity"]].itertuples(index=False):
            key = (p, self.period_index[a])
            out[key] = out.get(key, 0.0) + float(q)
        return out

    # ---- service tiers ----------------------------------------------------------
    @cached_property
    def tiers(self) -> pd.DataFrame:
        """service_tiers with ``rank`` (0 = lowest fill rate), ``safety_factor`` and ``allowed``
        (at or above the segment's min_tier)."""
        t = self.service_tiers.copy()
        t = t.sort_values(["segment", "fill_rate", "cycle_service_level", "tier"], kind="stable")
        t["rank"] = t.groupby("segment").cumcount()
        t["safety_factor"] = t["cycle_service_level"].map(safety_factor)
        floor = {}
        for s, mt in zip(self.segments["segment"], self.segments["min_tier"]):
            if isinstance(mt, str) and mt:
                floor[s] = float(t.loc[(t["segment"] == s) & (t["tier"] == mt), "fill_rate"].iloc[0])
        t["allowed"] = [fr >= floor.get(s, -1.0) for s, fr in zip(t["segment"], t["fill_rate"])]
        return t.reset_index(drop=True)

    # ---- orders -----------------------------------------------------------------
    @cached_property
    def demand_by_period(self) -> np.ndarray:
        """d[p,t]: total demand of each product (rows in ``product_ids`` order) in each period."""
        d = self.demand_indexed
        per_pt = d.pivot_table(index="product", columns="t", values="quantity", aggfunc="sum", fill_value=0.0)
        return per_pt.reindex(index=self.product_ids, columns=range(self.horizon), fill_value=0.0).to_numpy(dtype=float)

    @cached_property
    def naive_order_bound(self) -> float:
        """A bound on any order no plan worth having exceeds, derived from nothing but totals: ten times
        (suppliers + 1) times everything there is to sell or hold. Used where no derived bound applies,
        and for every slot in the naive build the tests compare against."""
        everything = (
            float(self.demand["quantity"].sum()) + 3.0 * float(self.demand["std"].sum())
            + float(self.products["initial_inventory"].sum()) + float(self.open_orders["quantity"].astype(float).sum())
            + float(self.supplier_products["moq"].max() if len(self.supplier_products) else 0.0) + 1.0
        )
        return 10.0 * (len(self.supplier_ids) + 1) * everything

    @cached_property
    def order_slots(self) -> pd.DataFrame:
        """Every (supplier, product, period) where an order may be placed, with its big-M ``max_quantity``.

        An order x placed in t with lead time L arrives in a = t + L; none may arrive after the
        horizon (no slot). M[k,p,t] is the least of the bounds below that apply, each valid for the
        reason on its line (d[p,a]: demand of p in a; D[p,a..]: from a to the end; S[p]: the most
        end-of-period stock a built family may require of p; rho[k]: on-time rate):

        ==========  =========================================  ====================================================
        capacity    (cap[k,t] - ocu[k,p]) / cu[k,p]            row supplier_capacity: cu x + ocu y <= cap u, y = 1 if x > 0
        budget      (budget - order_cost[k,p]) / unit_cost     row budget: unit_cost x + order_cost y <= budget
        warehouse   warehouse / vol[p] + d[p,a]                x <= I[a] + sales[a] - I[a-1] - other arrivals <= warehouse/vol + d[p,a]
        usable      max(moq, D[p,a..] + S[p],                  an optimal plan never needs more: cutting x to it lowers stock by the
                    (d[p,a] + S[p]) / rho[k])                  cut from a on, where I >= x - D[p,a..u] keeps every stock row's slack,
                                                               and at a, where the late share falls too, slack >= rho x - d[p,a] - S;
                                                               no other row tightens and purchase and holding cost fall
        floor       max(M, q[k,p,t])                           a quantity some family fixes the order at (frozen_periods)
        ==========  =========================================  ====================================================

        The first three only where the built-in family of that row is built (``bounds.limits``); usable
        only where every built family keeps that argument valid (``bounds.stock_ceiling`` given; the
        (d + S) / rho term only with punctuality's late buffer, and rho > 0). Where no bound applies,
        ``naive_order_bound``. Slots with M < moq or M <= 0 cannot hold an order and are left out. The
        naive build (``bounds.naive``, tests only) keeps every slot at ``naive_order_bound``.
        """
        T, b = self.horizon, self.bounds
        naive = self.naive_order_bound
        d = self.demand_by_period
        tails = np.zeros((len(self.product_ids), T + 1))
        tails[:, :T] = np.cumsum(d[:, ::-1], axis=1)[:, ::-1]
        row = {p: i for i, p in enumerate(self.product_ids)}
        limits = set() if self.elastic else set(b.limits)
        cap = self.supplier_capacity_by_period
        budget = self.budget if "budget" in limits else None
        wh = self.warehouse_capacity if "warehouse_capacity" in limits else None
        vol = dict(zip(self.products["product"], self.products["unit_volume"]))
        rho = dict(zip(self.suppliers["supplier"], self.suppliers["on_time_rate"].astype(float)))
        rows = []
        for r in self.supplier_products.itertuples(index=False):
            L, i = self.lead_time[r.supplier], row[r.product]
            for t in range(0, T - L):
                a = t + L
                if b.naive:
                    rows.append((r.supplier, r.product, t, a, naive))
                    continue
                m = naive
                if b.stock_ceiling is not None:
                    s = float(b.stock_ceiling.get(r.product, 0.0))
                    usable = tails[i, a] + s
                    if b.late_deliveries and rho[r.supplier] > 0:
                        usable = max(usable, (d[i, a] + s) / rho[r.supplier])
                    m = max(r.moq, usable)
                m = max(m, float(b.floors.get((r.supplier, r.product, t), 0.0)))
                if "supplier_capacity" in limits:
                    c = cap[(r.supplier, t)] - r.order_capacity_use
                    if r.capacity_use > 0:
                        m = min(m, c / r.capacity_use)
                    elif c < 0:
                        m = -1.0
                if budget is not None and r.unit_cost > 0:
                    m = min(m, (budget - r.order_cost) / r.unit_cost)
                elif budget is not None and r.order_cost > budget:
                    m = -1.0
                if wh is not None and vol[r.product] > 0:
                    m = min(m, wh / vol[r.product] + d[i, a])
                if m <= 0 or m < r.moq - 1e-9:
                    continue
                rows.append((r.supplier, r.product, t, a, m))
        return pd.DataFrame(rows, columns=["supplier", "product", "t", "arrival_t", "max_quantity"])

    @cached_property
    def max_safety_stock(self) -> dict[str, float]:
        """SSmax[p]: max over periods of the safety stock p would need if every segment took its
        highest allowed tier."""
        top = self.tiers[self.tiers["allowed"]].groupby("segment")["safety_factor"].max()
        d = self.demand_indexed
        ss = d["std"] * d["segment"].map(top).fillna(0.0)
        per = ss.groupby([d["product"], d["t"]]).sum()
        return per.groupby(level=0).max().to_dict()
