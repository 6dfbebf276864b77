"""The plan responds to the economics the way a planner expects."""

import pytest

from tests.conftest import minimal_raw, solve_raw


def two_segments(capacity, tiers=None, segments=None):
    return minimal_raw(
        segments=segments
        or [
            {"segment": "Premium", "lost_sale_penalty": 0, "cost_to_serve": 1},
            {"segment": "Budget", "lost_sale_penalty": 0, "cost_to_serve": 1},
        ],
        service_tiers=tiers
        or [
            {"segment": "Premium", "tier": "base", "fill_rate": 0, "cycle_service_level": 0.5},
            {"segment": "Budget", "tier": "base", "fill_rate": 0, "cycle_service_level": 0.5},
        ],
        demand=[
            {"segment": s, "product": "P", "period": p, "quantity": 10, "std": 0, "price": price}
            for s, price in (("Premium", 40), ("Budget", 15))
            for p in ("1", "2")
        ],
        suppliers=[{"supplier": "K", "lead_time": 0, "capacity": capacity}],
    )


def served(plan):
    return plan.tables["service"].groupby("segment")["served"].sum().to_dict()


def tiers(plan):
    return dict(zip(plan.tables["segments"]["segment"], plan.tables["segments"]["tier"]))


def test_short_supply_goes_to_the_highest_margin_segment_first():
    plan = solve_raw(two_segments(capacity=14))  # 14 per period for 20 of demand
    assert plan.status == "optimal"
    s = served(plan)
    assert s["Premium"] == pytest.approx(20)  # served in full
    assert s["Budget"] == pytest.approx(8)  # the remaining 4 per period


def test_with_ample_supply_everybody_is_served():
    s = served(solve_raw(two_segments(capacity=100)))
    assert s == pytest.approx({"Premium": 20, "Budget": 20})


def test_lost_sale_penalty_can_reverse_the_priority():
    segs = [
        {"segment": "Premium", "lost_sale_penalty": 0, "cost_to_serve": 1},
        {"segment": "Budget", "lost_sale_penalty": 30, "cost_to_serve": 1},  # 15 + 30 > 40
    ]
    s = served(solve_raw(two_segments(capacity=14, segments=segs)))
    assert s["Budget"] == pytest.approx(20)
    assert s["Premium"] == pytest.approx(8)


HIGH_TIERS = [
    {"segment": "Premium", "tier": "bronze", "fill_rate": 0.5, "cycle_service_level": 0.5},
    {"segment": "Premium", "tier": "silver", "fill_rate": 0.7, "cycle_service_level": 0.5, "tier_value": 50, "tier_cost": 80},
    {"segment": "Premium", "tier": "gold", "fill_rate": 0.9, "cycle_service_level": 0.5, "tier_value": 90, "tier_cost": 150},
    {"segment": "Budget", "tier": "base", "fill_rate": 0, "cycle_service_level": 0.5},
]


def test_a_tier_worth_less_than_it_costs_is_not_chosen():
    plan = solve_raw(two_segments(capacity=100, tiers=HIGH_TIERS))
    assert tiers(plan)["Premium"] == "bronze"
    assert plan.kpis["tier_net_value"] == pytest.approx(0)


def test_min_tier_is_respected():
    segs = [
        {"segment": "Premium", "lost_sale_penalty": 0, "cost_to_serve": 1, "min_tier": "silver"},
        {"segment": "Budget", "lost_sale_penalty": 0, "cost_to_serve": 1},
    ]
    plan = solve_raw(two_segments(capacity=100, tiers=HIGH_TIERS, segments=segs))
    assert tiers(plan)["Premium"] == "silver"  # the floor, not the (even costlier) gold
    assert plan.kpis["tier_net_value"] == pytest.approx(-30)


def test_a_valuable_tier_is_bought_with_service_taken_from_the_cheaper_segment():
    t = [dict(r) for r in HIGH_TIERS]
    t[2].update(tier_value=500, tier_cost=0)  # gold now pays
    plan = solve_raw(two_segments(capacity=14, tiers=t))
    assert tiers(plan)["Premium"] == "gold"
    svc = plan.tables["service"]
    premium = svc[svc["segment"] == "Premium"]
    assert (premium["served"] >= 0.9 * premium["demand"] - 1e-6).all()


def test_min_tier_that_supply_cannot_meet_is_infeasible():
    segs = [
        {"segment": "Premium", "lost_sale_penalty": 0, "cost_to_serve": 1, "min_tier": "gold"},
        {"segment": "Budget", "lost_sale_penalty": 0, "cost_to_serve": 1},
    ]
    plan = solve_raw(two_segments(capacity=5, tiers=HIGH_TIERS, segments=segs))  # gold needs 9 per period
    assert plan.status == "infeasible"
    assert plan.kpis["profit"] is None
    assert not plan.tables


def test_cheap_slow_supplier_is_used_where_the_lead_time_allows():
    raw = minimal_raw(
        demand=[{"segment": "A", "product": "P", "period": str(t), "quantity": 10, "price": 20} for t in range(1, 5)],
        suppliers=[{"supplier": "Fast", "lead_time": 0, "capacity": 100}, {"supplier": "Slow", "lead_time": 2, "capacity": 100}],
        supplier_products=[
            {"supplier": "Fast", "product": "P", "unit_cost": 9},
            {"supplier": "Slow", "product": "P", "unit_cost": 5},
        ],
    )
    plan = solve_raw(raw)
    by_arrival = plan.tables["orders"].groupby(["supplier", "arrival_period"])["quantity"].sum().to_dict()
    # weeks 1-2 can only come from Fast; weeks 3-4 from Slow, ordered in weeks 1-2
    assert by_arrival == pytest.approx({("Fast", "1"): 10, ("Fast", "2"): 10, ("Slow", "3"): 10, ("Slow", "4"): 10})
