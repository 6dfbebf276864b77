"""The plan: tidy output tables, extracted from a solved model, and how they are written.

Tables (long format, keyed by the input's own names):

- ``orders``: supplier, product, period, quantity, arrival_period
- ``inventory``: product, period, on_hand, safety_stock, frozen
- ``service``: segment, product, period, demand, served, lost
- ``segments``: segment, tier, demand, served, fill_rate, revenue, cost_to_serve,
  lost_sale_penalty, tier_net_value, profit_contribution
- ``suppliers``: supplier, used, quantity, spend, utilisation
- ``kpis``: kpi, value
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyomo.environ as pyo

from models import ZERO
from planner.instance import Instance
from planner.verify import PLAN_COLUMNS

PLAN_TABLES = ["orders", "inventory", "service", "segments", "suppliers", "kpis"]



@dataclass
class Plan:
    status: str
    kpis: dict[str, Any]
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    messages: list[str] = field(default_factory=list)
    options: dict[str, Any] = field(default_factory=dict)
    #: For an infeasible run: which requirements had to give (``planner.diagnose``).
    explanation: dict[str, Any] | None = None

    def kpi_table(self) -> pd.DataFrame:
        return pd.DataFrame({"kpi": list(self.kpis), "value": [_plain(v) for v in self.kpis.values()]})

    def all_tables(self) -> dict[str, pd.DataFrame]:
        return {**self.tables, "kpis": self.kpi_table()}

    def to_json_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "status": self.status,
            "kpis": {k: _plain(v) for k, v in self.kpis.items()},
            "messages": self.messages,
            "options": self.options,
            "manifest": self.manifest(),
        }
        if self.explanation is not None:
            out["explanation"] = self.explanation
        for name, df in self.tables.items():
            out[name] = json.loads(df.to_json(orient="records", double_precision=10))
        return out

    @classmethod
    def from_json_dict(cls, doc: dict[str, Any]) -> "Plan":
        """The inverse of :meth:`to_json_dict` (a stored plan, e.g. from the service's database)."""
        tables = {}
        for name in PLAN_TABLES:
            if name != "kpis" and name in doc:
                tables[name] = pd.DataFrame(doc[name], columns=PLAN_COLUMNS.get(name)) if not doc[name] else pd.DataFrame(doc[name])
                for c in ("period", "arrival_period"):
                    if c in tables[name]:
                        tables[name][c] = tables[name][c].astype(str)
        return cls(status=doc["status"], kpis=dict(doc.get("kpis", {})), tables=tables, messages=list(doc.get("messages", [])),
                   options=dict(doc.get("options", {})), explanation=doc.get("explanation"))

    def write(self, out_dir: str | Path) -> Path:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        tables = self.all_tables()
        for name, df in tables.items():
            df.to_csv(out / f"{name}.csv", index=False)
        with pd.ExcelWriter(out / "plan.xlsx", engine="openpyxl") as xw:
            for name, df in tables.items():
                df.to_excel(xw, sheet_name=name, index=False)
        (out / "plan.json").write_text(json.dumps(self.to_json_dict(), indent=1), encoding="utf-8")
        (out / "manifest.json").write_text(json.dumps(self.manifest(), indent=1), encoding="utf-8")
        return out

    def manifest(self) -> dict[str, Any]:
        """What it takes to re-run and compare this plan: input hash, versions, options, outcome, timings."""
        k = self.kpis
        return {
            "input_hash": k.get("input_hash"),
            "versions": {key[len("version_"):]: v for key, v in k.items() if key.startswith("version_")},
            "options": self.options,
            "status": self.status,
            "profit": _plain(k.get("profit")),
            "mip_gap": _plain(k.get("mip_gap")),
            "best_bound": _plain(k.get("best_bound")),
            "timings": {key: _plain(v) for key, v in k.items() if key.endswith("_seconds")},
            "model_size": {key[len("model_"):]: v for key, v in k.items() if key.startswith("model_")},
        }


def _plain(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if hasattr(v, "item"):
        return v.item()
    return v


def _val(var) -> float:
    v = var.value
    return 0.0 if v is None else float(v)


def _values(var) -> dict:
    """index -> value of an indexed variable, in one pass over its items (indexing a Pyomo
    component key by key hashes every key again: 0.4 s of 1.5 s at L, measured)."""
    return {i: _val(v) for i, v in var.items()}


def extract(m: pyo.ConcreteModel, inst: Instance) -> dict[str, pd.DataFrame]:
    """Read the solved model into the plan tables (no KPIs of the solve itself)."""
    periods = inst.periods
    lead = inst.lead_time

    orders = [
        (k, p, periods[t], round(q, 6), periods[t + lead[k]])
        for (k, p, t), q in _values(m.order_qty).items()
        if q > ZERO
    ]
    orders_df = pd.DataFrame(orders, columns=["supplier", "product", "period", "quantity", "arrival_period"])

    ss_target = {key: pyo.value(e) for key, e in m.safety_stock_target.items()} if hasattr(m, "safety_stock_target") else {}
    first = inst.first_supply_period
    inventory_df = pd.DataFrame(
        [
            (p, periods[t], max(0.0, round(v, 6)), round(ss_target.get((p, t), 0.0), 6), t < first[p])
            for (p, t), v in _values(m.inventory).items()
        ],
        columns=["product", "period", "on_hand", "safety_stock", "frozen"],
    )

    d = inst.demand_indexed
    served_by_cell = _values(m.served)
    served = [
        min(q, max(0.0, round(served_by_cell.get((s, p, t), 0.0), 6)))
        for s, p, t, q in zip(d["segment"], d["product"], d["t"], d["quantity"])
    ]
    service_df = pd.DataFrame(
        {"segment": d["segment"], "product": d["product"], "period": d["period"], "demand": d["quantity"].astype(float), "served": served}
    )
    service_df["lost"] = (service_df["demand"] - service_df["served"]).clip(lower=0).round(6)

    tiers = inst.tiers
    chosen = {s: j for (s, j), z in _values(m.tier_chosen).items() if z > 0.5}
    tv = tiers.set_index(["segment", "tier"])
    seg = inst.segments.set_index("segment")
    sv = service_df.assign(price=d["price"].to_numpy())
    sv["revenue"] = sv["price"] * sv["served"]
    by_seg = sv.groupby("segment", sort=False)[["demand", "served", "revenue"]].sum()
    rows = []
    for s in inst.segment_ids:
        dem, srv, revenue = (float(by_seg.at[s, c]) if s in by_seg.index else 0.0 for c in ("demand", "served", "revenue"))
        cts = float(seg.at[s, "cost_to_serve"]) * srv
        pen = float(seg.at[s, "lost_sale_penalty"]) * (dem - srv)
        j = chosen.get(s)
        net = float(tv.at[(s, j), "tier_value"] - tv.at[(s, j), "tier_cost"]) if j is not None else 0.0
        rows.append((s, j, dem, srv, srv / dem if dem > 0 else 1.0, revenue, cts, pen, net, revenue - cts - pen + net))
    segments_df = pd.DataFrame(
        rows,
        columns=["segment", "tier", "demand", "served", "fill_rate", "revenue", "cost_to_serve", "lost_sale_penalty", "tier_net_value", "profit_contribution"],
    )

    o = orders_df.merge(inst.supplier_products, on=["supplier", "product"], how="left", validate="many_to_one")
    o["spend"] = o["unit_cost"] * o["quantity"] + o["order_cost"]
    o["use"] = o["capacity_use"] * o["quantity"] + o["order_capacity_use"]
    per_supplier = o.groupby("supplier")[["quantity", "spend", "use"]].sum()
    cap = inst.supplier_capacity_by_period
    fixed_cost = dict(zip(inst.suppliers["supplier"], inst.suppliers["fixed_cost"]))
    used_by = _values(m.supplier_used)
    rows = []
    for k in inst.supplier_ids:
        qty, spend, use = (float(per_supplier.at[k, c]) if k in per_supplier.index else 0.0 for c in ("quantity", "spend", "use"))
        used = used_by.get(k, 0.0) > 0.5
        available = sum(cap[(k, t)] for t in range(inst.horizon))
        rows.append((k, used, qty, spend + (float(fixed_cost[k]) if used else 0.0), use / available if available > 0 else 0.0))
    suppliers_df = pd.DataFrame(rows, columns=["supplier", "used", "quantity", "spend", "utilisation"])
    return {"orders": orders_df, "inventory": inventory_df, "service": service_df, "segments": segments_df, "suppliers": suppliers_df}


def plan_kpis(m: pyo.ConcreteModel, inst: Instance, tables: dict[str, pd.DataFrame]) -> dict[str, float]:
    """Profit and its terms (from the model's expressions) and the service figures of the plan."""
    kpis: dict[str, float] = {}
    terms = {name: float(pyo.value(expr)) for name, (_, expr) in m.profit_terms.items()}
    kpis["profit"] = sum(m.profit_terms[n][0] * v for n, v in terms.items())
    kpis.update(terms)
    service = tables["service"]
    dem = float(service["demand"].sum())
    kpis["fill_rate"] = float(service["served"].sum()) / dem if dem > 0 else 1.0
    inv = tables["inventory"]
    kpis["average_inventory"] = float(inv.groupby("period")["on_hand"].sum().mean()) if len(inv) else 0.0
    kpis["orders_placed"] = int(len(tables["orders"]))
    kpis["suppliers_used"] = int(tables["suppliers"]["used"].sum())
    # Shortfalls in the frozen zone (reported, not enforced; see models/fill_rate.py)
    frozen = inv[inv["frozen"]]
    kpis["frozen_safety_stock_shortfall"] = float((frozen["safety_stock"] - frozen["on_hand"]).clip(lower=0).sum())
    fr = inst.tiers.set_index(["segment", "tier"])["fill_rate"]
    chosen = dict(zip(tables["segments"]["segment"], tables["segments"]["tier"]))
    is_frozen = service["period"].map(inst.period_index) < service["product"].map(inst.first_supply_period)  # Instance.is_frozen
    floor = service["segment"].map({s: fr.get((s, chosen.get(s)), 0.0) for s in inst.segment_ids}).fillna(0.0)
    short = (floor * service["demand"] - service["served"]).clip(lower=0)
    kpis["frozen_service_shortfall"] = float(short[is_frozen].sum())
    return kpis
