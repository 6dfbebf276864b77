"""Optional constraint families change the plan the way an analyst expects, and the verifier checks them."""

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from instances.benchmarks import read_holmberg
from models import OptionsError, select
from planner.cli import app
from planner.jobs.pipeline import plan_instance
from planner.solve.highs import SolveOptions
from planner.verify import verify_plan
from tests.conftest import DATA, instance_of, minimal_raw


#: These tests isolate each optional family; the buffer against late deliveries, which the
#: suppliers' on-time rates below would add, has its tests in test_punctuality.py.
ISOLATED = {"punctuality": False}


def solve(raw, constraints=None, **kw):
    inst = instance_of(raw)
    plan = plan_instance(inst, SolveOptions(mip_gap=0, **kw), {"constraints": {**ISOLATED, **(constraints or {})}})
    return inst, plan


def family_violations(inst, plan, constraints):
    """What the verifier says about `plan` if `constraints` had been asked for."""
    fams = select({"constraints": {**ISOLATED, **constraints}})
    return [v for v in verify_plan(inst, plan.tables, plan.kpis, fams).violations if v.check in constraints]


def two_suppliers(**over):
    """Four weeks, one product; Cheap (unreliable, on-time 0.8) and Dear (punctual)."""
    raw = minimal_raw(
        demand=[{"segment": "A", "product": "P", "period": str(t), "quantity": 10, "std": 2, "price": 20} for t in range(1, 5)],
        suppliers=[
            {"supplier": "Cheap", "lead_time": 0, "capacity": 100, "on_time_rate": 0.8},
            {"supplier": "Dear", "lead_time": 0, "capacity": 100, "on_time_rate": 0.99},
        ],
        supplier_products=[
            {"supplier": "Cheap", "product": "P", "unit_cost": 5, "order_cost": 1},
            {"supplier": "Dear", "product": "P", "unit_cost": 8, "order_cost": 1},
        ],
    )
    raw.update(over)
    return raw


def volume_by_supplier(plan):
    return plan.tables["orders"].groupby("supplier")["quantity"].sum().to_dict()


# ---- options ---------------------------------------------------------------------------

def test_unknown_family_and_bad_parameters_are_reported_before_any_solve():
    with pytest.raises(OptionsError) as exc:
        select({"constraints": {"no_such_family": {}, "max_supplier_share": {"share": 1.5, "colour": "red"}, "orders": False}})
    text = [str(p) for p in exc.value.problems]
    assert any("unknown constraint family 'no_such_family'" in t for t in text)
    assert any("constraints.max_supplier_share.share" in t and "less than or equal to 1" in t for t in text)
    assert any("constraints.max_supplier_share.colour" in t and "unknown parameter" in t for t in text)
    assert any("'orders' is part of the core model and cannot be switched off" in t for t in text)


def test_core_families_are_on_by_default_and_optional_ones_off():
    names = [f.name for f, _ in select()]
    assert names[0] == "sets" and names[-1] == "objective"
    assert "safety_stock" in names and "single_sourcing" not in names


def test_a_family_that_cannot_apply_to_the_data_is_an_error_naming_it():
    inst = instance_of(minimal_raw())  # one supplier only
    with pytest.raises(OptionsError) as exc:
        plan_instance(inst, SolveOptions(), {"constraints": {"min_suppliers_per_product": {}}})
    assert "min_suppliers_per_product" in str(exc.value) and "fewer than 2 suppliers" in str(exc.value)


# ---- families --------------------------------------------------------------------------

def test_max_supplier_share_moves_volume_to_the_second_supplier():
    inst, free = solve(two_suppliers())
    assert volume_by_supplier(free) == pytest.approx({"Cheap": 40})
    share = {"max_supplier_share": {"share": 0.6, "basis": "volume"}}
    assert family_violations(inst, free, share)  # the free plan breaks the rule
    inst, plan = solve(two_suppliers(), share)
    v = volume_by_supplier(plan)
    assert v["Cheap"] == pytest.approx(24) and v["Dear"] == pytest.approx(16)
    assert plan.kpis["profit"] < free.kpis["profit"]


def test_max_supplier_share_on_spend():
    inst, plan = solve(two_suppliers(), {"max_supplier_share": {"share": 0.5, "basis": "spend"}})
    o = plan.tables["orders"]
    spend = (o["quantity"] * o["supplier"].map({"Cheap": 5, "Dear": 8})).groupby(o["supplier"]).sum()
    assert spend["Cheap"] <= 0.5 * spend.sum() + 1e-4  # quantities are written with 6 decimals
    assert spend["Cheap"] == pytest.approx(0.5 * spend.sum(), rel=1e-6)  # binding: Cheap is still cheaper


