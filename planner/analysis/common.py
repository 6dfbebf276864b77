"""What the analyses share: how they ask for a plan, and the KPIs they compare."""

from __future__ import annotations

import copy
from typing import Any, Callable

from planner.contract.instance import Instance
from planner.contract.results import Plan

#: Plans an instance under model options (``{"constraints": {...}}``, or None for the core
#: model) and returns a verified plan. The job layer passes its pipeline.
Planner = Callable[[Instance, dict | None], Plan]

TERMS = ["revenue", "purchase_cost", "order_cost", "supplier_fixed_cost", "holding_cost", "cost_to_serve", "lost_sale_penalty", "tier_net_value"]
KPIS = ["status", "profit", *TERMS, "fill_rate", "average_inventory", "orders_placed", "suppliers_used", "mip_gap"]


def with_families(model_options: dict | None, **families: Any) -> dict:
    """The run's model options with some families switched on (and their parameters set)."""
    opts = copy.deepcopy(model_options) if model_options else {}
    opts.setdefault("constraints", {}).update(families)
    return opts


def delta(a: Any, b: Any) -> float | None:
    """b - a where both are numbers (not flags), else None."""
    numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (a, b))
    return b - a if numbers else None
