"""Independent verifier: recompute every constraint and the objective from the plan tables.

Uses pandas only — no Pyomo, no solver — so a mistake in a model family, in
the hand-off to HiGHS or in the extraction shows up as a violation here
rather than as a silently wrong plan. It reads the validated instance and the
plan tables exactly as they are written to disk (``orders``, ``inventory``,
``service``, ``segments``, ``suppliers``, ``kpis``).

The rules it checks are the same as the model's (see ``models/``), including
the frozen zone: fill-rate floors and safety stock bind only from the first
period an order placed now can reach (``Instance.is_frozen``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from planner.instance import Instance

#: Columns of the plan tables the verifier reads (a written plan, a stored one), and which
#: of them hold numbers.
PLAN_COLUMNS = {
    "orders": ["supplier", "product", "period", "quantity", "arrival_period"],
    "inventory": ["product", "period", "on_hand", "safety_stock", "frozen"],
    "service": ["segment", "product", "period", "demand", "served", "lost"],
    "segments": ["segment", "tier"],
    "suppliers": ["supplier", "used"],
}
NUMERIC_COLUMNS = {"orders": ["quantity"], "inventory": ["on_hand", "safety_stock"], "service": ["demand", "served", "lost"]}

ABS_TOL = 1e-4  # units: absolute slack allowed on top of the relative one
REL_TOL = 1e-6


def _tol(scale: float) -> float:
    return ABS_TOL + REL_TOL * abs(scale)


@dataclass
class Violation:
    check: str
    where: str
    amount: float
    message: str

    def __str__(self) -> str:
        return f"{self.check} [{self.where}]: {self.message} (by {self.amount:.6g})"

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Verification:
    """The verifier's answer: what is violated, and the profit it recomputed."""

    violations: list[Violation]
    profit_terms: dict[str, float]
    profit: float

    @property
    def ok(self) -> bool:
        return not self.violations


class _Collector(list):
    def add(self, check: str, where: str, amount: float, message: str) -> None:
        self.append(Violation(check, where, float(amount), message))


def _named(df: pd.DataFrame, mask: pd.Series, key: list[str]):
    """(name, row) for the rows of ``df`` where ``mask`` holds; the name joins the key
    columns with '/' (e.g. supplier/product/period). Checks run column-wise; only the
    rows that break a rule are visited, to name them."""
    part = df[mask]
    return zip(("/".join(map(str, k)) for k in zip(*(part[c] for c in key))), part.itertuples(index=False))


def _chosen_tiers(inst: Instance, segments: pd.DataFrame, out: _Collector) -> dict[str, pd.Series]:
    tiers = inst.tiers.set_index(["segment", "tier"])
    chosen: dict[str, pd.Series] = {}
    given = segments.groupby("segment")["tier"].apply(list).to_dict() if len(segments) else {}
    for s in inst.segment_ids:
        js = given.get(s, [])
        if len(js) != 1:
            out.add("one_tier", s, len(js), f"segment {s} has {len(js)} tiers in the plan; exactly one required")
            continue
        j = js[0]
        if (s, j) not in tiers.index:
            out.add("one_tier", s, 1, f"segment {s}: tier {j!r} is not one of its tiers")
            continue
        row = tiers.loc[(s, j)]
        if not bool(row["allowed"]):
            out.add("min_tier", s, 1, f"segment {s}: tier {j!r} is below its min_tier")
        chosen[s] = row
    return chosen