def test_min_suppliers_per_product_gives_dual_sourcing():
    rule = {"min_suppliers_per_product": {"min_suppliers": 2, "min_share": 0.25}}
    inst, free = solve(two_suppliers())
    assert family_violations(inst, free, rule)
    inst, plan = solve(two_suppliers(), rule)
    v = volume_by_supplier(plan)
    assert set(v) == {"Cheap", "Dear"}
    assert v["Dear"] == pytest.approx(0.25 * 40)  # the least the rule allows


def test_single_sourcing_stops_a_split():
    # Cheap can only make 6 a week: the free plan tops up from Dear; single sourcing must choose one.
    raw = two_suppliers(suppliers=[
        {"supplier": "Cheap", "lead_time": 0, "capacity": 6, "on_time_rate": 0.8},
        {"supplier": "Dear", "lead_time": 0, "capacity": 100, "on_time_rate": 0.99},
    ])
    inst, free = solve(raw)
    assert set(volume_by_supplier(free)) == {"Cheap", "Dear"}
    assert family_violations(inst, free, {"single_sourcing": {}})
    inst, plan = solve(raw, {"single_sourcing": {}})
    assert list(volume_by_supplier(plan)) == ["Dear"]  # all 40 from the one that can carry it


HOLMBERG = pd.read_csv(DATA / "holmberg_sscflp" / "optima.csv")


@pytest.mark.parametrize("name,optimum", list(zip(HOLMBERG["instance"], HOLMBERG["optimum"])))
def test_single_sourcing_reaches_holmberg_optima(name, optimum):
    inst, plan = solve(read_holmberg(DATA / "holmberg_sscflp" / f"{name}.txt"), {"single_sourcing": {}})
    assert plan.status == "optimal"
    assert -plan.kpis["profit"] == pytest.approx(optimum, abs=1e-3)


def test_frozen_periods_keep_last_weeks_orders_and_penalise_later_changes():
    previous = [
        {"supplier": "Dear", "product": "P", "period": "1", "quantity": 15},  # not what today's optimum would do
        {"supplier": "Dear", "product": "P", "period": "3", "quantity": 10},
    ]
    inst, free = solve(two_suppliers())
    rule = {"frozen_periods": {"periods": 2, "previous_orders": previous}}
    assert family_violations(inst, free, rule)
    inst, plan = solve(two_suppliers(), rule)
    o = plan.tables["orders"].set_index(["supplier", "period"])["quantity"]
    assert o[("Dear", "1")] == pytest.approx(15)
    assert ("Cheap", "1") not in o.index and ("Cheap", "2") not in o.index and ("Dear", "2") not in o.index
    # beyond the frozen weeks, without a penalty, the plan is free to change (Cheap is cheaper)
    assert ("Dear", "3") not in o.index
    # a change penalty above the saving keeps the later order as it was
    inst, stable = solve(two_suppliers(), {"frozen_periods": {"periods": 2, "previous_orders": previous, "change_penalty": 10}})
    s = stable.tables["orders"].set_index(["supplier", "period"])["quantity"]
    assert s[("Dear", "3")] == pytest.approx(10)
    assert stable.kpis["plan_change_penalty"] >= 0


def test_frozen_periods_takes_a_previous_plan_folder_from_the_command_line_only(tmp_path):
    inst, first = solve(two_suppliers())
    first.write(tmp_path / "last_week")
    (tmp_path / "inst").mkdir()
    for name, rows in two_suppliers().items():
        pd.DataFrame(rows).to_csv(tmp_path / "inst" / f"{name}.csv", index=False)
    options = {"constraints": {**ISOLATED, "frozen_periods": {"periods": 4, "previous_orders": str(tmp_path / "last_week")}}}
    (tmp_path / "options.json").write_text(json.dumps(options))
    r = CliRunner().invoke(app, ["solve", str(tmp_path / "inst"), "--options", str(tmp_path / "options.json"), "--mip-gap", "0", "--out", str(tmp_path / "again")])
    assert r.exit_code == 0, r.output
    again = pd.read_csv(tmp_path / "again" / "orders.csv", dtype={"period": str, "arrival_period": str})
    pd.testing.assert_frame_equal(first.tables["orders"].reset_index(drop=True), again, check_dtype=False)
    # a path that is not there is a located error, exit 2
    options["constraints"]["frozen_periods"]["previous_orders"] = str(tmp_path / "nowhere")
    (tmp_path / "options.json").write_text(json.dumps(options))
    r = CliRunner().invoke(app, ["solve", str(tmp_path / "inst"), "--options", str(tmp_path / "options.json")])
    assert r.exit_code == 2 and "previous_orders" in r.output and "is not an orders.csv file" in r.output
    # below the faces, a path is not followed: the family takes rows only
    with pytest.raises(OptionsError, match="valid list"):
        solve(two_suppliers(), {"frozen_periods": {"periods": 4, "previous_orders": str(tmp_path / "last_week")}})


