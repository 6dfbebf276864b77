"""An infeasible run is explained in business terms: which requirements had to give, where, by how much."""

import pytest

from planner.solve.diagnose import explain_infeasibility
from tests.conftest import instance_of, minimal_raw, solve_raw

TIERS = [
    {"segment": "Premium", "tier": "bronze", "fill_rate": 0.5, "cycle_service_level": 0.5},
    {"segment": "Premium", "tier": "gold", "fill_rate": 0.9, "cycle_service_level": 0.5},
    {"segment": "Budget", "tier": "base", "fill_rate": 0.8, "cycle_service_level": 0.5},
]


def short_capacity(**over):
    raw = minimal_raw(
        segments=[{"segment": "Premium", "min_tier": "gold"}, {"segment": "Budget"}],
        service_tiers=TIERS,
        demand=[{"segment": s, "product": "P", "period": p, "quantity": 10, "price": 20} for s in ("Premium", "Budget") for p in ("1", "2")],
        suppliers=[{"supplier": "K", "lead_time": 0, "capacity": 12}],  # the tiers promise 9 + 8 = 17 a week
    )
    raw.update(over)
    return raw


def test_capacity_shortfall_is_named_with_supplier_period_and_amount():
    plan = solve_raw(short_capacity())
    assert plan.status == "infeasible"
    rel = plan.explanation["relaxations"]
    assert {(r["requirement"], r["supplier"], r["period"]) for r in rel} == {("supplier_capacity", "K", "1"), ("supplier_capacity", "K", "2")}
    assert [r["shortfall"] for r in rel] == pytest.approx([5, 5])
    assert "supplier capacity (supplier K, period 1) short by 5 capacity units" in plan.explanation["message"]


def test_budget_shortfall():
    raw = short_capacity(suppliers=[{"supplier": "K", "lead_time": 0, "capacity": 100}], settings=[{"budget": 60}])
    rel = explain_infeasibility(instance_of(raw))["relaxations"]
    # 17 units at 5 = 85 a week against 60
    assert {(r["requirement"], r["period"]) for r in rel} == {("budget", "1"), ("budget", "2")}
    assert [r["shortfall"] for r in rel] == pytest.approx([25, 25])


def test_min_tier_gives_when_that_is_the_cheaper_relaxation():
    # Premium's contract needs 9 a week, Budget's tier 8; capacity 9: dropping Premium to bronze
    # (one tier step) is cheaper in the penalty's units than 8 units of capacity twice.
    raw = short_capacity(
        segments=[{"segment": "Premium", "min_tier": "gold"}, {"segment": "Budget"}],
        suppliers=[{"supplier": "K", "lead_time": 0, "capacity": 9}],
        demand=[{"segment": s, "product": "P", "period": "1", "quantity": q, "price": 20} for s, q in (("Premium", 10), ("Budget", 10))],
    )
    exp = explain_infeasibility(instance_of(raw))
    assert exp["feasible_when_relaxed"]
    kinds = {r["requirement"] for r in exp["relaxations"]}
    assert kinds <= {"min_tier", "supplier_capacity", "fill_rate_floor"} and kinds


def test_a_feasible_run_needs_no_relaxation():
    exp = explain_infeasibility(instance_of(minimal_raw()))
    assert exp["relaxations"] == [] and exp["feasible_when_relaxed"]
