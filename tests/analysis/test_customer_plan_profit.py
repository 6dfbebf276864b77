"""Profit per customer in a plan from the customers' own history, not a split by share (issue 16, part 3)."""

from __future__ import annotations

import pandas as pd
import pytest

from planner import jobs
from planner.analysis.profitability import MONEY, profitability
from planner.contract.loading import read_tables
from planner.contract.validation import validate
from tests.conftest import TINY


def tiny_with_customers(customer_products: bool):
    raw = read_tables(TINY)
    raw["customers"] = [{"customer": "K1", "segment": "Key", "share": 0.5, "cost_to_serve": 0.0},
                        {"customer": "K2", "segment": "Key", "share": 0.5, "cost_to_serve": 3.0},
                        {"customer": "R1", "segment": "Retail", "share": 1.0}]
    if customer_products:
        raw["customer_products"] = [{"customer": "K1", "product": "P", "share": 0.5, "price": 30.0},
                                    {"customer": "K2", "product": "P", "share": 0.5, "price": 20.0},
                                    {"customer": "R1", "product": "P", "share": 1.0}]
    report = validate(raw)
    assert report.ok, report.errors
    return report.instance


@pytest.fixture(scope="module")
def planned():
    inst = tiny_with_customers(True)
    plan = jobs.run(jobs.JobRequest(kind="solve", instance=inst, mip_gap=0)).plan
    return inst, plan


def test_each_customer_is_charged_by_what_it_paid_and_what_serving_it_cost(planned):
    """Key's two customers take half its units each; K1 paid 30 a unit and costs nothing to
    serve, K2 paid 20 and costs 3 a unit: K1 gets 30/(30+20) of Key's revenue and none of its
    cost to serve, K2 the rest. Split by share, both would show the same margin."""
    inst, plan = planned
    seg = profitability(inst, plan.tables, plan.kpis).set_index("segment")
    cus = profitability(inst, plan.tables, plan.kpis, inst.customers).set_index("customer")
    key = seg.loc["Key"]
    assert key["revenue"] > 0 and key["cost_to_serve"] > 0
    assert cus.at["K1", "revenue"] == pytest.approx(0.6 * key["revenue"]) and cus.at["K2", "revenue"] == pytest.approx(0.4 * key["revenue"])
    assert cus.at["K1", "cost_to_serve"] == 0 and cus.at["K2", "cost_to_serve"] == pytest.approx(key["cost_to_serve"])
    assert cus.at["K1", "purchase_cost"] == pytest.approx(cus.at["K2", "purchase_cost"])  # the same goods
    assert cus.at["K1", "margin"] > cus.at["K2", "margin"]
    by_share = profitability(tiny_with_customers(False), plan.tables, plan.kpis, inst.customers).set_index("customer")
    assert by_share.at["K1", "margin"] == pytest.approx(by_share.at["K2", "margin"])


def test_the_customers_of_a_segment_add_up_to_it(planned):
    inst, plan = planned
    seg = profitability(inst, plan.tables, plan.kpis).set_index("segment")[MONEY]
    cus = profitability(inst, plan.tables, plan.kpis, inst.customers).groupby("segment")[MONEY].sum()
    pd.testing.assert_frame_equal(cus.loc[seg.index], seg, check_exact=False, rtol=1e-9, atol=1e-9)


def test_shares_of_a_segments_product_above_one_are_refused():
    raw = read_tables(TINY)
    raw["customers"] = [{"customer": "K1", "segment": "Key", "share": 0.5}, {"customer": "K2", "segment": "Key", "share": 0.5}]
    raw["customer_products"] = [{"customer": "K1", "product": "P", "share": 0.7}, {"customer": "K2", "product": "P", "share": 0.4},
                                {"customer": "K9", "product": "P", "share": 0.1}]
    errors = {(p.table, p.row, p.column) for p in validate(raw).errors}
    assert ("customer_products", 2, "share") in errors and ("customer_products", 3, "customer") in errors
    del raw["customers"]
    assert any("needs the customers table" in p.message for p in validate(raw).errors)