def test_frozen_order_that_no_longer_fits_is_an_error_before_solving():
    rule = {"frozen_periods": {"periods": 1, "previous_orders": [{"supplier": "Cheap", "product": "P", "period": "1", "quantity": 500}]}}
    with pytest.raises(OptionsError) as exc:
        solve(two_suppliers(), rule)
    assert "previous order Cheap/P/1 of 500" in str(exc.value)


def test_reliable_supply_for_premium_tier():
    tiers = [
        {"segment": "A", "tier": "basic", "fill_rate": 0.5, "cycle_service_level": 0.5},
        {"segment": "A", "tier": "premium", "fill_rate": 0.98, "cycle_service_level": 0.5},
    ]
    raw = two_suppliers(service_tiers=tiers, segments=[{"segment": "A", "min_tier": "premium"}])
    rule = {"reliable_supply_for_tier": {"min_fill_rate": 0.95, "min_on_time_rate": 0.95}}
    inst, free = solve(raw)
    assert "Cheap" in volume_by_supplier(free)
    assert family_violations(inst, free, rule)
    inst, plan = solve(raw, rule)
    assert list(volume_by_supplier(plan)) == ["Dear"]
    # a segment at a basic tier may still buy from the cheap supplier
    raw_basic = two_suppliers(service_tiers=tiers)
    inst, plan = solve(raw_basic, rule)
    assert "Cheap" in volume_by_supplier(plan)


def test_service_level_floor_raises_overall_service_at_a_cost():
    raw = minimal_raw(
        segments=[{"segment": "A"}, {"segment": "B"}],
        service_tiers=[{"segment": s, "tier": "t", "fill_rate": 0, "cycle_service_level": 0.5} for s in "AB"],
        demand=[
            {"segment": "A", "product": "P", "period": "1", "quantity": 10, "price": 20},
            {"segment": "B", "product": "P", "period": "1", "quantity": 10, "price": 4},  # below unit cost 5
        ],
    )
    inst, free = solve(raw)
    assert free.kpis["fill_rate"] == pytest.approx(0.5)
    inst, plan = solve(raw, {"service_level_floor": {"fill_rate": 0.8}})
    assert plan.kpis["fill_rate"] == pytest.approx(0.8)
    assert plan.kpis["profit"] == pytest.approx(free.kpis["profit"] - 6 * 1)  # 6 loss-making units at -1 each
    assert family_violations(inst, free, {"service_level_floor": {"fill_rate": 0.8}})


def test_inventory_cover_min_and_max():
    inst, free = solve(two_suppliers())
    assert free.tables["inventory"]["on_hand"].max() < 10  # only safety stock
    inst, plan = solve(two_suppliers(), {"inventory_cover": {"min_periods": 1.5}})
    assert (plan.tables["inventory"]["on_hand"] >= 15 - 1e-6).all()
    assert family_violations(inst, free, {"inventory_cover": {"min_periods": 1.5}})
    raw = two_suppliers(supplier_products=[
        {"supplier": "Cheap", "product": "P", "unit_cost": 5, "order_cost": 100},  # batching pays
        {"supplier": "Dear", "product": "P", "unit_cost": 8, "order_cost": 100},
    ])
    inst, batch = solve(raw)
    assert batch.tables["inventory"]["on_hand"].max() > 20
    inst, capped = solve(raw, {"inventory_cover": {"max_periods": 1.2}})
    assert capped.tables["inventory"]["on_hand"].max() <= 12 + 1e-6


def test_inventory_cover_needs_a_bound():
    with pytest.raises(OptionsError, match="give min_periods, max_periods or both"):
        select({"constraints": {"inventory_cover": {}}})


def test_switching_off_a_core_family():
    raw = two_suppliers(
        settings=[{"warehouse_capacity": 1}],  # smaller than the safety stock (1.64 x 2) needs
        service_tiers=[{"segment": "A", "tier": "t", "fill_rate": 1, "cycle_service_level": 0.95}],
    )
    inst, plan = solve(raw)
    assert plan.status == "infeasible"
    inst, plan = solve(raw, {"warehouse_capacity": False})
    assert plan.status == "optimal"
    assert plan.tables["inventory"]["on_hand"].max() > 1