def verify_plan(inst: Instance, tables: dict[str, pd.DataFrame], kpis: dict[str, Any], families: list | None = None) -> Verification:
    """Every constraint of the model and the objective, recomputed and compared with the kpis.

    ``families`` are the (family, params) pairs the plan was built with (``models.select``);
    by default the core model. A core family switched off is not checked; an optional
    or user family is checked by its own ``verify`` and contributes its profit terms.
    """
    out = _Collector()
    built = None if families is None else {fam.name for fam, _ in families}

    def on(name: str) -> bool:
        return built is None or name in built

    periods = inst.periods
    pidx = inst.period_index
    T = len(periods)
    orders = tables["orders"].copy()
    inventory = tables["inventory"].copy()
    service = tables["service"].copy()
    segments = tables["segments"]
    suppliers = tables["suppliers"]
    for df, cols in ((orders, ["period", "arrival_period"]), (inventory, ["period"]), (service, ["period"])):
        for c in cols:
            df[c] = df[c].astype(str)

    # ---- orders: eligibility, lead time, horizon, moq -------------------------------
    terms = inst.supplier_products.set_index(["supplier", "product"])
    orders["t"] = orders["period"].map(pidx)
    pair = pd.MultiIndex.from_frame(orders[["supplier", "product"]])
    eligible = pair.isin(terms.index)
    key = ["supplier", "product", "period"]
    for w, r in _named(orders, ~eligible, key):
        out.add("order_eligible", w, r.quantity, f"{r.supplier} does not supply {r.product}")
    outside = eligible & orders["t"].isna()
    for w, r in _named(orders, outside, key):
        out.add("order_period", w, r.quantity, f"period {r.period} is not in the horizon")
    checked = eligible & ~outside
    orders["arrival"] = (orders["t"] + orders["supplier"].map(inst.lead_time)).where(checked)
    late = checked & (orders["arrival"] >= T)
    for w, r in _named(orders, late, key):
        out.add("order_arrival", w, r.quantity, "the order would arrive after the horizon")
    on_time = checked & ~late
    orders["due"] = orders["arrival"].where(on_time).map(dict(enumerate(periods)))  # the arrival period's label
    for w, r in _named(orders, on_time & (orders["due"] != orders["arrival_period"]), key):
        out.add("order_arrival", w, r.quantity, f"arrives in {r.due} (lead time), plan says {r.arrival_period}")
    negative = checked & (orders["quantity"] < -_tol(0))
    for w, r in _named(orders, negative, key):
        out.add("order_nonnegative", w, -r.quantity, "negative order quantity")
    orders["moq"] = terms["moq"].reindex(pair).to_numpy(dtype=float)
    below = checked & (orders["quantity"] < orders["moq"] - _tol(orders["moq"]))
    for w, r in _named(orders, below, key):
        out.add("order_min", w, r.moq - r.quantity, f"quantity {r.quantity:g} below moq {r.moq:g}")
    if orders.duplicated(subset=["supplier", "product", "period"]).any():
        out.add("order_unique", "orders", 1, "more than one order row for one supplier, product and period")
    orders = orders[checked].copy()
    orders["t"] = orders["t"].astype(int)

    # ---- sales ----------------------------------------------------------------------
    d = inst.demand_indexed[["segment", "product", "period", "t", "quantity", "std", "price"]]
    sv = d.merge(service, on=["segment", "product", "period"], how="left", validate="one_to_one")
    cell = ["segment", "product", "period"]
    missing = sv["served"].isna()
    for w, r in _named(sv, missing, cell):
        out.add("service_row", w, r.quantity, "demand row missing from service table")
    sv["served"] = sv["served"].fillna(0.0)
    bad = (sv["served"] < -_tol(0)) | (sv["served"] > sv["quantity"] + _tol(sv["quantity"]))
    for w, r in _named(sv, bad, cell):
        out.add("served_bounds", w, r.served, f"served {r.served:g} outside [0, demand {r.quantity:g}]")
    sv["off"] = (sv["quantity"] - sv["served"] - sv["lost"]).abs()
    bad = sv["lost"].notna() & (sv["off"] > _tol(sv["quantity"]))
    for w, r in _named(sv, bad, cell):
        out.add("lost_definition", w, r.off, "lost != demand - served")

    # ---- inventory balance ----------------------------------------------------------
    # One row per product and period: on_hand = previous on_hand + arrivals - sold.
    grid = pd.MultiIndex.from_product([inst.product_ids, range(T)], names=["product", "t"])
    inventory["t"] = inventory["period"].map(pidx)
    stock = inventory.dropna(subset=["t"]).astype({"t": int}).set_index(["product", "t"])
    stock = stock[~stock.index.duplicated()]
    on_hand = stock["on_hand"].reindex(grid)
    arrived = pd.concat([
        pd.DataFrame({"product": orders["product"], "t": orders["t"] + orders["supplier"].map(inst.lead_time), "quantity": orders["quantity"]}),
        pd.DataFrame([(p, t, q) for (p, t), q in inst.open_arrivals.items()], columns=["product", "t", "quantity"]),
    ])
    inflow = arrived.groupby(["product", "t"])["quantity"].sum().reindex(grid, fill_value=0.0)
    sold = sv.groupby(["product", "t"])["served"].sum().reindex(grid, fill_value=0.0)
    init = inst.products.set_index("product")["initial_inventory"].astype(float)
    before = on_hand.groupby(level="product").shift(1)
    first = grid.get_level_values("t") == 0
    before[first] = grid.get_level_values("product")[first].map(init)
    expected = before + inflow - sold
    for p, t in on_hand[on_hand.isna()].index:
        out.add("inventory_row", f"{p}/{periods[t]}", 0, "inventory row missing")
    wrong = (expected - on_hand).abs() > _tol(np.maximum(expected.abs().fillna(0.0), on_hand.abs().fillna(0.0))) * 10
    for (p, t), got, e in zip(on_hand[wrong].index, on_hand[wrong], expected[wrong]):
        out.add("inventory_balance", f"{p}/{periods[t]}", got - e, f"on_hand {got:g} but stock flow gives {e:g}")
    for (p, t), got in on_hand[on_hand < -_tol(0)].items():
        out.add("inventory_nonnegative", f"{p}/{periods[t]}", -got, "negative inventory")

    # ---- tiers, fill rate, safety stock ---------------------------------------------
    chosen = _chosen_tiers(inst, segments, out)
    fr = {s: float(r["fill_rate"]) for s, r in chosen.items()}
    kf = {s: float(r["safety_factor"]) for s, r in chosen.items()}
    sv["frozen"] = sv["t"] < sv["product"].map(inst.first_supply_period)  # Instance.is_frozen
    if on("fill_rate"):
        sv["need"] = sv["segment"].map(fr).fillna(0.0) * sv["quantity"]
        short = ~sv["frozen"] & (sv["served"] < sv["need"] - _tol(sv["need"]))
        for w, r in _named(sv, short, cell):
            out.add("fill_rate_floor", w, r.need - r.served, f"served {r.served:g} < {fr.get(r.segment, 0.0):g} x demand {r.quantity:g}")
    sv["ss"] = sv["std"] * sv["segment"].map(kf).fillna(0.0) * (1.0 if on("safety_stock") else 0.0)
    target = sv.groupby(["product", "t"])["ss"].sum()
    reported = stock["safety_stock"].reindex(target.index).fillna(0.0)
    held = on_hand.reindex(target.index).fillna(0.0)
    frozen = target.index.get_level_values("t") < target.index.get_level_values("product").map(inst.first_supply_period)
    wrong = (reported - target).abs() > _tol(target) * 10
    for (p, t), got, e in zip(target[wrong].index, reported[wrong], target[wrong]):
        out.add("safety_stock_value", f"{p}/{periods[t]}", got - e, f"reported safety stock {got:g}, recomputed {e:g}")
    short = ~frozen & (held < target - _tol(target))
    for (p, t), got, e in zip(target[short].index, held[short], target[short]):
        out.add("safety_stock", f"{p}/{periods[t]}", e - got, f"on_hand {got:g} below safety stock {e:g}")

    # ---- supplier capacity and use --------------------------------------------------
    o = orders.merge(inst.supplier_products, on=["supplier", "product"], how="left")
    o["cap_use"] = o["capacity_use"] * o["quantity"] + o["order_capacity_use"]
    o["spend"] = o["unit_cost"] * o["quantity"] + o["order_cost"]
    used_plan = dict(zip(suppliers["supplier"], suppliers["used"].astype(str).str.lower().isin(["true", "1"])))
    cap = inst.supplier_capacity_by_period
    for (k, t), use in o.groupby(["supplier", "t"])["cap_use"].sum().items() if on("supplier_capacity") else []:
        if use > cap[(k, t)] + _tol(cap[(k, t)]):
            out.add("supplier_capacity", f"{k}/{periods[t]}", use - cap[(k, t)], f"capacity use {use:g} > capacity {cap[(k, t)]:g}")
    for k in set(o["supplier"]):
        if not used_plan.get(k, False):
            out.add("order_needs_supplier", k, 1, f"orders placed with {k}, which the plan marks unused")

    # ---- warehouse and budget -------------------------------------------------------
    if inst.warehouse_capacity is not None and on("warehouse_capacity"):
        vol = dict(zip(inst.products["product"], inst.products["unit_volume"]))
        inv = inventory.assign(volume=inventory["on_hand"] * inventory["product"].map(vol))
        for per, v in inv.groupby("period")["volume"].sum().items():
            if v > inst.warehouse_capacity + _tol(inst.warehouse_capacity):
                out.add("warehouse_capacity", str(per), v - inst.warehouse_capacity, f"volume {v:g} > {inst.warehouse_capacity:g}")
    if inst.budget is not None and on("budget"):
        for t, v in o.groupby("t")["spend"].sum().items():
            if v > inst.budget + _tol(inst.budget):
                out.add("budget", periods[t], v - inst.budget, f"spend {v:g} > budget {inst.budget:g}")

    # ---- objective ------------------------------------------------------------------
    seg = inst.segments.set_index("segment")
    hold = dict(zip(inst.products["product"], inst.products["holding_cost"]))
    fixed = dict(zip(inst.suppliers["supplier"], inst.suppliers["fixed_cost"]))
    terms_re = {
        "revenue": float((sv["price"] * sv["served"]).sum()),
        "purchase_cost": float((o["unit_cost"] * o["quantity"]).sum()),
        "order_cost": float(o["order_cost"].sum()),
        "supplier_fixed_cost": float(sum(fixed[k] for k, used in used_plan.items() if used)),
        "holding_cost": float((inventory["on_hand"] * inventory["product"].map(hold)).sum()),
        "cost_to_serve": float((sv["served"] * sv["segment"].map(seg["cost_to_serve"])).sum()),
        "lost_sale_penalty": float(((sv["quantity"] - sv["served"]) * sv["segment"].map(seg["lost_sale_penalty"])).sum()),
        "tier_net_value": float(sum(r["tier_value"] - r["tier_cost"] for r in chosen.values())),
    }
    sign = {"revenue": 1, "tier_net_value": 1}
    for fam, params in families or []:
        if fam.verify is None:
            continue
        check = fam.verify(inst, tables, params)
        for where, amount, message in check.violations:
            out.add(fam.name, where, amount, message)
        for name, (sg, value) in check.profit_terms.items():
            terms_re[name] = float(value)
            sign[name] = sg
    profit = sum(sign.get(n, -1) * v for n, v in terms_re.items())
    scale = sum(abs(v) for v in terms_re.values())
    for name, v in terms_re.items():
        if name in kpis and abs(float(kpis[name]) - v) > _tol(scale) * 10:
            out.add("objective_term", name, float(kpis[name]) - v, f"kpis say {float(kpis[name]):.6f}, recomputed {v:.6f}")
    if kpis.get("profit") is None:
        out.add("objective", "profit", 0, "kpis carry no profit")
    elif abs(float(kpis["profit"]) - profit) > _tol(scale) * 10:
        out.add("objective", "profit", float(kpis["profit"]) - profit, f"kpis say {float(kpis['profit']):.6f}, recomputed {profit:.6f}")
    return Verification(list(out), terms_re, profit)



