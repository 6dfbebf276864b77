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

import pandas as pd

from planner.instance import Instance

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
    for r in orders.itertuples(index=False):
        where = f"{r.supplier}/{r.product}/{r.period}"
        if (r.supplier, r.product) not in terms.index:
            out.add("order_eligible", where, r.quantity, f"{r.supplier} does not supply {r.product}")
            continue
        if pd.isna(r.t):
            out.add("order_period", where, r.quantity, f"period {r.period} is not in the horizon")
            continue
        a = int(r.t) + inst.lead_time[r.supplier]
        if a >= T:
            out.add("order_arrival", where, r.quantity, "the order would arrive after the horizon")
        elif periods[a] != r.arrival_period:
            out.add("order_arrival", where, r.quantity, f"arrives in {periods[a]} (lead time), plan says {r.arrival_period}")
        if r.quantity < -_tol(0):
            out.add("order_nonnegative", where, -r.quantity, "negative order quantity")
        moq = float(terms.at[(r.supplier, r.product), "moq"])
        if r.quantity < moq - _tol(moq):
            out.add("order_min", where, moq - r.quantity, f"quantity {r.quantity:g} below moq {moq:g}")
    if orders.duplicated(subset=["supplier", "product", "period"]).any():
        out.add("order_unique", "orders", 1, "more than one order row for one supplier, product and period")
    orders = orders.dropna(subset=["t"])
    orders = orders[orders.set_index(["supplier", "product"]).index.isin(terms.index)]
    orders["t"] = orders["t"].astype(int)

    # ---- sales ----------------------------------------------------------------------
    d = inst.demand_indexed[["segment", "product", "period", "t", "quantity", "std", "price"]]
    sv = d.merge(service, on=["segment", "product", "period"], how="left", validate="one_to_one")
    missing = sv["served"].isna()
    for r in sv[missing].itertuples(index=False):
        out.add("service_row", f"{r.segment}/{r.product}/{r.period}", r.quantity, "demand row missing from service table")
    sv["served"] = sv["served"].fillna(0.0)
    for r in sv.itertuples(index=False):
        where = f"{r.segment}/{r.product}/{r.period}"
        if r.served < -_tol(0) or r.served > r.quantity + _tol(r.quantity):
            out.add("served_bounds", where, r.served, f"served {r.served:g} outside [0, demand {r.quantity:g}]")
        if not pd.isna(r.lost) and abs((r.quantity - r.served) - r.lost) > _tol(r.quantity):
            out.add("lost_definition", where, abs(r.quantity - r.served - r.lost), "lost != demand - served")

    # ---- inventory balance ----------------------------------------------------------
    arrivals = {}
    for r in orders.itertuples(index=False):
        key = (r.product, r.t + inst.lead_time[r.supplier])
        arrivals[key] = arrivals.get(key, 0.0) + r.quantity
    for key, q in inst.open_arrivals.items():
        arrivals[key] = arrivals.get(key, 0.0) + q
    sold = sv.groupby(["product", "t"])["served"].sum().to_dict()
    on_hand = {(p, pidx.get(str(per), -1)): v for p, per, v in zip(inventory["product"], inventory["period"], inventory["on_hand"])}
    init = dict(zip(inst.products["product"], inst.products["initial_inventory"]))
    for p in inst.product_ids:
        prev = float(init[p])
        for t in range(T):
            if (p, t) not in on_hand:
                out.add("inventory_row", f"{p}/{periods[t]}", 0, "inventory row missing")
                continue
            expected = prev + arrivals.get((p, t), 0.0) - sold.get((p, t), 0.0)
            got = on_hand[(p, t)]
            if abs(expected - got) > _tol(max(abs(expected), abs(got))) * 10:
                out.add("inventory_balance", f"{p}/{periods[t]}", got - expected, f"on_hand {got:g} but stock flow gives {expected:g}")
            if got < -_tol(0):
                out.add("inventory_nonnegative", f"{p}/{periods[t]}", -got, "negative inventory")
            prev = got

    # ---- tiers, fill rate, safety stock ---------------------------------------------
    chosen = _chosen_tiers(inst, segments, out)
    fr = {s: float(r["fill_rate"]) for s, r in chosen.items()}
    kf = {s: float(r["safety_factor"]) for s, r in chosen.items()}
    sv["frozen"] = [inst.is_frozen(p, t) for p, t in zip(sv["product"], sv["t"])]
    for r in sv[~sv["frozen"]].itertuples(index=False) if on("fill_rate") else []:
        need = fr.get(r.segment, 0.0) * r.quantity
        if r.served < need - _tol(need):
            out.add("fill_rate_floor", f"{r.segment}/{r.product}/{r.period}", need - r.served, f"served {r.served:g} < {fr[r.segment]:g} x demand {r.quantity:g}")
    sv["ss"] = sv["std"] * sv["segment"].map(kf).fillna(0.0) * (1.0 if on("safety_stock") else 0.0)
    ss = sv.groupby(["product", "t"])["ss"].sum().to_dict()
    inv_ss = {(p, pidx.get(str(per), -1)): v for p, per, v in zip(inventory["product"], inventory["period"], inventory["safety_stock"])}
    for (p, t), target in ss.items():
        if abs(inv_ss.get((p, t), 0.0) - target) > _tol(target) * 10:
            out.add("safety_stock_value", f"{p}/{periods[t]}", inv_ss.get((p, t), 0.0) - target, f"reported safety stock {inv_ss.get((p, t), 0.0):g}, recomputed {target:g}")
        if not inst.is_frozen(p, t) and on_hand.get((p, t), 0.0) < target - _tol(target):
            out.add("safety_stock", f"{p}/{periods[t]}", target - on_hand.get((p, t), 0.0), f"on_hand {on_hand.get((p, t), 0.0):g} below safety stock {target:g}")

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
    """The plan tables and kpis as written by ``Plan.write`` (CSV files)."""
    from pathlib import Path

    plan_dir = Path(plan_dir)
    tables = {}
    for name in ("orders", "inventory", "service", "segments", "suppliers"):
        tables[name] = pd.read_csv(plan_dir / f"{name}.csv", dtype={"period": str, "arrival_period": str, "segment": str, "product": str, "supplier": str, "tier": str})
    k = pd.read_csv(plan_dir / "kpis.csv", dtype={"kpi": str, "value": str})
    kpis: dict[str, Any] = {}
    for name, value in zip(k["kpi"], k["value"]):
        try:
            kpis[name] = float(value)
        except (TypeError, ValueError):
            kpis[name] = value
    return tables, kpis
