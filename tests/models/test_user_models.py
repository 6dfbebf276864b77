"""Analysts add families in their own folder; mistakes are clear errors naming file and family."""

import dataclasses
import json
import os

import pandas as pd
import pytest
from typer.testing import CliRunner

from models import OptionsError, registry, select
from planner.cli import app
from planner.contract.instance import OrderBounds
from planner.contract.loading import read_tables
from planner.jobs.pipeline import plan_instance
from planner.jobs.settings import PlannerSettings
from planner.solve.highs import SolveOptions
from planner.verify import verify_plan
from tests.conftest import ROOT, instance_of, minimal_raw

EXAMPLES = ROOT / "examples" / "models"
runner = CliRunner()


def busy_raw():
    """Three products with an order cost low enough that each is ordered every week."""
    return minimal_raw(
        products=[{"product": p, "holding_cost": 3} for p in "XYZ"],
        demand=[{"segment": "A", "product": p, "period": str(t), "quantity": 10, "price": 20} for p in "XYZ" for t in (1, 2, 3)],
        supplier_products=[{"supplier": "K", "product": p, "unit_cost": 5, "order_cost": 1} for p in "XYZ"],
    )


def test_the_example_family_is_picked_up_and_changes_the_plan():
    inst = instance_of(busy_raw())
    free = plan_instance(inst, SolveOptions(mip_gap=0), None, [EXAMPLES])
    assert free.tables["orders"].groupby("period").size().max() == 3
    rule = {"constraints": {"max_orders_per_period": {"max_orders": 2}}}
    plan = plan_instance(inst, SolveOptions(mip_gap=0), rule, [EXAMPLES])
    assert plan.status == "optimal"
    assert plan.tables["orders"].groupby("period").size().max() <= 2
    assert plan.kpis["holding_cost"] > free.kpis["holding_cost"]  # something is now ordered ahead
    # its own verify check runs inside the independent verifier
    fams = select(rule, [EXAMPLES])
    found = verify_plan(inst, free.tables, free.kpis, fams).violations
    assert [v.check for v in found] == ["max_orders_per_period"] * 3


def test_models_path_environment_variable_is_read_by_the_faces_only(monkeypatch, tmp_path):
    other = tmp_path / "more"
    other.mkdir()
    monkeypatch.setenv("PLANNER_MODELS_PATH", os.pathsep.join([str(EXAMPLES), str(other)]))
    assert PlannerSettings().models_dirs() == [EXAMPLES, other]  # split like the platform's PATH
    assert "max_orders_per_period" not in registry()  # the model layer reads no environment
    r = runner.invoke(app, ["models", "list"])
    assert r.exit_code == 0 and "max_orders_per_period" in r.output


def write(tmp_path, name, body):
    (tmp_path / name).write_text(body)
    return tmp_path


GOOD_HEAD = 'import pyomo.environ as pyo\nNAME = "{name}"\nSUMMARY = "test family"\n\n'



@pytest.mark.parametrize(
    "body,needle",
    [
        ("raise RuntimeError('boom at import')\n", "failed to load: RuntimeError: boom at import"),
        ("x = 1\n", "does not define NAME, SUMMARY, build"),
        (GOOD_HEAD.format(name="two_args") + "def build(m, inst):\n    pass\n", "build must take (m, inst, params)"),
        (GOOD_HEAD.format(name="single_sourcing") + "def build(m, inst, params):\n    pass\n", "already defined by models.single_sourcing"),
    ],
)
def test_broken_family_files_are_reported_with_their_file(tmp_path, body, needle):
    write(tmp_path, "broken.py", body)
    with pytest.raises(OptionsError) as exc:
        registry([tmp_path])
    assert needle in str(exc.value)
    assert "broken.py" in str(exc.value)


@pytest.mark.parametrize(
    "build,needle",
    [
        ("    raise KeyError('no_such_column')\n", "family 'bad' failed to build: KeyError"),
        ("    m.bad_row = pyo.Constraint(expr=m.inventory['P', 0] * m.inventory['P', 1] <= 5)\n", "constraint bad_row is not linear"),
        ("    m.bad_obj = pyo.Objective(expr=m.inventory['P', 0])\n", "declares an Objective"),
        ("    m.profit_terms['bonus'] = m.inventory['P', 0]\n", "profit term 'bonus' must be (+1 or -1, expression)"),
    ],
)
def test_a_family_that_builds_something_invalid_fails_before_the_solve(tmp_path, build, needle):
    write(tmp_path, "bad.py", GOOD_HEAD.format(name="bad") + "def build(m, inst, params):\n" + build)
    inst = instance_of(minimal_raw())
    with pytest.raises(OptionsError) as exc:
        plan_instance(inst, SolveOptions(), {"constraints": {"bad": {}}}, [tmp_path])
    assert needle in str(exc.value) and "bad.py" in str(exc.value)


def test_cli_solve_with_options_file_and_models_folder(tmp_path):
    inst_dir = tmp_path / "inst"
    inst_dir.mkdir()
    for name, rows in busy_raw().items():
        pd.DataFrame(rows).to_csv(inst_dir / f"{name}.csv", index=False)
    opts = tmp_path / "options.json"
    opts.write_text(json.dumps({"constraints": {"max_orders_per_period": {"max_orders": 2}}}))
    r = runner.invoke(app, ["solve", str(inst_dir), "--options", str(opts), "--models", str(EXAMPLES), "--out", str(tmp_path / "plan")])
    assert r.exit_code == 0, r.output
    # the plan carries its options, so `verify` checks the same families
    r = runner.invoke(app, ["verify", str(inst_dir), str(tmp_path / "plan"), "--models", str(EXAMPLES)])
    assert r.exit_code == 0, r.output


