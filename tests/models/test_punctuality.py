"""Supplier punctuality priced into the plan: stock also covers the expected late share of arrivals (models/punctuality.py)."""

import pytest

from planner.jobs.pipeline import plan_instance
from planner.solve.highs import SolveOptions
from planner.verify import verify_plan
from tests.conftest import instance_of, minimal_raw

EXACT = SolveOptions(mip_gap=0)


def one_week(suppliers, terms):
    """100 units of demand in one week that must all be served (fill rate 1), no forecast error."""
    return minimal_raw(
        products=[{"product": "P", "holding_cost": 0.5, "initial_inventory": 0, "unit_volume": 1}],
        service_tiers=[{"segment": "A", "tier": "all", "fill_rate": 1.0, "cycle_service_level": 0.5}],
        demand=[{"segment": "A", "product": "P", "period": "1", "quantity": 100, "std": 0, "price": 10}],
        suppliers=suppliers,
        supplier_products=terms,
    )


def test_the_buffer_is_the_late_share_of_the_arrivals_on_a_hand_checked_case():
    """One supplier, on time 90 %: the order x must serve 100 and leave 0.1 x in stock, so
    x - 100 = 0.1 x, x = 111.111, and the buffer is 11.111 units held at 0.5."""
    inst = instance_of(one_week([{"supplier": "S", "lead_time": 0, "capacity": 1000, "on_time_rate": 0.9}],
                                [{"supplier": "S", "product": "P", "unit_cost": 1}]))
    plan = plan_instance(inst, EXACT)
    assert plan.status == "optimal"
    x = 100 / 0.9
    assert plan.tables["orders"]["quantity"].sum() == pytest.approx(x, abs=1e-5)
    inv = plan.tables["inventory"].iloc[0]
    assert inv["late_buffer"] == pytest.approx(0.1 * x, abs=1e-5) and inv["on_hand"] == pytest.approx(0.1 * x, abs=1e-5)
    sup = plan.tables["suppliers"].iloc[0]
    assert sup["on_time_rate"] == 0.9 and sup["late_buffer"] == pytest.approx(0.1 * x, abs=1e-5)
    assert plan.kpis["profit"] == pytest.approx(1000 - x - 0.5 * 0.1 * x, abs=1e-5)
    # switched off, on-time rates are only reported: the plan orders exactly the demand
    off = plan_instance(inst, EXACT, {"constraints": {"punctuality": False}})
    assert off.tables["orders"]["quantity"].sum() == pytest.approx(100, abs=1e-6)
    assert off.tables["suppliers"].iloc[0]["late_buffer"] == 0
    # and the verifier recomputes the buffer: a plan that reports another is caught
    tables = {k: v.copy() for k, v in plan.tables.items()}
    tables["inventory"].loc[0, "late_buffer"] = 0.0
    assert {v.check for v in verify_plan(inst, tables, plan.kpis).violations} == {"late_buffer_value"}
    tables = {k: v.copy() for k, v in plan.tables.items()}
    tables["orders"].loc[0, "quantity"] = 105.0  # serves all but holds less than 0.1 x
    tables["inventory"].loc[0, "on_hand"] = 5.0
    tables["inventory"].loc[0, "late_buffer"] = 10.5
    found = {v.check for v in verify_plan(inst, tables, plan.kpis).violations}
    assert "safety_stock" in found and "late_buffer_value" not in found


def two_equal_prices(rate_a, rate_b):
    return one_week(
        [{"supplier": "A", "lead_time": 0, "capacity": 1000, "on_time_rate": rate_a},
         {"supplier": "B", "lead_time": 0, "capacity": 1000, "on_time_rate": rate_b}],
        [{"supplier": "A", "product": "P", "unit_cost": 1}, {"supplier": "B", "product": "P", "unit_cost": 1}],
    )


def volumes(plan):
    return plan.tables["orders"].groupby("supplier")["quantity"].sum().reindex(["A", "B"], fill_value=0.0)


def test_at_equal_prices_volume_goes_to_the_punctual_supplier():
    before = volumes(plan_instance(instance_of(two_equal_prices(0.80, 0.95)), EXACT))
    assert before["A"] == pytest.approx(0) and before["B"] == pytest.approx(100 / 0.95, abs=1e-5)
    after = volumes(plan_instance(instance_of(two_equal_prices(0.99, 0.95)), EXACT))  # A made more punctual
    assert after["A"] == pytest.approx(100 / 0.99, abs=1e-5) and after["B"] == pytest.approx(0)


def test_a_punctual_supplier_earns_a_higher_price_up_to_what_its_punctuality_saves():
    """B (always on time) at 1.05 against A (on time 80 %) at 1: A needs x = 125 for 100 units
    (cost 125 + holding 12.5), B 100 (cost 105): B wins although dearer."""
    raw = two_equal_prices(0.80, 1.0)
    raw["supplier_products"][1]["unit_cost"] = 1.05
    v = volumes(plan_instance(instance_of(raw), EXACT))
    assert v["B"] == pytest.approx(100, abs=1e-5) and v["A"] == pytest.approx(0)
