"""The modelling choices the README lists, each on a small case whose right answer is plain."""

import pytest

from tests.conftest import minimal_raw, solve_raw


def weeks(n, quantity=10, std=0.0, price=20):
    return [{"segment": "A", "product": "P", "period": str(t), "quantity": quantity, "std": std, "price": price} for t in range(1, n + 1)]


def gold(csl=0.95):
    return [{"segment": "A", "tier": "gold", "fill_rate": 1.0, "cycle_service_level": csl}]


def test_the_frozen_zone_reports_its_shortfalls_and_the_targets_bind_after_it():
    """Lead time 2, nothing on hand: weeks 1 and 2 cannot be served. The plan exists; what the
    tier promised there is reported, and from week 3 on every unit is served with its safety stock."""
    raw = minimal_raw(service_tiers=gold(), demand=weeks(4, std=4.0),
                      segments=[{"segment": "A", "lost_sale_penalty": 3, "cost_to_serve": 0}],
                      suppliers=[{"supplier": "K", "lead_time": 2, "fixed_cost": 0, "capacity": 100}])
    plan = solve_raw(raw)
    assert plan.status == "optimal"
    z_sigma = 1.6448536269514722 * 4.0
    inv = plan.tables["inventory"].set_index("period")
    assert inv["frozen"].tolist() == [True, True, False, False]
    assert plan.kpis["frozen_service_shortfall"] == pytest.approx(20, abs=1e-6)  # fill rate 1 x 10 units, two weeks
    assert plan.kpis["frozen_safety_stock_shortfall"] == pytest.approx(2 * z_sigma, abs=1e-5)
    service = plan.tables["service"].set_index("period")
    assert service.loc[["3", "4"], "served"].tolist() == pytest.approx([10, 10])
    assert inv.loc[["3", "4"], "on_hand"].tolist() == pytest.approx([z_sigma, z_sigma], abs=1e-5)


def test_lost_sales_are_not_backlogged_and_pay_their_penalty():
    """What week 1 could not serve is lost: week 3 serves its own 10 units, not 20."""
    raw = minimal_raw(demand=weeks(3), segments=[{"segment": "A", "lost_sale_penalty": 4, "cost_to_serve": 0}],
                      suppliers=[{"supplier": "K", "lead_time": 1, "fixed_cost": 0, "capacity": 100}])
    plan = solve_raw(raw)
    service = plan.tables["service"].set_index("period")
    assert service["served"].tolist() == pytest.approx([0, 10, 10])
    assert service["lost"].tolist() == pytest.approx([10, 0, 0])
    assert plan.tables["orders"]["quantity"].sum() == pytest.approx(20)
    assert plan.kpis["lost_sale_penalty"] == pytest.approx(40)  # a cost term, subtracted from profit


def test_capacity_and_budget_count_in_the_week_an_order_is_placed():
    """Lead time 1; 30 units wanted in week 3. The supplier has no capacity in week 2, so the order
    arriving in week 3 cannot be placed: everything is ordered in week 1 and held a week. Then a
    budget of 20 per week: week 1 can buy 20 at most, and week 2 has no capacity: 10 units are lost."""
    raw = minimal_raw(demand=[{"segment": "A", "product": "P", "period": "3", "quantity": 30, "std": 0, "price": 20}],
                      products=[{"product": "P", "holding_cost": 0.1}],
                      suppliers=[{"supplier": "K", "lead_time": 1, "fixed_cost": 0, "capacity": 100}],
                      supplier_products=[{"supplier": "K", "product": "P", "unit_cost": 1}],
                      supplier_capacity=[{"supplier": "K", "period": "2", "capacity": 0}],
                      periods=[{"period": str(t), "order": t} for t in (1, 2, 3)])
    orders = solve_raw(raw).tables["orders"]
    assert orders[["period", "arrival_period", "quantity"]].values.tolist() == [["1", "2", 30.0]]
    raw["settings"] = [{"budget": 20}]
    plan = solve_raw(raw)
    assert plan.tables["orders"][["period", "quantity"]].values.tolist() == [["1", 20.0]]
    assert plan.tables["service"]["lost"].sum() == pytest.approx(10)


def test_nothing_arrives_after_the_horizon_and_stock_left_at_the_end_is_worth_nothing():
    """A supplier with lead time 1 orders nothing in the last week; at the end only the safety
    stock the last week requires is held (no salvage value would pay for more)."""
    raw = minimal_raw(service_tiers=gold(), demand=weeks(3, std=5.0),
                      products=[{"product": "P", "holding_cost": 0.1, "initial_inventory": 20}],
                      suppliers=[{"supplier": "K", "lead_time": 1, "fixed_cost": 0, "capacity": 100}])
    plan = solve_raw(raw)
    assert plan.status == "optimal"
    assert "3" not in set(plan.tables["orders"]["period"])
    last = plan.tables["inventory"].iloc[-1]
    assert last["on_hand"] == pytest.approx(last["safety_stock"], abs=1e-5) and last["safety_stock"] > 0
