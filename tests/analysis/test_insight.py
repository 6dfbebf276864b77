"""Decision insight: value of integration, frontier, scenarios, explanations, profitability, reports."""

import dataclasses
import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from instances.generator import generate
from planner.cli import app
from models import build_model, select
from planner.analysis.compare import compare_plans
from planner.analysis.frontier import frontier
from planner.analysis.integration import value_of_integration
from planner.analysis.profitability import profitability
from planner.analysis.reasons import tier_reasons
from planner.analysis.scenario import apply_scenario
from planner.contract.loading import read_tables, tables_from_mapping
from planner.contract.validation import validate
from planner.jobs.pipeline import plan_instance
from planner.report.html import write_report
from planner.solve.duals import fix_integers_from_plan, shadow_prices
from planner.solve.highs import SolveOptions, solve_model
from tests.conftest import TINY, instance_of, minimal_raw

EXACT = SolveOptions(mip_gap=0)


def exact(inst, model_options):
    """The analyses' planner: the verified solve at gap 0."""
    return plan_instance(inst, EXACT, model_options, explain=False)


def generated(seed, products=6, periods=5):
    t = generate(products=products, segments=3, suppliers=4, periods=periods, seed=seed)
    return instance_of(tables_from_mapping({k: v.to_dict(orient="records") for k, v in t.items()}))


@pytest.mark.parametrize("seed", range(4))
def test_integration_never_loses_to_either_silo(seed):
    v = value_of_integration(generated(seed), exact)
    assert v.plans["integrated"].status == "optimal"
    for versus in ("crm_led", "scm_led"):
        if v.plans[versus].status == "optimal":
            assert v.gain(versus) >= -1e-6
    row = v.kpis.set_index("kpi")
    assert set(row.columns) >= {"crm_led", "scm_led", "integrated", "integrated_vs_crm_led", "integrated_vs_scm_led"}


def test_silo_plans_use_the_tiers_they_stand_for(tiny_raw):
    inst = instance_of(tiny_raw)
    v = value_of_integration(inst, exact)
    assert v.plans["crm_led"].status == "infeasible"  # Key gold + Retail plus need 28 units in W1, Fast makes 25
    assert v.gain("crm_led") is None
    scm = dict(zip(v.plans["scm_led"].tables["segments"]["segment"], v.plans["scm_led"].tables["segments"]["tier"]))
    assert scm == {"Key": "basic", "Retail": "basic"}
    assert v.gain("scm_led") == pytest.approx(577.757319 - 560.0, abs=1e-5)


def test_frontier_is_monotone_and_marks_the_chosen_plan():
    inst = generated(1)
    front = frontier(inst, plan_instance(inst, EXACT), exact, [0.97, 0.985, 0.995, 1.0])
    ok = front.dropna(subset=["profit"]).sort_values("fill_rate")
    assert ok["chosen"].sum() == 1
    assert (ok["profit"].diff().dropna() <= 1e-6).all()  # more service never earns more than the free optimum
    chosen = ok[ok["chosen"]].iloc[0]
    assert chosen["profit"] == ok["profit"].max()
    assert any(c.startswith("fill_rate:") for c in front.columns)


def test_a_supplier_down_moves_its_orders_or_lowers_service():
    inst = generated(2)
    base = plan_instance(inst, EXACT)
    top = base.tables["suppliers"].sort_values("quantity").iloc[-1]["supplier"]
    raw = {k: df.to_dict(orient="records") for k, df in generate(products=6, segments=3, suppliers=4, periods=5, seed=2).items()}
    raw = tables_from_mapping(raw)
    other_raw = apply_scenario(raw, inst.periods, [{"type": "supplier_down", "supplier": top, "from": inst.periods[0], "to": inst.periods[-1]}])
    other = plan_instance(instance_of(other_raw), EXACT)
    assert top not in set(other.tables["orders"]["supplier"])
    diff = compare_plans(base.tables, other.tables, base.kpis, other.kpis)
    moved = diff["supplier_volume"].set_index("supplier")["volume_change"]
    lost_more = other.kpis["fill_rate"] < base.kpis["fill_rate"] - 1e-9
    others_gained = (moved.drop(top, errors="ignore") > 0).any()
    assert others_gained or lost_more
    assert moved[top] < 0
    assert other.kpis["profit"] <= base.kpis["profit"] + 1e-6


