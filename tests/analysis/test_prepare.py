"""One step from exports to a plan (issue 16, parts 5 and 6): planner prepare writes a full, valid
planning instance from the CRM history and the supply side's tables, and planner solve plans it."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest
from typer.testing import CliRunner

from planner.analysis.tiers import MENUS, RETENTION_GAIN, tier_menus
from planner.cli import app
from planner.contract.validation import load_instance
from tests.conftest import TINY


def test_tier_values_from_customers_margin_and_retention_by_hand():
    profits = pd.DataFrame({"customer": ["a", "b", "c"], "revenue": [1000.0, 600, 100], "returns": [0.0, 100, 0], "cost_of_goods": [400.0, 200, 150]})
    segment_of = pd.Series({"a": "A", "b": "A", "c": "C"})
    tiers, why = tier_menus(profits, segment_of, history_weeks=26, horizon_weeks=13)
    a = why.set_index(["segment", "tier"])
    # A: 2 customers, margin (600 + 300) / 2 = 450 in 26 weeks = 900 a year; gold keeps 5 % more: 2 x 900 x 0.05 x 13/52 = 22.5
    assert a.at[("A", "gold"), "tier_value"] == 22.5 and a.at[("A", "standard"), "tier_value"] == 0
    assert a.at[("A", "silver"), "formula"] == "2 customers x 900.00 margin a year x 2.0% retention x 13/52 = 9.00"
    assert a.at[("C", "gold"), "tier_value"] == 0  # C loses money on its goods: no margin to keep
    t = tiers.set_index(["segment", "tier"])
    assert [(t.at[("A", n), "fill_rate"], t.at[("A", n), "cycle_service_level"]) for n, _, _ in MENUS["A"]] == [(fr, csl) for _, fr, csl in MENUS["A"]]
    assert set(RETENTION_GAIN) == {n for n, _, _ in MENUS["A"]}


@pytest.fixture
def crm(tmp_path):
    runner = CliRunner()
    r = runner.invoke(app, ["generate-orders", str(tmp_path / "crm"), "--instance", str(TINY), "--customers", "60", "--weeks", "40", "--seed", "5"])
    assert r.exit_code == 0, r.output
    return tmp_path / "crm"


def test_prepare_writes_a_valid_instance_that_solve_plans(crm, tmp_path):
    runner = CliRunner()
    out = tmp_path / "prepared"
    r = runner.invoke(app, ["prepare", str(crm), "--scm", str(TINY), "--out", str(out), "--weeks", "6", "--start", "2027-W01"])
    assert r.exit_code == 0, r.output
    assert "not used: demand, segments, service_tiers" in " ".join(r.output.split())
    inst = load_instance(out)  # valid as it stands
    assert inst.periods == ["2027-W01", "2027-W02", "2027-W03", "2027-W04", "2027-W05", "2027-W06"]
    assert set(inst.segments["segment"]) <= {"A", "B", "C"} and len(inst.customers) > 0
    assert set(inst.service_tiers["tier"]) == {"standard", "silver", "gold"}
    assert (inst.service_tiers.set_index("tier").loc["standard", "fill_rate"] == 0).all()  # a plan whatever the supply side can do
    for name in ("report.html", "derivation.xlsx", "customer_profitability.csv", "demand_forecasts.csv", "tier_values.csv"):
        assert (out / "derivation" / name).is_file(), name
    report = (out / "derivation" / "report.html").read_text()
    assert "data:image/png;base64," in report and "MASE" in report and "retention" in report
    r = runner.invoke(app, ["solve", str(out), "--out", str(tmp_path / "plan"), "--time-limit", "30"])
    assert r.exit_code == 0, r.output
    assert pd.read_csv(tmp_path / "plan" / "kpis.csv").set_index("kpi").at["status", "value"] in ("optimal", "feasible")


def test_prepare_refuses_what_it_cannot_use_and_writes_nothing(crm, tmp_path):
    runner = CliRunner()
    scm = tmp_path / "scm"
    shutil.copytree(TINY, scm)
    (scm / "products.csv").unlink()
    r = runner.invoke(app, ["prepare", str(crm), "--scm", str(scm), "--out", str(tmp_path / "a")])
    assert r.exit_code == 2 and "products" in r.output and "required table is missing" in r.output and not (tmp_path / "a").exists()
    lines = pd.read_csv(crm / "order_lines.csv")
    lines.loc[2, "product"] = "UNKNOWN"
    lines.to_csv(crm / "order_lines.csv", index=False)
    r = runner.invoke(app, ["prepare", str(crm), "--scm", str(TINY), "--out", str(tmp_path / "b")])
    assert r.exit_code == 2 and "order_lines, row 3, column product" in r.output and not (tmp_path / "b").exists()
    for start in ("next week", "2026-W60"):
        r = runner.invoke(app, ["prepare", str(crm), "--scm", str(TINY), "--out", str(tmp_path / "c"), "--start", start])
        assert r.exit_code == 2 and "ISO week" in r.output and "Traceback" not in r.output
    r = runner.invoke(app, ["prepare", str(crm), "--scm", str(TINY), "--out", str(tmp_path / "c"), "--cutoffs", "0.9,0.2"])
    assert r.exit_code == 2 and "rise strictly" in r.output and not (tmp_path / "c").exists()


def test_prepare_with_the_statsforecast_engine(crm, tmp_path):
    """--forecaster statsforecast: the same instance's shape, demand from statsforecast's models;
    an engine that does not exist is refused before anything is written."""
    runner = CliRunner()
    out = tmp_path / "prepared-sf"
    r = runner.invoke(app, ["prepare", str(crm), "--scm", str(TINY), "--out", str(out), "--weeks", "4", "--forecaster", "statsforecast"])
    assert r.exit_code == 0, r.output
    methods = set(pd.read_csv(out / "derivation" / "demand_forecasts.csv")["method"])
    assert methods and all(m.startswith("sf.") or m in ("naive", "mean (short history)") for m in methods), methods
    assert len(load_instance(out).demand) > 0
    r = runner.invoke(app, ["prepare", str(crm), "--scm", str(TINY), "--out", str(tmp_path / "no"), "--forecaster", "prophet"])
    assert r.exit_code == 2 and "forecaster" in r.output and not (tmp_path / "no").exists()
