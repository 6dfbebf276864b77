"""Value of integration: the same instance planned in silos and jointly, side by side.

*CRM-led* fixes every segment at its highest tier (service promised by the
customer side alone), *SCM-led* at its lowest allowed tier (service chosen by
the supply side alone, to minimise cost); the integrated plan chooses tiers
jointly with inventory and orders (``models/fixed_tiers.py``).
"""

from __future__ import annotations

import dataclasses

import pandas as pd

from planner.analysis.common import KPIS, Planner, delta, with_families
from planner.contract.instance import Instance
from planner.contract.results import Plan

WAYS = {"crm_led": "highest", "scm_led": "lowest"}


@dataclasses.dataclass
class IntegrationValue:
    plans: dict[str, Plan]  # crm_led, scm_led, integrated
    kpis: pd.DataFrame  # kpi x (crm_led, scm_led, integrated, integrated_vs_crm_led, integrated_vs_scm_led)
    segments: pd.DataFrame  # segment x (tier, profit contribution and fill rate of each plan)

    def gain(self, versus: str) -> float | None:
        a, b = self.plans["integrated"].kpis.get("profit"), self.plans[versus].kpis.get("profit")
        return None if a is None or b is None else a - b


def value_of_integration(inst: Instance, plan: Planner, model_options: dict | None = None, integrated: Plan | None = None) -> IntegrationValue:
    """The three plans and their comparison (``integrated``: the joint plan when already made)."""
    plans = {way: plan(inst, with_families(model_options, fixed_tiers={"policy": policy})) for way, policy in WAYS.items()}
    plans["integrated"] = integrated if integrated is not None else plan(inst, model_options)
    kpis = pd.DataFrame.from_dict({kpi: {name: p.kpis.get(kpi) for name, p in plans.items()} for kpi in KPIS}, orient="index")
    for versus in WAYS:
        kpis[f"integrated_vs_{versus}"] = [delta(b, a) for a, b in zip(kpis["integrated"], kpis[versus])]
    kpis.index.name = "kpi"
    seg = pd.DataFrame({"segment": inst.segment_ids})
    for name, p in plans.items():
        if "segments" in p.tables:
            t = p.tables["segments"].set_index("segment")
            for col in ("tier", "profit_contribution", "fill_rate"):
                seg[f"{name}_{col}"] = seg["segment"].map(t[col])
    return IntegrationValue(plans, kpis.reset_index(), seg)