def test_cli_bad_options_exit_2_without_traceback(tmp_path):
    opts = tmp_path / "o.json"
    opts.write_text(json.dumps({"constraints": {"max_supplier_share": {"share": "most"}, "nope": {}}}))
    r = runner.invoke(app, ["solve", str(ROOT / "instances" / "tiny"), "--options", str(opts)])
    assert r.exit_code == 2
    assert "constraints.max_supplier_share.share" in r.output and "unknown constraint family 'nope'" in r.output
    assert "Traceback" not in r.output
    opts.write_text("{not json")
    r = runner.invoke(app, ["solve", str(ROOT / "instances" / "tiny"), "--options", str(opts)])
    assert r.exit_code == 2 and "is not valid JSON" in r.output


def test_cli_models_list_and_show():
    r = runner.invoke(app, ["models", "list", "--models", str(EXAMPLES)])
    assert r.exit_code == 0
    for name in ("safety_stock (on)", "orders (always on)", "single_sourcing (off)", "max_orders_per_period (off)"):
        assert name in r.output
    r = runner.invoke(app, ["models", "show", "safety_stock"])
    assert r.exit_code == 0 and "SS[p,t] = sum_s sum_{j in J_s} k[s,j] * sigma[s,p,t] * z[s,j]" in r.output
    r = runner.invoke(app, ["models", "show", "max_supplier_share"])
    assert "share (default 0.5, fraction 0..1)" in r.output
    r = runner.invoke(app, ["models", "show", "nope"])
    assert r.exit_code == 2 and "unknown constraint family" in r.output


POOLED = ROOT / "examples" / "pooled_safety_stock"
Z95 = 1.6448536269514722  # Phi^-1(0.95)


def pooling_raw():
    """The tiny instance with Retail's W2 demand uncertain too, and gold worth keeping even when pooled."""
    raw = read_tables(ROOT / "instances" / "tiny")
    for r in raw["demand"]:
        if r["segment"] == "Retail" and r["period"] == "W2":
            r["std"] = 10
    for t in raw["service_tiers"]:
        if t["tier"] == "gold":
            t["tier_value"] = 200
    return raw


def test_an_edited_core_family_replaces_the_core_one_and_brings_its_check(tmp_path):
    """docs/model-guide.md, "Edit a core family": safety stock pooled across segments, from a user folder."""
    reg = registry([POOLED])
    assert list(reg).index("safety_stock") == list(registry()).index("safety_stock")  # the core family's place
    assert reg["safety_stock"].source.endswith("safety_stock.py") and reg["safety_stock"].default_on
    inst = instance_of(pooling_raw())
    plan = plan_instance(inst, SolveOptions(mip_gap=0), None, [POOLED])
    assert plan.status == "optimal", plan.messages  # verified by the edited family's own check
    inv = plan.tables["inventory"].set_index("period")
    pooled = (10**2 + 10**2) ** 0.5 * max(Z95, 0.0)  # Key gold (z 1.645) and Retail basic (z 0) pool their sigma
    assert inv.at["W2", "safety_stock"] == pytest.approx(pooled, abs=1e-5)
    assert inv.at["W2", "on_hand"] >= pooled - 1e-6
    # its KEEPS_ORDER_BOUND and max_stock keep the optimum: the same profit as a build with no derived order bound
    naive = plan_instance(dataclasses.replace(inst, bounds=OrderBounds(naive=True)), SolveOptions(mip_gap=0), None, [POOLED])
    assert plan.kpis["profit"] == pytest.approx(naive.kpis["profit"], rel=1e-6)
    # the core family's check would have rejected this plan: the rule moved with the family
    core = {v.check for v in verify_plan(inst, plan.tables, plan.kpis).violations}
    assert core == {"safety_stock_value"}
    additive = plan_instance(inst, SolveOptions(mip_gap=0))
    assert additive.tables["inventory"].set_index("period").at["W2", "safety_stock"] == pytest.approx(10 * Z95, abs=1e-5)
    # and the command line checks a written plan with the same family
    plan.write(tmp_path / "pooled")
    (tmp_path / "inst").mkdir()
    for name, rows in pooling_raw().items():
        pd.DataFrame(rows).to_csv(tmp_path / "inst" / f"{name}.csv", index=False)
    assert runner.invoke(app, ["verify", str(tmp_path / "inst"), str(tmp_path / "pooled"), "--models", str(POOLED)]).exit_code == 0
    r = runner.invoke(app, ["verify", str(tmp_path / "inst"), str(tmp_path / "pooled")])
    assert r.exit_code == 1 and "safety_stock_value" in r.output


def test_a_user_family_may_only_replace_a_built_in_one_that_it_names(tmp_path):
    body = (POOLED / "safety_stock.py").read_text().replace("REPLACES_BUILTIN = True", "")
    (tmp_path / "mine.py").write_text(body)
    with pytest.raises(OptionsError, match="already defined by models.safety_stock .*REPLACES_BUILTIN"):
        registry([tmp_path])
