"""The independent verifier accepts true plans and catches corrupted ones."""

import copy

import pytest

from planner.contract.results import read_plan
from planner.verify import verify_plan
from tests.conftest import instance_of, solve_raw


@pytest.fixture
def solved(tiny_raw):
    inst = instance_of(tiny_raw)
    plan = solve_raw(tiny_raw)
    assert plan.status == "optimal"
    return inst, plan


def checks(inst, tables, kpis):
    return {v.check for v in verify_plan(inst, tables, kpis).violations}


def corrupt(plan):
    return copy.deepcopy(plan.tables), dict(plan.kpis)


def test_a_true_plan_passes_and_its_profit_is_recomputed(solved):
    inst, plan = solved
    v = verify_plan(inst, plan.tables, plan.kpis)
    assert v.ok, [str(x) for x in v.violations]
    assert v.profit == pytest.approx(plan.kpis["profit"], abs=1e-4)  # tables carry 6 decimals


def test_the_plan_as_written_to_disk_passes(solved, tmp_path):
    inst, plan = solved
    plan.write(tmp_path)
    written = read_plan(tmp_path)
    tables, kpis = written.tables, written.kpis
    assert verify_plan(inst, tables, kpis).ok


def test_an_order_cut_breaks_the_inventory_balance(solved):
    inst, plan = solved
    tables, kpis = corrupt(plan)
    tables["orders"].loc[0, "quantity"] -= 5
    assert "inventory_balance" in checks(inst, tables, kpis)


def test_serving_more_than_demand_is_caught(solved):
    inst, plan = solved
    tables, kpis = corrupt(plan)
    tables["service"].loc[0, "served"] += 3
    assert "served_bounds" in checks(inst, tables, kpis)


def test_exceeding_supplier_capacity_is_caught(solved):
    inst, plan = solved
    tables, kpis = corrupt(plan)
    o = tables["orders"]
    o.loc[o["supplier"] == "Fast", "quantity"] = 30
    assert "supplier_capacity" in checks(inst, tables, kpis)


def test_dropping_safety_stock_is_caught(solved):
    inst, plan = solved
    tables, kpis = corrupt(plan)
    o, inv = tables["orders"], tables["inventory"]
    o.loc[o["supplier"] == "Slow", "quantity"] = 30.0  # no safety stock bought
    inv.loc[inv["period"] == "W2", "on_hand"] = 0.0
    found = checks(inst, tables, kpis)
    assert "safety_stock" in found
    assert "inventory_balance" not in found  # the flow itself is consistent


def test_a_fill_rate_floor_broken_is_caught(solved):
    inst, plan = solved
    tables, kpis = corrupt(plan)
    s = tables["service"]
    key_w1 = (s["segment"] == "Key") & (s["period"] == "W1")
    s.loc[key_w1, "served"] = 8.0  # gold promises all of it
    s.loc[key_w1, "lost"] = 2.0
    assert "fill_rate_floor" in checks(inst, tables, kpis)


def test_a_tier_below_min_tier_is_caught(tiny_raw):
    for row in tiny_raw["segments"]:
        if row["segment"] == "Key":
            row["min_tier"] = "gold"
    inst = instance_of(tiny_raw)
    plan = solve_raw(tiny_raw)
    tables, kpis = corrupt(plan)
    tables["segments"].loc[tables["segments"]["segment"] == "Key", "tier"] = "basic"
    assert "min_tier" in checks(inst, tables, kpis)


def test_a_wrong_profit_is_caught(solved):
    inst, plan = solved
    tables, kpis = corrupt(plan)
    kpis["profit"] += 1.0
    assert checks(inst, tables, kpis) == {"objective"}


def test_an_order_from_a_supplier_that_does_not_carry_the_product_is_caught(tiny_raw):
    tiny_raw["products"].append({"product": "Q", "holding_cost": 1})
    tiny_raw["supplier_products"] = [r for r in tiny_raw["supplier_products"]] + [
        {"supplier": "Fast", "product": "Q", "unit_cost": 1}
    ]
    inst = instance_of(tiny_raw)
    plan = solve_raw(tiny_raw)
    tables, kpis = corrupt(plan)
    tables["orders"].loc[len(tables["orders"])] = ["Slow", "Q", "W1", 1.0, "W2"]
    assert "order_eligible" in checks(inst, tables, kpis)


def test_an_order_arriving_at_the_wrong_time_is_caught(solved):
    inst, plan = solved
    tables, kpis = corrupt(plan)
    o = tables["orders"]
    o.loc[o["supplier"] == "Slow", "arrival_period"] = "W1"
    assert "order_arrival" in checks(inst, tables, kpis)


def violations(inst, tables, kpis, check):
    return [v for v in verify_plan(inst, tables, kpis).violations if v.check == check]


def named(df, i, *columns):
    """How the verifier names row ``i`` of a plan table: its key columns joined by '/'."""
    return "/".join(str(df.at[i, c]) for c in columns)


def test_an_order_below_its_moq_is_named(tiny_raw):
    for row in tiny_raw["supplier_products"]:
        row["moq"] = 5
    inst = instance_of(tiny_raw)
    plan = solve_raw(tiny_raw)
    tables, kpis = corrupt(plan)
    o = tables["orders"]
    o.loc[0, "quantity"] = 2.0
    found = violations(inst, tables, kpis, "order_min")
    assert [v.where for v in found] == [named(o, 0, "supplier", "product", "period")]
    assert found[0].amount == pytest.approx(3.0)


def test_an_order_outside_the_horizon_or_negative_is_named(solved):
    inst, plan = solved
    tables, kpis = corrupt(plan)
    o = tables["orders"]
    o.loc[len(o)] = [o.at[0, "supplier"], o.at[0, "product"], "W99", 1.0, "W99"]
    o.loc[0, "quantity"] = -1.0
    found = checks(inst, tables, kpis)
    assert {"order_period", "order_nonnegative"} <= found
    assert [v.where for v in violations(inst, tables, kpis, "order_period")] == [f"{o.at[0, 'supplier']}/{o.at[0, 'product']}/W99"]


def test_lost_that_is_not_demand_less_served_is_named(solved):
    inst, plan = solved
    tables, kpis = corrupt(plan)
    s = tables["service"]
    s.loc[1, "lost"] += 4.0
    found = violations(inst, tables, kpis, "lost_definition")
    assert [v.where for v in found] == [named(s, 1, "segment", "product", "period")]
    assert found[0].amount == pytest.approx(4.0)


def test_a_missing_inventory_row_and_a_wrong_safety_stock_are_named(solved):
    inst, plan = solved
    tables, kpis = corrupt(plan)
    inv = tables["inventory"]
    gone = named(inv, 0, "product", "period")
    last = len(inv) - 1
    inv.loc[last, "safety_stock"] += 7.0
    wrong = named(inv, last, "product", "period")
    tables["inventory"] = inv.drop(index=0).reset_index(drop=True)
    assert [v.where for v in violations(inst, tables, kpis, "inventory_row")] == [gone]
    found = violations(inst, tables, kpis, "safety_stock_value")
    assert [v.where for v in found] == [wrong] and found[0].amount == pytest.approx(7.0)


def test_a_missing_service_row_is_named(solved):
    inst, plan = solved
    tables, kpis = corrupt(plan)
    s = tables["service"]
    gone = named(s, 0, "segment", "product", "period")
    tables["service"] = s.drop(index=0).reset_index(drop=True)
    assert [v.where for v in violations(inst, tables, kpis, "service_row")] == [gone]
