"""How a plan is checked: what a family's ``verify`` reads, and what it answers.

Every constraint family checks its own rule (``verify(inst, plan, params)`` in
its file under ``models/``); the verifier (``planner/verify``) runs them all.
A check reads the plan as a :class:`PlanView` — the plan tables exactly as
written to disk, plus the views several rules share (orders located in the
horizon, demand rows with what was served, stock by product and period) — and
answers a :class:`FamilyCheck`: the rules it found broken (:class:`Violation`)
and the profit terms it recomputed. pandas only: no Pyomo, no solver.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from planner.contract.instance import Instance
from planner.contract.outputs import PLAN_TABLES

ABS_TOL = 1e-4  # units: absolute slack allowed on top of the relative one
REL_TOL = 1e-6


def tol(scale: Any) -> Any:
    """The slack a rule allows around a value of size ``scale`` (a number or a Series)."""
    return ABS_TOL + REL_TOL * abs(scale)


@dataclass
class Violation:
    check: str  # the rule: order_min, inventory_balance, ... (a user family's name by default)
    where: str  # supplier/product/period, product/period, segment, ...
    amount: float  # by how much, in the rule's unit
    message: str

    def __str__(self) -> str:
        return f"{self.check} [{self.where}]: {self.message} (by {self.amount:.6g})"

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class FamilyCheck:
    """What a family's ``verify`` found: the rules broken, and the profit terms it recomputed
    (name -> (sign, value), the sign as the family registered the term)."""

    violations: list[Violation | tuple] = field(default_factory=list)
    profit_terms: dict[str, tuple[int, float]] = field(default_factory=dict)

    def violation(self, rule: str, where: str, amount: float, message: str) -> None:
        self.violations.append(Violation(rule, str(where), float(amount), message))

    def term(self, name: str, sign: int, value: float) -> None:
        self.profit_terms[name] = (sign, float(value))


def named(df: pd.DataFrame, mask: Any, key: list[str]) -> Iterator[tuple[str, Any]]:
    """(name, row) for the rows of ``df`` where ``mask`` holds; the name joins the key columns
    with '/' (e.g. supplier/product/period). Rules are checked column-wise; only the rows
    that break one are visited, to name them."""
    part = df[mask]
    return zip(("/".join(map(str, k)) for k in zip(*(part[c] for c in key))), part.itertuples(index=False))


class PlanView(Mapping):
    """A plan as the checks read it.

    ``plan["orders"]`` (and every other table of :data:`PLAN_TABLES`) is the table as
    written, labels as text. The cached views are shared by several rules; ``terms``
    collects the profit terms recomputed so far (the objective's check adds them up).
    """

    def __init__(self, inst: Instance, tables: Mapping[str, pd.DataFrame], kpis: Mapping[str, Any]):
        self.inst = inst
        self.kpis = dict(kpis)
        self.terms: dict[str, tuple[int, float]] = {}
        self._tables: dict[str, pd.DataFrame] = {}
        for name, df in tables.items():
            df = df.copy()
            spec = PLAN_TABLES.get(name)
            for c in spec.text if spec is not None else []:
                if c in df:
                    df[c] = df[c].map(lambda v: v if v is None or isinstance(v, str) else str(v))
            self._tables[name] = df

    def __getitem__(self, name: str) -> pd.DataFrame:
        return self._tables[name]

    def __iter__(self):
        return iter(self._tables)

    def __len__(self) -> int:
        return len(self._tables)

    @property
    def periods(self) -> list[str]:
        return self.inst.periods

    @cached_property
    def order_lines(self) -> pd.DataFrame:
        """Every row of orders with ``t`` (period index, NaN outside the horizon), ``eligible``
        (the supplier delivers the product), ``arrival`` (t + lead time) and ``located``
        (eligible, in the horizon and arriving inside it: the orders that move stock)."""
        inst = self.inst
        o = self["orders"].copy()
        o["t"] = o["period"].map(inst.period_index)
        pair = pd.MultiIndex.from_frame(o[["supplier", "product"]].astype(str))
        o["eligible"] = pair.isin(inst.terms.index)
        o["arrival"] = (o["t"] + o["supplier"].map(inst.lead_time)).where(o["eligible"])
        o["located"] = o["eligible"] & o["t"].notna() & (o["arrival"] < inst.horizon)
        return o

    @cached_property
    def orders(self) -> pd.DataFrame:
        """The located orders, with integer ``t`` and ``arrival`` and their supplier_products terms."""
        o = self.order_lines[self.order_lines["located"]].copy()
        o["t"] = o["t"].astype(int)
        o["arrival"] = o["arrival"].astype(int)
        return o.merge(self.inst.supplier_products, on=["supplier", "product"], how="left")

    @cached_property
    def service(self) -> pd.DataFrame:
        """One row per demand row of the instance with what the plan serves (``served`` 0 and
        ``missing`` True where the plan has no row for it) and whether it is ``frozen``."""
        d = self.inst.demand_indexed[["segment", "product", "period", "t", "quantity", "std", "price"]]
        sv = d.merge(self["service"], on=["segment", "product", "period"], how="left", validate="one_to_one")
        sv["missing"] = sv["served"].isna()
        sv["served"] = sv["served"].fillna(0.0)
        sv["frozen"] = sv["t"] < sv["product"].map(self.inst.first_supply_period)  # Instance.is_frozen
        return sv

    @cached_property
    def stock(self) -> pd.DataFrame:
        """The inventory table indexed by (product, t), one row per key."""
        inv = self["inventory"].copy()
        inv["t"] = inv["period"].map(self.inst.period_index)
        inv = inv.dropna(subset=["t"]).astype({"t": int}).set_index(["product", "t"])
        return inv[~inv.index.duplicated()]

    @cached_property
    def on_hand(self) -> pd.Series:
        """End-of-period stock over every product and period of the horizon (NaN where missing)."""
        grid = pd.MultiIndex.from_product([self.inst.product_ids, range(self.inst.horizon)], names=["product", "t"])
        return self.stock["on_hand"].reindex(grid)

    @cached_property
    def chosen_tiers(self) -> dict[str, pd.Series]:
        """segment -> the row of ``inst.tiers`` of the tier the plan gives it (segments whose
        tier is missing or unknown are left out: the service_tiers check names them)."""
        tiers = self.inst.tiers.set_index(["segment", "tier"])
        out = {}
        for s, j in zip(self["segments"]["segment"], self["segments"]["tier"]):
            if (s, j) in tiers.index:
                out[s] = tiers.loc[(s, j)]
        return out

    @cached_property
    def used(self) -> dict[str, bool]:
        """supplier -> marked used in the plan."""
        flags = self["suppliers"]["used"].map(lambda v: str(v).strip().lower() in ("true", "1", "1.0"))
        return dict(zip(self["suppliers"]["supplier"], flags))

    def frozen_cells(self, index: pd.MultiIndex) -> np.ndarray:
        """For a (product, t) index: which cells lie in their product's frozen zone."""
        return index.get_level_values("t") < index.get_level_values("product").map(self.inst.first_supply_period)
