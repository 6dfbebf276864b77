"""The figures the business reads, checked by hand on the tiny instance's optimal plan (issue 16, part 7).

The plan: Fast delivers 25 units at 10 in W1, Slow 46.448536 at 4 (lead time 1, for W2); Key gets
10 + 10, Retail 15 of 20 in W1 and 20 in W2; 16.448536 units are left at the end of W2 (Key's
safety stock: z 1.645 x std 10)."""

import math

import pytest

from planner.contract.loading import read_tables
from planner.contract.validation import load_instance, validate
from planner.jobs.pipeline import plan_instance
from planner.solve.highs import SolveOptions
from tests.conftest import TINY


@pytest.fixture(scope="module")
def plan():
    p = plan_instance(load_instance(TINY), SolveOptions(mip_gap=0))
    assert p.status == "optimal"
    return p


def test_stock_and_cost_figures_by_hand(plan):
    k = plan.kpis
    bought, spent = 25 + 46.448536, 25 * 10 + 46.448536 * 4
    unit = spent / bought  # what a unit costs in this plan
    assert k["cost_of_goods_sold"] == pytest.approx(55 * unit, rel=1e-6)
    assert k["average_inventory_value"] == pytest.approx((0 + 16.448536) * unit / 2, rel=1e-6)
    assert k["safety_stock_value"] == pytest.approx(k["average_inventory_value"], rel=1e-9)  # all stock left is safety stock
    assert k["inventory_turns"] == pytest.approx(k["cost_of_goods_sold"] / k["average_inventory_value"], rel=1e-9)
    assert k["periods_of_supply"] == pytest.approx(k["average_inventory_value"] / (k["cost_of_goods_sold"] / 2), rel=1e-9)
    assert k["gmroi"] == pytest.approx((1020 - 55 * unit) / k["average_inventory_value"], rel=1e-6)
    assert k["days_of_supply"] == pytest.approx(7 * k["periods_of_supply"], rel=1e-9)  # periods are weeks unless settings say
    assert k["order_cycle_time"] == pytest.approx(7 * 46.448536 / bought, rel=1e-6)  # Fast 0 weeks, Slow 1, in days


def test_the_order_cycle_time_counts_the_frozen_periods_and_the_days_a_period_has(plan):
    """The same orders, frozen for one period, with periods of 5 (working) days: a new need waits
    one frozen period, then the volume-weighted lead time."""
    raw = read_tables(TINY)
    raw["settings"] = [{"period_days": 5}]
    inst = validate(raw).instance
    previous = [{"supplier": r.supplier, "product": r.product, "period": r.period, "quantity": r.quantity} for r in plan.tables["orders"].itertuples()]
    frozen = plan_instance(inst, SolveOptions(mip_gap=0), {"constraints": {"frozen_periods": {"periods": 1, "previous_orders": previous}}})
    bought = 25 + 46.448536
    assert frozen.kpis["order_cycle_time"] == pytest.approx(5 * (46.448536 / bought + 1), rel=1e-6)
    assert frozen.kpis["days_of_supply"] == pytest.approx(5 * frozen.kpis["periods_of_supply"], rel=1e-9)


def test_service_figures_by_hand(plan):
    k = plan.kpis
    assert k["perfect_order_rate"] == 0.75  # Retail's W1 is the one row not served in full
    assert dict(zip(plan.tables["segments"]["segment"], plan.tables["segments"]["perfect_order_rate"])) == {"Key": 1.0, "Retail": 0.5}
    # W1: 30 demanded with no uncertainty, 25 available: 5 short. W2: 30 expected, sigma 10, 46.448536
    # available: z = 1.6448536, expected shortage 10 x G(z), G(z) = phi(z) - z (1 - Phi(z))
    z = 1.6448536
    g = math.exp(-z * z / 2) / math.sqrt(2 * math.pi) - z * 0.5 * math.erfc(z / math.sqrt(2))
    assert k["expected_fill_rate"] == pytest.approx(1 - (5 + 10 * g) / 60, rel=1e-6)
    assert k["expected_fill_rate"] < k["fill_rate"]  # the buffer does not cover every outcome
