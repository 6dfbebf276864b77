"""Write ``instances/demo``: the realistic weekly demo with a story (``python -m instances.make_demo``).

40 products, 4 segments, 6 suppliers, 13 weeks from 2026-W48, built on the
seeded generator and then given a story:

- *Key Accounts* pay the most, lose the most goodwill per missed unit and are
  contracted at silver or better; gold earns a retention bonus worth having.
- *Wholesale* is price-sensitive: thin margins, no goodwill penalty, and its
  higher tiers are worth little — the plan should give it the lowest tier.
- *Far East Bulk* is the cheap, slow supplier (3-week lead time, big MOQs);
  *Express Components* the fast, expensive one (ships in the week ordered).
"""

from __future__ import annotations

from pathlib import Path

from instances.generator import generate, write_instance

SUPPLIERS = {
    # name: (lead_time, unit-cost factor, fixed_cost, on_time_rate)
    "Far East Bulk": (3, 0.78, 2500.0, 0.86),
    "Express Components": (0, 1.25, 400.0, 0.99),
    "Continental Parts": (1, 1.00, 900.0, 0.95),
    "Nordic Supply": (1, 1.03, 700.0, 0.97),
    "Iberia Trading": (2, 0.90, 1200.0, 0.90),
    "Atlas Wholesale": (2, 0.93, 1000.0, 0.92),
}


def make_demo(seed: int = 7):
    profiles = list(SUPPLIERS.values())
    t = generate(
        products=40, segments=4, suppliers=6, periods=13, seed=seed,
        lead_times=[p[0] for p in profiles], cost_factors=[p[1] for p in profiles],
    )
    names = dict(zip(t["suppliers"]["supplier"], SUPPLIERS))
    for table in ("suppliers", "supplier_products", "supplier_capacity", "open_orders"):
        t[table]["supplier"] = t[table]["supplier"].map(names)
    sup = t["suppliers"]
    for i, name in enumerate(sup["supplier"]):
        _, _, fixed, otr = SUPPLIERS[name]
        sup.loc[i, ["fixed_cost", "on_time_rate"]] = [fixed, otr]
    sp = t["supplier_products"]
    bulk = sp["supplier"] == "Far East Bulk"
    sp.loc[bulk, "order_cost"] = 250.0
    # Open orders must be consistent with lead times: in transit only from who could ship them.
    oo = t["open_orders"]
    t["open_orders"] = oo[oo["supplier"] != "Express Components"].reset_index(drop=True)

    tiers = t["service_tiers"]
    story = {
        ("Key Accounts", "silver"): (6000.0, 1500.0),
        ("Key Accounts", "gold"): (30000.0, 3000.0),
        ("Retail", "silver"): (2500.0, 1200.0),
        ("Retail", "gold"): (5000.0, 3500.0),
        ("Online", "silver"): (1500.0, 1000.0),
        ("Online", "gold"): (3000.0, 2800.0),
        ("Wholesale", "silver"): (300.0, 800.0),
        ("Wholesale", "gold"): (600.0, 2000.0),
    }
    for (s, j), (value, cost) in story.items():
        mask = (tiers["segment"] == s) & (tiers["tier"] == j)
        tiers.loc[mask, ["tier_value", "tier_cost"]] = [value, cost]
    seg = t["segments"]
    seg.loc[seg["segment"] == "Key Accounts", ["lost_sale_penalty", "cost_to_serve"]] = [25.0, 2.0]
    seg.loc[seg["segment"] == "Wholesale", ["lost_sale_penalty", "cost_to_serve"]] = [0.0, 0.5]
    return t


if __name__ == "__main__":
    out = Path(__file__).parent / "demo"
    write_instance(make_demo(), out)
    print(f"demo instance written to {out}")
