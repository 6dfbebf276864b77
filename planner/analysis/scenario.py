"""What-if scenarios: named changes applied to an instance's tables.

A scenario is a list of changes (``SCENARIO_CHANGES``); the changed tables are
validated like any input, then planned and compared with the base
(``planner.analysis.compare``).
"""

from __future__ import annotations

import copy

from planner.contract.loading import RawTables

SCENARIO_CHANGES = {
    "demand_scale": "demand.quantity (and std) x factor, for a segment and/or product and/or periods",
    "price_scale": "demand.price x factor, for a segment and/or product",
    "supplier_down": "supplier capacity 0 in the given periods (a list, or from/to labels)",
    "capacity_scale": "supplier capacity x factor, for a supplier (or all) and optionally periods",
}


def _periods_of(change: dict, periods: list[str]) -> list[str]:
    if "periods" in change:
        return [str(p) for p in change["periods"]]
    for key in ("from", "to"):
        if key in change and str(change[key]) not in periods:
            raise ValueError(f"{key} period {change[key]!r} is not in the horizon ({periods[0]}..{periods[-1]})")
    lo = periods.index(str(change["from"])) if "from" in change else 0
    hi = periods.index(str(change["to"])) if "to" in change else len(periods) - 1
    return periods[lo : hi + 1]


def apply_scenario(raw: RawTables, periods: list[str], changes: list[dict]) -> RawTables:
    """The raw tables with named changes applied (see SCENARIO_CHANGES). Raises ValueError on a bad change."""
    out = copy.deepcopy(raw)
    for i, ch in enumerate(changes):
        if not isinstance(ch, dict):
            raise ValueError(f"change {i + 1}: must be an object with a type")
        try:
            _apply_change(out, periods, i, ch)
        except KeyError as exc:
            raise ValueError(f"change {i + 1} ({ch.get('type')}): missing {exc.args[0]!r}") from exc
        except (TypeError, ValueError) as exc:
            if str(exc).startswith("change "):
                raise
            raise ValueError(f"change {i + 1} ({ch.get('type')}): {exc}") from exc
    return out


def _apply_change(out: RawTables, periods: list[str], i: int, ch: dict) -> None:
    """Apply change number ``i`` (0-based) to ``out`` in place."""
    kind = ch.get("type")
    if kind not in SCENARIO_CHANGES:
        raise ValueError(f"change {i + 1}: unknown type {kind!r} (known: {', '.join(SCENARIO_CHANGES)})")
    if kind in ("demand_scale", "price_scale"):
        factor = float(ch["factor"])
        ps = set(_periods_of(ch, periods)) if ("periods" in ch or "from" in ch or "to" in ch) else None
        hit = 0
        for row in out["demand"]:
            if ch.get("segment") not in (None, row.get("segment")) or ch.get("product") not in (None, row.get("product")):
                continue
            if ps is not None and str(row.get("period")) not in ps:
                continue
            hit += 1
            if kind == "demand_scale":
                row["quantity"] = float(row["quantity"]) * factor
                if row.get("std") is not None:
                    row["std"] = float(row["std"]) * factor
            else:
                row["price"] = float(row["price"]) * factor
        if not hit:
            raise ValueError(f"change {i + 1} ({kind}): no demand row matches")
    else:
        suppliers = [str(ch["supplier"])] if ch.get("supplier") else [str(r["supplier"]) for r in out["suppliers"]]
        known = {str(r["supplier"]) for r in out["suppliers"]}
        if not set(suppliers) <= known:
            raise ValueError(f"change {i + 1} ({kind}): unknown supplier {ch.get('supplier')!r}")
        ps = _periods_of(ch, periods) if (kind == "supplier_down" or "periods" in ch or "from" in ch or "to" in ch) else periods
        default = {str(r["supplier"]): float(r["capacity"]) for r in out["suppliers"]}
        caps = {(str(r["supplier"]), str(r["period"])): float(r["capacity"]) for r in out.get("supplier_capacity", [])}
        for k in suppliers:
            for p in ps:
                cur = caps.get((k, p), default[k])
                caps[(k, p)] = 0.0 if kind == "supplier_down" else cur * float(ch["factor"])
        out["supplier_capacity"] = [{"supplier": k, "period": p, "capacity": c} for (k, p), c in caps.items()]
