"""The demo's story, as the README tells it, is what the model decides."""

import pytest

from planner.contract.loading import read_tables
from planner.jobs.pipeline import plan_instance
from planner.solve.highs import SolveOptions
from tests.conftest import DEMO, instance_of


@pytest.fixture(scope="module")
def demo():
    inst = instance_of(read_tables(DEMO))
    plan = plan_instance(inst, SolveOptions())
    assert plan.status == "optimal"
    return inst, plan


def test_the_demo_is_13_weeks_of_40_products_4_segments_and_6_suppliers(demo):
    inst, _ = demo
    assert (inst.horizon, len(inst.product_ids), len(inst.segment_ids), len(inst.supplier_ids)) == (13, 40, 4, 6)


def test_key_accounts_get_gold_and_the_others_bronze(demo):
    _, plan = demo
    assert dict(zip(plan.tables["segments"]["segment"], plan.tables["segments"]["tier"])) == {
        "Key Accounts": "gold", "Retail": "bronze", "Online": "bronze", "Wholesale": "bronze"}


def test_far_east_bulk_runs_at_capacity_as_the_base_load(demo):
    inst, plan = demo
    o = plan.tables["orders"]
    weekly = o[o["supplier"] == "Far East Bulk"].groupby("period")["quantity"].sum()
    # every week whose order arrives before the horizon's last week (what arrives in the last is sold in it alone)
    reachable = inst.periods[: inst.horizon - inst.lead_time["Far East Bulk"] - 1]
    capacity = float(inst.suppliers.set_index("supplier").at["Far East Bulk", "capacity"])
    assert weekly.reindex(reachable, fill_value=0.0).min() >= 0.95 * capacity


def test_iberia_trading_carries_the_most_and_express_only_the_first_weeks(demo):
    inst, plan = demo
    o = plan.tables["orders"]
    volume = o.groupby("supplier")["quantity"].sum()
    assert volume.idxmax() == "Iberia Trading"
    express = set(o.loc[o["supplier"] == "Express Components", "period"])
    assert express and express <= set(inst.periods[:2])  # before anything else can arrive (the next fastest need a week)


def test_each_supplier_causes_the_late_share_of_what_it_delivers(demo):
    inst, plan = demo
    s = plan.tables["suppliers"].set_index("supplier")
    in_transit = inst.open_orders.groupby("supplier")["quantity"].sum().reindex(s.index, fill_value=0.0)
    expected = (1 - s["on_time_rate"]) * (s["quantity"] + in_transit)
    assert (s["late_buffer"] - expected).abs().max() < 1e-4
    assert s["late_buffer"].idxmax() in ("Far East Bulk", "Iberia Trading")  # the least punctual carry volume
    assert plan.tables["inventory"]["late_buffer"].sum() > 0
