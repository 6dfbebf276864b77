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
        columns = {
            "orders": ["supplier", "product", "period", "quantity", "arrival_period"],
            "inventory": ["product", "period", "on_hand", "safety_stock", "frozen"],
            "service": ["segment", "product", "period", "demand", "served", "lost"],
        }
        tables = {}
        for name in PLAN_TABLES:
            if name != "kpis" and name in doc:
                tables[name] = pd.DataFrame(doc[name], columns=columns.get(name)) if not doc[name] else pd.DataFrame(doc[name])
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


def extract(m: pyo.ConcreteModel, inst: Instance) -> dict[str, pd.DataFrame]:
    """Read the solved model into the plan tables (no KPIs of the solve itself)."""
    periods = inst.periods
    lead = inst.lead_time

    orders = [
        (k, p, periods[t], round(_val(m.order_qty[k, p, t]), 6), periods[t + lead[k]])
        for (k, p, t) in m.ORDER_SLOTS
        if _val(m.order_qty[k, p, t]) > ZERO
    ]
    orders_df = pd.DataFrame(orders, columns=["supplier", "product", "period", "quantity", "arrival_period"])

    ss_target = {key: pyo.value(m.safety_stock_target[key]) for key in m.safety_stock_target} if hasattr(m, "safety_stock_target") else {}
    inventory_df = pd.DataFrame(
        [
            (p, periods[t], max(0.0, round(_val(m.inventory[p, t]), 6)), round(ss_target.get((p, t), 0.0), 6), inst.is_frozen(p, t))
            for p in m.P
            for t in m.T
        ],
        columns=["product", "period", "on_hand", "safety_stock", "frozen"],
    )

    d = inst.demand_indexed
    served = [
        min(q, max(0.0, round(_val(m.served[s, p, t]), 6))) if (s, p, t) in m.served else 0.0
        for s, p, t, q in zip(d["segment"], d["product"], d["t"], d["quantity"])
    ]
    service_df = pd.DataFrame(
        {"segment": d["segment"], "product": d["product"], "period": d["period"], "demand": d["quantity"].astype(float), "served": served}
    )
    service_df["lost"] = (service_df["demand"] - service_df["served"]).clip(lower=0).round(6)

    tiers = inst.tiers
    chosen = {s: j for (s, j) in m.TIERS if _val(m.tier_chosen[s, j]) > 0.5}
    seg = inst.segments.set_index("segment")
    tv = tiers.set_index(["segment", "tier"])
    sv = service_df.merge(d[["segment", "product", "period", "price"]], on=["segment", "product", "period"])
    rows = []
    for s in inst.segment_ids:
        part = sv[sv["segment"] == s]
        dem, srv = float(part["demand"].sum()), float(part["served"].sum())
        revenue = float((part["price"] * part["served"]).sum())
        cts = float(seg.at[s, "cost_to_serve"]) * srv
        pen = float(seg.at[s, "lost_sale_penalty"]) * (dem - srv)
        j = chosen.get(s)
        net = float(tv.at[(s, j), "tier_value"] - tv.at[(s, j), "tier_cost"]) if j is not None else 0.0
        rows.append((s, j, dem, srv, srv / dem if dem > 0 else 1.0, revenue, cts, pen, net, revenue - cts - pen + net))
    segments_df = pd.DataFrame(
        rows,
        columns=["segment", "tier", "demand", "served", "fill_rate", "revenue", "cost_to_serve", "lost_sale_penalty", "tier_net_value", "profit_contribution"],
    )

    terms = inst.terms
    cap = inst.supplier_capacity_by_period
    rows = []
    for k in inst.supplier_ids:
        part = orders_df[orders_df["supplier"] == k]
        qty = float(part["quantity"].sum())
        spend = 0.0
        use = 0.0
        for p, q in zip(part["product"], part["quantity"]):
            tr = terms.loc[(k, p)]
            spend += tr["unit_cost"] * q + tr["order_cost"]
            use += tr["capacity_use"] * q + tr["order_capacity_use"]
        used = bool(_val(m.supplier_used[k]) > 0.5) if k in m.supplier_used else False
        fixed = float(inst.suppliers.set_index("supplier").at[k, "fixed_cost"]) if used else 0.0
        available = sum(cap[(k, t)] for t in range(inst.horizon))
        rows.append((k, used, qty, spend + fixed, use / available if available > 0 else 0.0))
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
    idx = service["period"].map(inst.period_index)
    is_frozen = [inst.is_frozen(p, t) for p, t in zip(service["product"], idx)]
    floor = [fr.get((s, chosen.get(s)), 0.0) for s in service["segment"]]
    short = (pd.Series(floor, index=service.index) * service["demand"] - service["served"]).clip(lower=0)
    kpis["frozen_service_shortfall"] = float(short[pd.Series(is_frozen, index=service.index)].sum())
    return kpis