def read_plan_dir(plan_dir) -> tuple[dict[str, pd.DataFrame], dict[str, Any]]:
    """The plan tables and kpis as written by ``Plan.write`` (CSV files).

    A file without a column the verifier reads, or with a cell that is not a number where
    one is needed, is a ``ValueError`` naming the file, row and column (rows counted as
    in a spreadsheet: the header is row 1)."""
    from pathlib import Path

    plan_dir = Path(plan_dir)
    tables = {}
    for name, columns in PLAN_COLUMNS.items():
        df = pd.read_csv(plan_dir / f"{name}.csv", dtype={"period": str, "arrival_period": str, "segment": str, "product": str, "supplier": str, "tier": str})
        missing = [c for c in columns if c not in df.columns]
        if missing:
            raise ValueError(f"{name}.csv has no column {', '.join(missing)}")
        for c in NUMERIC_COLUMNS.get(name, []):
            number = pd.to_numeric(df[c], errors="coerce")
            bad = number.isna() & (df[c].notna() if c == "lost" else True)  # lost may be blank
            if bad.any():
                i = int(np.flatnonzero(bad.to_numpy())[0])
                cell = df[c].iloc[i]
                what = "is empty" if pd.isna(cell) else f"{cell!r} is not a number"
                raise ValueError(f"{name}.csv row {i + 2}, column {c}: {what} ({int(bad.sum())} such cell(s) in the column)")
            df[c] = number
        tables[name] = df
    k = pd.read_csv(plan_dir / "kpis.csv", dtype={"kpi": str, "value": str})
    kpis: dict[str, Any] = {}
    for name, value in zip(k["kpi"], k["value"]):
        try:
            kpis[name] = float(value)
        except (TypeError, ValueError):
            kpis[name] = value
    return tables, kpis
