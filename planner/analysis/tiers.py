"""Tier menus with economics the user can see: default tiers per segment class, and what each
tier is worth from figures the business knows.

Each segment gets three tiers: standard, which promises nothing (the plan serves what pays,
with no safety stock), so that a prepared instance always has a plan whatever the supply side
can deliver; and silver and gold, promises with fill rates and cycle service levels by the
segment's class (A gets the most demanding gold). A tier's value over the planning horizon is

    tier_value = customers in the segment x gross margin per customer per year
                 x retention gained by the tier x horizon weeks / 52

where the gross margin per customer is the segment's (revenue - returns - cost of goods) over
its customers and the weeks of history, annualised, and the retention gained is the share of
the segment's customers a better service keeps each year, against standard (inputs, defaults
below). The derivation table writes the formula with its numbers, row by row.
"""

from __future__ import annotations

import pandas as pd

#: (tier, fill rate, cycle service level) per segment class; a class not listed takes "B"'s.
MENUS: dict[str, list[tuple[str, float, float]]] = {
    "A": [("standard", 0.0, 0.5), ("silver", 0.95, 0.95), ("gold", 0.99, 0.98)],
    "B": [("standard", 0.0, 0.5), ("silver", 0.92, 0.92), ("gold", 0.97, 0.95)],
    "C": [("standard", 0.0, 0.5), ("silver", 0.85, 0.85), ("gold", 0.95, 0.92)],
}
#: Share of a segment's customers each tier keeps a year more than standard does.
RETENTION_GAIN: dict[str, float] = {"standard": 0.0, "silver": 0.02, "gold": 0.05}


def tier_menus(profits: pd.DataFrame, segment_of: pd.Series, history_weeks: float, horizon_weeks: int,
               retention_gain: dict[str, float] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``service_tiers`` of the planning contract, and the derivation of each tier's value."""
    gain = {**RETENTION_GAIN, **(retention_gain or {})}
    df = profits.assign(segment=profits["customer"].map(segment_of), margin=profits["revenue"] - profits["returns"] - profits["cost_of_goods"])
    per = df.groupby("segment").agg(customers=("customer", "size"), margin=("margin", "sum"))
    rows, why = [], []
    for segment, r in per.iterrows():
        yearly_margin = max(0.0, float(r["margin"])) / r["customers"] * 52.0 / max(history_weeks, 1.0)
        for tier, fill_rate, csl in MENUS.get(str(segment), MENUS["B"]):
            value = r["customers"] * yearly_margin * gain.get(tier, 0.0) * horizon_weeks / 52.0
            rows.append({"segment": segment, "tier": tier, "fill_rate": fill_rate, "cycle_service_level": csl,
                         "tier_value": round(value, 2), "tier_cost": 0.0})
            why.append({"segment": segment, "tier": tier, "customers": int(r["customers"]), "margin_per_customer_per_year": round(yearly_margin, 2),
                        "retention_gained": gain.get(tier, 0.0), "horizon_weeks": horizon_weeks, "tier_value": round(value, 2),
                        "formula": f"{int(r['customers'])} customers x {yearly_margin:,.2f} margin a year x {gain.get(tier, 0.0):.1%} retention "
                                   f"x {horizon_weeks}/52 = {value:,.2f}"})
    return pd.DataFrame(rows), pd.DataFrame(why)
