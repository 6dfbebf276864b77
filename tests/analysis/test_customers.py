"""Profit per customer from its own order history, after the cost of serving it (issue 16, parts 1-2)."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from planner import jobs
from planner.analysis.customers import customer_profitability, unit_costs, whale_curve
from planner.analysis.segments import abc_classes, segment_tables
from planner.cli import app
from planner.contract.crm import PRESETS, CrmData, ServeRates, read_crm
from planner.contract.inputs import Customer, Demand, Segment
from planner.contract.problems import LoadError
from planner.contract.results import records
from planner.contract.validation import load_instance
from instances.order_history import DEMO_RATES, generate_for_instance, true_profitability, write_orders
from tests.conftest import DEMO, ROOT, TINY

RATES = ServeRates(per_order=10, per_line=2, per_delivery=5, per_return=8)


def write(path, rows):
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


@pytest.fixture
def history(tmp_path):
    """Big orders twice, 100 units a line; Small orders ten times one unit and sends one back;
    Idle is in the master and ordered nothing."""
    lines = [{"order_id": f"B{i}", "customer": "Big", "product": "P", "order_date": f"2026-01-0{i}", "quantity": 100, "net_unit_price": 12} for i in (1, 2)]
    lines += [{"order_id": f"S{i}", "customer": "Small", "product": "P", "order_date": f"2026-02-{i + 10}", "quantity": 1, "net_unit_price": 12} for i in range(10)]
    lines.append({"order_id": "CS3", "customer": "Small", "product": "P", "order_date": "2026-02-20", "quantity": -1, "net_unit_price": 12})
    master = [{"customer": c, "name": f"{c} Ltd"} for c in ("Big", "Small", "Idle")]
    return write(tmp_path / "order_lines.csv", lines), write(tmp_path / "customers.csv", master)


def test_profit_per_customer_by_hand_and_the_customer_who_loses_money(history):
    crm = read_crm(*history)
    inst = load_instance(TINY)
    assert unit_costs(inst) == {"P": 4.0}  # the lowest of Fast (10) and Slow (4)
    out = customer_profitability(crm, unit_costs(inst), RATES).set_index("customer")
    big, small, idle = out.loc["Big"], out.loc["Small"], out.loc["Idle"]
    # Big: 2,400 revenue, 200 x 4 of goods, 2 orders x 10 + 2 lines x 2 + 2 deliveries x 5 to serve
    assert (big["revenue"], big["cost_of_goods"], big["cost_to_serve"], big["profit"]) == (2400, 800, 34, 1566)
    # Small: 120 revenue, one unit back (12), 9 x 4 of goods, 10 orders, 10 lines, 10 deliveries, 1 return
    assert (small["revenue"], small["returns"], small["cost_of_goods"], small["cost_to_serve"]) == (120, 12, 36, 178)
    assert small["profit"] == -106 and small["orders"] == 10 and small["return_lines"] == 1
    assert idle["profit"] == 0 and idle["orders"] == 0
    assert list(out["rank"]) == [1, 2, 3] and list(out.index) == ["Big", "Idle", "Small"]


def test_the_whale_curve_rises_above_the_total_and_falls_back_to_it(history):
    crm = read_crm(*history)
    profits = customer_profitability(crm, {"P": 4.0}, RATES)
    curve = whale_curve(profits)
    assert list(curve["cumulative_profit"]) == [1566, 1566, 1460]
    assert curve["cumulative_profit"].max() > curve["cumulative_profit"].iloc[-1] == profits["profit"].sum()
    assert list(curve["customer_share"]) == pytest.approx([1 / 3, 2 / 3, 1])


def test_the_online_retail_layout_reads_with_its_preset_and_a_cancellation_is_a_return(tmp_path):
    lines = tmp_path / "online_retail.csv"
    lines.write_text(
        "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
        "536365,P,WHITE HANGING HEART,6,12/1/2010 8:26,2.55,17850,United Kingdom\n"
        "536365,P,WHITE METAL LANTERN,6,12/1/2010 8:26,3.39,17850,United Kingdom\n"
        "C536379,P,Discount,-1,12/1/2010 9:41,27.5,14527,United Kingdom\n"
        "536380,P,JAM MAKING SET,24,12/1/2010 9:41,1.95,14527,France\n")
    master = write(tmp_path / "customers.csv", [{"CustomerID": 17850, "Country": "United Kingdom"}, {"CustomerID": 14527, "Country": "France"}])
    crm = read_crm(lines, master, "online_retail")
    assert list(crm.order_lines["customer"]) == ["17850", "17850", "14527", "14527"]
    assert str(crm.order_lines["order_date"].iloc[0]) == "2010-12-01"
    out = customer_profitability(crm, {"P": 1.0}, RATES).set_index("customer")
    assert out.loc["17850", "orders"] == 1 and out.loc["17850", "lines"] == 2 and out.loc["17850", "deliveries"] == 1
    assert out.loc["14527", "returns"] == 27.5 and out.loc["14527", "return_lines"] == 1 and out.loc["14527", "units"] == 23
    assert set(PRESETS) >= {"online_retail", "sap_sales_items", "salesforce_order_item", "odoo_sale_order_line", "dynamics365_sales_order_lines"}


def test_bad_exports_are_located_errors_naming_file_row_and_their_own_column(tmp_path):
    lines = tmp_path / "lines.csv"
    lines.write_text(
        "InvoiceNo,StockCode,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
        "1,P,6,12/1/2010 8:26,2.55,A,UK\n"
        "2,P,6,yesterday,2.55,A,UK\n"
        "3,P,6,12/1/2010 8:26,-2,A,UK\n"
        "4,P,6,12/1/2010 8:26,2,Ghost,UK\n")
    master = write(tmp_path / "master.csv", [{"CustomerID": "A"}])
    with pytest.raises(LoadError) as exc:
        read_crm(lines, master, "online_retail")
    found = {(p.table, p.row, p.column) for p in exc.value.problems}
    assert found == {("lines.csv", 2, "invoicedate"), ("lines.csv", 3, "unitprice"), ("lines.csv", 4, "customerid")}
    assert any("not a date: 'yesterday'" in p.message for p in exc.value.problems)
    with pytest.raises(LoadError) as exc:  # the export's own names without a mapping
        read_crm(lines, master)
    assert ("lines.csv", None, "order_id") in {(p.table, p.row, p.column) for p in exc.value.problems}
    with pytest.raises(LoadError, match="neither a preset"):
        read_crm(lines, master, "no_such_preset")


def test_a_product_the_supply_side_does_not_know_is_refused_before_anything_is_computed(history, tmp_path):
    lines, master = history
    rows = pd.read_csv(lines)
    rows.loc[3, "product"] = "Q"
    rows.to_csv(lines, index=False)
    request = jobs.JobRequest(kind="customers", instance=load_instance(TINY), crm=read_crm(lines, master), rates=RATES)
    [problem] = jobs.check(request)
    assert (problem.table, problem.row, problem.column) == ("order_lines", 4, "product") and "'Q'" in problem.message


def test_the_command_line_writes_the_table_the_curve_and_its_picture(history, tmp_path):
    lines, master = history
    rates = tmp_path / "rates.json"
    rates.write_text(json.dumps(RATES.model_dump()))
    out = tmp_path / "out"
    r = CliRunner().invoke(app, ["customers", str(lines), "--master", str(master), "--instance", str(TINY), "--rates", str(rates), "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert "Customers who lose money (1)" in r.output and "Small" in r.output
    table = pd.read_csv(out / "customer_profitability.csv")
    assert table["profit"].sum() == 1460 and (out / "whale_curve.csv").exists()
    assert (out / "whale_curve.png").read_bytes()[:4] == b"\x89PNG"
    bad = tmp_path / "bad-out"
    rates.write_text('{"per_order": -1}')
    r = CliRunner().invoke(app, ["customers", str(lines), "--master", str(master), "--instance", str(TINY), "--rates", str(rates), "--out", str(bad)])
    assert r.exit_code == 2 and "per_order" in r.output and "Traceback" not in r.output and not bad.exists()


def profits_of(values):
    return pd.DataFrame({"customer": [f"C{i}" for i in range(len(values))], "profit": values, "rank": range(1, len(values) + 1),
                         "units": [10.0] * len(values), "cost_to_serve": [2.0] * len(values)})


def test_abc_classes_by_cumulative_profit_with_the_loss_makers_last():
    classes = abc_classes(profits_of([50, 30, 10, 5, 5, 0, -10]))
    # earned before each: 0, 50, 80, 90, 95 % of the positive profit (100); then nothing, a loss
    assert list(classes) == ["A", "A", "B", "B", "C", "C", "C"]
    assert list(abc_classes(profits_of([50, 30, 10, 5, 5, 0, -10]), (0.5, 0.8, 0.95))) == ["A", "B", "C", "C", "D", "D", "D"]
    with pytest.raises(ValueError, match="rise strictly"):
        abc_classes(profits_of([1]), (0.9, 0.5))


def test_segments_are_tables_of_the_planning_contract():
    profits = profits_of([50, 30, 10, 5, 5, 0, -10]).assign(units=[100.0, 50, 20, 10, 10, 0, 5], cost_to_serve=[10.0, 10, 4, 2, 2, 1, 30])
    t = segment_tables(profits, abc_classes(profits))
    seg = t["segments"].set_index("segment")
    assert seg.at["A", "cost_to_serve"] == pytest.approx(20 / 150, abs=1e-6) and seg.at["C", "cost_to_serve"] == pytest.approx(33 / 15, abs=1e-6)
    for row in t["segments"].to_dict("records"):
        Segment.model_validate({k: v for k, v in row.items() if v is not None})
    for row in t["customers"].to_dict("records"):
        Customer.model_validate(row)
    assert "C5" not in set(t["customers"]["customer"])  # no units, no share; still assigned
    assert t["customer_segments"].set_index("customer").at["C5", "segment"] == "C"
    assert t["customers"].groupby("segment")["share"].sum().to_dict() == pytest.approx({"A": 1.0, "B": 1.0, "C": 1.0})


def test_the_class_the_crm_keeps_can_be_the_segment_and_an_edited_assignment_comes_back(history, tmp_path):
    lines, master = history
    m = pd.read_csv(master)
    m["customer_class"] = ["key", "retail", "retail"]
    m.to_csv(master, index=False)
    out = tmp_path / "out"
    runner = CliRunner()
    r = runner.invoke(app, ["customers", str(lines), "--master", str(master), "--instance", str(TINY), "--segments", "class", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert sorted(pd.read_csv(out / "segments.csv")["segment"]) == ["key", "retail"]
    edited = pd.read_csv(out / "customer_segments.csv")
    edited.loc[edited["customer"] == "Small", "segment"] = "key"
    edited.to_csv(tmp_path / "edited.csv", index=False)
    r = runner.invoke(app, ["customers", str(lines), "--master", str(master), "--instance", str(TINY), "--segments", str(tmp_path / "edited.csv"), "--out", str(out)])
    assert r.exit_code == 0, r.output
    shares = pd.read_csv(out / "customers.csv").set_index("customer")
    assert shares.at["Small", "segment"] == "key" and shares.at["Big", "share"] + shares.at["Small", "share"] == pytest.approx(1.0)
    edited[edited["customer"] != "Idle"].assign(customer=lambda d: d["customer"].replace("Big", "Nobody")).to_csv(tmp_path / "bad.csv", index=False)
    r = runner.invoke(app, ["customers", str(lines), "--master", str(master), "--instance", str(TINY), "--segments", str(tmp_path / "bad.csv")])
    assert r.exit_code == 2 and "'Nobody' is not in the customer master" in r.output and "have no segment" in r.output
    r = runner.invoke(app, ["customers", str(lines), "--master", str(master), "--instance", str(TINY), "--cutoffs", "0.9,0.5"])
    assert r.exit_code == 2 and "rise strictly" in r.output


def test_the_generated_order_history_has_whales_loss_makers_and_returns_and_is_seeded(tmp_path):
    a = generate_for_instance(DEMO, customers=300, seed=3)
    b = generate_for_instance(DEMO, customers=300, seed=3)
    pd.testing.assert_frame_equal(a["order_lines"], b["order_lines"])
    assert not a["order_lines"].equals(generate_for_instance(DEMO, customers=300, seed=4)["order_lines"])
    write_orders(a, tmp_path / "crm")
    crm = read_crm(tmp_path / "crm" / "order_lines.csv", tmp_path / "crm" / "customers.csv")
    profits = customer_profitability(crm, unit_costs(load_instance(DEMO)), ServeRates(**DEMO_RATES))
    revenue = profits["revenue"].sort_values(ascending=False)
    assert revenue.head(len(revenue) // 5).sum() > 0.6 * revenue.sum()  # a fifth of the customers buy most
    assert (profits["profit"] < 0).sum() >= 0.1 * len(profits)  # the cost to serve makes some lose money
    curve = whale_curve(profits)
    assert curve["cumulative_profit"].max() > 1.05 * curve["cumulative_profit"].iloc[-1]
    assert (crm.order_lines["quantity"] < 0).any() and crm.order_lines["order_id"][crm.order_lines["quantity"] < 0].str.startswith("C").all()


def _realised_and_true(seed: int, weeks: int) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    history = generate_for_instance(DEMO, customers=500, weeks=weeks, seed=seed, truth=True)
    lines = history["order_lines"].assign(returned_quantity=0.0, delivered_quantity=None, requested_date=None)
    costs = unit_costs(load_instance(DEMO))
    realised = customer_profitability(CrmData(lines, history["customers"]), costs, ServeRates(**DEMO_RATES))
    return realised, true_profitability(history, costs, DEMO_RATES), history


def test_the_generators_truth_is_what_its_history_realises():
    """The expected activity the generator reports is what its draws give on average: over 500
    customers the realised lines are within 2 % of the expected, return lines within 10 %, and
    realised profit follows expected profit customer by customer."""
    realised, true, history = _realised_and_true(seed=0, weeks=52)
    lines = history["order_lines"]
    expected = history["true_customers"][["lines", "return_lines"]].sum()
    assert (lines["quantity"] > 0).sum() == pytest.approx(expected["lines"], rel=0.02)
    assert (lines["quantity"] < 0).sum() == pytest.approx(expected["return_lines"], rel=0.10)
    both = realised.set_index("customer")["profit"].align(true.set_index("customer")["profit"])
    assert both[0].corr(both[1]) > 0.95


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_abc_classes_from_two_years_of_history_match_the_true_profit_ranking(seed):
    """Issue 16's target: the ABC classes cut from realised profit are the classes of the true
    (expected) profit ranking for at least 95 % of customers, with two years of history. One year
    gives 94.4-95.8 % on seeds 0-4 (docs/claims.md): the noise of a year of order lines moves
    customers near a cut-off."""
    realised, true, _ = _realised_and_true(seed=seed, weeks=104)
    measured, truth = abc_classes(realised), abc_classes(true)
    assert (measured.reindex(truth.index) == truth).mean() >= 0.95


def test_the_readme_third_command_runs(tmp_path, monkeypatch):
    """The README's command, word for word, run in a scratch folder (its paths are relative):
    history, prepared instance, plan."""
    readme = (ROOT / "README.md").read_text()
    block = readme.split("**From CRM and ERP exports to a plan.**", 1)[1].split("```bash\n", 1)[1].split("```", 1)[0].strip()
    commands = [c.strip().removeprefix(".venv/bin/planner ").split() for c in block.split("&&")]
    assert [c[0] for c in commands] == ["generate-orders", "prepare", "solve"]
    (tmp_path / "instances").symlink_to(ROOT / "instances")
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    for args in commands:
        r = runner.invoke(app, args)
        assert r.exit_code == 0, r.output
    assert len(pd.read_csv(tmp_path / "out" / "crm" / "customers.csv")) == 500
    inst = load_instance(tmp_path / "out" / "prepared")
    assert set(inst.segments["segment"]) == {"A", "B", "C"} and inst.periods[0] == "2026-W48" and len(inst.periods) == 13
    forecasts = pd.read_csv(tmp_path / "out" / "prepared" / "derivation" / "demand_forecasts.csv")
    assert set(forecasts["demand_class"]) <= {"smooth", "erratic", "intermittent", "lumpy"}
    assert forecasts["mase"].mean() < forecasts["benchmark_mase"].mean() and (forecasts["std"] > 0).all()
    for row in inst.demand.head(50).to_dict("records"):
        Demand.model_validate(row)
    kpis = pd.read_csv(tmp_path / "out" / "prepared-plan" / "kpis.csv").set_index("kpi")["value"]
    assert kpis["status"] in ("optimal", "feasible")
    assert runner.invoke(app, ["generate-orders", str(tmp_path / "x"), "--instance", str(tmp_path)]).exit_code == 2


def test_exports_read_alike_from_csv_xlsx_and_json(history, tmp_path):
    lines, master = history
    rows = pd.read_csv(lines)
    rows.to_excel(tmp_path / "order_lines.xlsx", index=False)
    (tmp_path / "order_lines.json").write_text(rows.to_json(orient="records"))
    pd.read_csv(master).to_excel(tmp_path / "customers.xlsx", index=False)
    expected = customer_profitability(read_crm(lines, master), {"P": 4.0}, RATES)
    for order_lines, customers in ((tmp_path / "order_lines.xlsx", tmp_path / "customers.xlsx"), (tmp_path / "order_lines.json", master)):
        got = customer_profitability(read_crm(order_lines, customers), {"P": 4.0}, RATES)
        pd.testing.assert_frame_equal(got, expected)


def test_many_customers_shares_add_up_to_at_most_one_after_a_round_trip():
    """Found at scale (benchmarks/prepare_scale.py): shares are written with 10 decimals, and 60
    shares of 1/60 each rounded up (0.0166666667) add up to 1 + 2e-9, which the contract refuses."""
    n = 60
    profits = pd.DataFrame({"customer": [f"c{i}" for i in range(n)], "profit": 1.0, "rank": range(1, n + 1), "units": 7.0, "cost_to_serve": 1.0})
    t = segment_tables(profits, pd.Series("A", index=profits["customer"]))
    back = pd.DataFrame(records(t["customers"]))
    assert back["share"].sum() <= 1 and back["share"].sum() > 1 - n * 1e-10
