"""Why each segment got its tier: the plan's profit with each other allowed tier imposed.

For each segment and each allowed tier it did not get, the instance is planned
with that tier fixed (``models/fixed_tiers.py``) and the difference in profit
is split into the tier's value, the sales it wins or loses, and the stock and
supply it costs.
"""

from __future__ import annotations

import pandas as pd

from planner.analysis.common import TERMS, Planner, with_families
from planner.contract.instance import Instance
from planner.contract.results import Plan


def tier_reasons(inst: Instance, plan: Plan, solve: Planner, model_options: dict | None = None) -> pd.DataFrame:
    """For each segment and each allowed tier it did not get: the plan's profit with that tier
    imposed (all else free), and how the main terms move. Negative difference = why not."""
    chosen = dict(zip(plan.tables["segments"]["segment"], plan.tables["segments"]["tier"]))
    t = inst.tiers[inst.tiers["allowed"]]
    rows = []
    for s, j in zip(t["segment"], t["tier"]):
        if chosen.get(s) == j:
            rows.append((s, j, True, plan.kpis["profit"], 0.0, 0.0, 0.0, 0.0, "chosen"))
            continue
        alt = solve(inst, with_families(model_options, fixed_tiers={"tiers": {s: j}}))
        if alt.kpis.get("profit") is None:
            rows.append((s, j, False, None, None, None, None, None, f"not possible ({alt.status})"))
            continue
        d = {k: alt.kpis[k] - plan.kpis[k] for k in ["profit", *TERMS]}
        tier = d["tier_net_value"]
        sales = d["revenue"] - d["lost_sale_penalty"] - d["cost_to_serve"]
        supply = -(d["purchase_cost"] + d["order_cost"] + d["supplier_fixed_cost"] + d["holding_cost"])
        why = f"profit {d['profit']:+,.2f} = tier value {tier:+,.2f} + sales {sales:+,.2f} + stock and supply {supply:+,.2f}"
        rows.append((s, j, False, alt.kpis["profit"], d["profit"], tier, sales, supply, why))
    return pd.DataFrame(rows, columns=["segment", "tier", "chosen", "profit", "profit_difference", "tier_value_effect", "sales_effect", "stock_and_supply_effect", "reading"])