def test_scenario_changes_and_their_errors():
    raw = read_tables(TINY)
    periods = ["W1", "W2"]
    up = apply_scenario(raw, periods, [{"type": "demand_scale", "segment": "Retail", "factor": 1.2}, {"type": "price_scale", "segment": "Key", "factor": 0.5}, {"type": "capacity_scale", "supplier": "Fast", "factor": 0.5, "periods": ["W2"]}])
    q = {(r["segment"], r["period"]): (float(r["quantity"]), float(r["price"])) for r in up["demand"]}
    assert q[("Retail", "W1")][0] == pytest.approx(24) and q[("Key", "W1")][1] == pytest.approx(15)
    assert {(r["supplier"], r["period"]): r["capacity"] for r in up["supplier_capacity"]} == {("Fast", "W2"): 12.5}
    assert float(raw["demand"][2]["quantity"]) == 20  # the base is untouched
    for bad, msg in (({"type": "rain"}, "unknown type"), ({"type": "demand_scale", "segment": "Nobody", "factor": 2}, "no demand row"), ({"type": "supplier_down", "supplier": "Nope", "periods": ["W1"]}, "unknown supplier")):
        with pytest.raises(ValueError, match=msg):
            apply_scenario(raw, periods, [bad])


def _fixed_lp_profit(inst, tables):
    m = build_model(dataclasses.replace(inst, elastic=True), select())
    fix_integers_from_plan(m, inst, tables)
    r = solve_model(m, SolveOptions())
    return r.objective


@pytest.mark.parametrize("capacity", [20, 25, 30])
def test_shadow_prices_match_finite_differences(tiny_raw, capacity):
    for s in tiny_raw["suppliers"]:
        if s["supplier"] == "Fast":
            s["capacity"] = capacity
    inst = instance_of(tiny_raw)
    plan = plan_instance(inst, EXACT)
    sp = shadow_prices(inst, plan.tables)
    value = sp[(sp["limit"] == "supplier_capacity") & (sp["supplier"] == "Fast") & (sp["period"] == "W1")]["value_per_unit"]
    base = _fixed_lp_profit(inst, plan.tables)
    bumped = dict(tiny_raw, supplier_capacity=[{"supplier": "Fast", "period": "W1", "capacity": capacity + 0.5}])
    fd = (_fixed_lp_profit(instance_of(bumped), plan.tables) - base) / 0.5
    assert (float(value.iloc[0]) if len(value) else 0.0) == pytest.approx(fd, abs=1e-6)
    if capacity < 30:  # W1 demand is 30: below it, one more unit of Fast's capacity serves one more Retail unit
        assert fd == pytest.approx(12 - 1 + 2 - 10)
    else:
        assert fd == 0


def test_budget_shadow_price_matches_finite_difference():
    raw = minimal_raw(settings=[{"budget": 30}])  # 6 units at 5 a week, demand 10 at margin 15
    inst = instance_of(raw)
    plan = plan_instance(inst, EXACT)
    sp = shadow_prices(inst, plan.tables)
    b = sp[sp["limit"] == "budget"].set_index("period")["value_per_unit"]
    fd = (_fixed_lp_profit(instance_of(dict(raw, settings=[{"budget": 31}])), plan.tables) - _fixed_lp_profit(inst, plan.tables))
    # one more unit of money buys 1/5 unit, worth 20 in revenue (the model charges the unit cost from the budget)
    assert b["1"] + b["2"] == pytest.approx(fd, abs=1e-6)
    assert b["1"] == pytest.approx((20 - 5) / 5, abs=1e-6)


def test_tier_reasons_explain_the_choice(tiny_raw):
    inst = instance_of(tiny_raw)
    plan = plan_instance(inst, EXACT)
    r = tier_reasons(inst, plan, exact).set_index(["segment", "tier"])
    assert r.at[("Key", "gold"), "chosen"]
    basic = r.loc[("Key", "basic")]
    assert basic["profit_difference"] == pytest.approx(-17.757319, abs=1e-5)
    assert basic["tier_value_effect"] == pytest.approx(-100)
    assert basic["stock_and_supply_effect"] == pytest.approx(5 * 16.448536, abs=1e-4)
    parts = basic["tier_value_effect"] + basic["sales_effect"] + basic["stock_and_supply_effect"]
    assert parts == pytest.approx(basic["profit_difference"], abs=1e-6)


def test_profitability_adds_up_and_splits_by_customer(tiny_raw):
    tiny_raw["customers"] = [
        {"customer": "ACME", "segment": "Key", "share": 0.75},
        {"customer": "Initech", "segment": "Key", "share": 0.25},
        {"customer": "Shops", "segment": "Retail", "share": 1.0},
    ]
    inst = instance_of(tiny_raw)
    plan = plan_instance(inst, EXACT)
    seg = profitability(inst, plan.tables, plan.kpis)
    assert seg["profit"].sum() == pytest.approx(plan.kpis["profit"], abs=1e-6)
    assert seg.set_index("segment").at["Key", "profit"] > seg.set_index("segment").at["Retail", "profit"]
    cust = profitability(inst, plan.tables, plan.kpis, inst.customers).set_index("customer")
    assert cust.at["ACME", "profit"] == pytest.approx(3 * cust.at["Initech", "profit"])
    assert cust["profit"].sum() == pytest.approx(plan.kpis["profit"], abs=1e-6)


def test_customer_shares_over_one_are_rejected(tiny_raw):
    tiny_raw["customers"] = [{"customer": "A", "segment": "Key", "share": 0.8}, {"customer": "B", "segment": "Key", "share": 0.5}]
    errs = [str(p) for p in validate(tiny_raw).errors]
    assert any("customers" in e and "add up to 1.3" in e for e in errs)


def test_report_renders_with_the_plans_numbers(tiny_raw, tmp_path):
    inst = instance_of(tiny_raw)
    plan = plan_instance(inst, EXACT)
    front = frontier(inst, plan, exact, [0.9])
    path = write_report(tmp_path, inst, plan, {"shadow_prices": shadow_prices(inst, plan.tables), "frontier": front})
    text = path.read_text()
    assert "577.76" in text and "gold" in text and "Fast" in text
    assert "on_time_rate" in text and "late_buffer" in text  # each supplier's punctuality and the buffer it causes
    assert text.count("data:image/png;base64,") == 5  # self-contained: every chart embedded
    for png in ("inventory_vs_safety_stock", "orders_by_supplier", "service_by_segment", "profit_by_segment", "frontier"):
        assert (tmp_path / f"{png}.png").read_bytes()[:4] == b"\x89PNG"
    sheets = pd.read_excel(tmp_path / "report.xlsx", sheet_name=None)
    assert {"kpis", "orders", "inventory", "service", "segments", "suppliers", "profitability", "shadow_prices", "frontier"} <= set(sheets)


def test_manifest_makes_a_plan_reproducible(tiny_raw, tmp_path):
    plan = plan_instance(instance_of(tiny_raw), EXACT)
    plan.write(tmp_path)
    man = json.loads((tmp_path / "manifest.json").read_text())
    assert man["input_hash"] == instance_of(tiny_raw).input_hash
    assert set(man["versions"]) == {"planner", "pyomo", "highspy"}
    assert man["status"] == "optimal" and man["options"]["mip_gap"] == 0
    assert "solve_seconds" in man["timings"] and man["model_size"]["binaries"] > 0


def test_cli_insight_commands(tmp_path):
    r = CliRunner()
    res = r.invoke(app, ["value", str(TINY), "--mip-gap", "0", "--out", str(tmp_path / "v")])
    assert res.exit_code == 0, res.output
    assert "integration earns 17.76 over SCM-led" in res.output
    assert (tmp_path / "v" / "report.html").exists() and (tmp_path / "v" / "integrated" / "orders.csv").exists()
    res = r.invoke(app, ["frontier", str(TINY), "--floors", "0.85,0.9", "--out", str(tmp_path / "f")])
    assert res.exit_code == 0 and (tmp_path / "f" / "frontier.png").exists()
    scen = tmp_path / "s.json"
    scen.write_text(json.dumps({"name": "slow_down", "changes": [{"type": "supplier_down", "supplier": "Slow", "periods": ["W1"]}]}))
    res = r.invoke(app, ["scenario", str(TINY), str(scen), "--out", str(tmp_path / "sc")])
    assert res.exit_code == 0, res.output
    assert "Tiers changed" in res.output
    res = r.invoke(app, ["diff", str(tmp_path / "sc" / "base"), str(tmp_path / "sc" / "slow_down")])
    assert res.exit_code == 0 and "Order lines changed" in res.output
    res = r.invoke(app, ["frontier", str(TINY), "--floors", "0.9,1.5"])
    assert res.exit_code == 2 and "between 0 and 1" in res.output
    (tmp_path / "bad.json").write_text(json.dumps({"constraints": {"nope": {}}}))
    res = r.invoke(app, ["value", str(TINY), "--options", str(tmp_path / "bad.json")])
    assert res.exit_code == 2 and "unknown constraint family 'nope'" in res.output
    scen.write_text(json.dumps({"changes": [{"type": "rain"}]}))
    res = r.invoke(app, ["scenario", str(TINY), str(scen)])
    assert res.exit_code == 2 and "unknown type 'rain'" in res.output
    res = r.invoke(app, ["solve", str(TINY), "--out", str(tmp_path / "e"), "--explain", "--frontier"])
    assert res.exit_code == 0 and (tmp_path / "e" / "shadow_prices.csv").exists() and (tmp_path / "e" / "tier_reasons.csv").exists()
    assert (tmp_path / "e" / "frontier.png").exists() and "Trade-off frontier" in (tmp_path / "e" / "report.html").read_text()
