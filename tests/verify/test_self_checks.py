"""Runtime self-checks on every plan: the profit is the solver's objective, below its bound, and
"optimal" only within the gap asked for — otherwise the run is an error that gives the numbers."""

import pytest

from typer.testing import CliRunner

from planner.cli import app
from planner.jobs import pipeline
from planner.jobs.pipeline import plan_instance
from planner.solve.highs import SolveOptions
from planner.verify import check_outcome
from tests.conftest import TINY, instance_of

EXACT = SolveOptions(mip_gap=0)


def test_a_consistent_outcome_passes():
    assert check_outcome("optimal", 100.0, 100.0, 100.0, 100.0, 0.0, 1000.0) == []
    assert check_outcome("feasible", 100.0, 100.0, 100.0, 110.0, 1e-3, 1000.0) == []  # a gap is fine when not called optimal


def test_each_inconsistency_is_named_with_its_numbers():
    (msg,) = check_outcome("feasible", 100.0, 100.0, 90.0, 120.0, 1e-3, 1000.0)
    assert "100.000000" in msg and "90.000000" in msg and "solver's objective" in msg
    (msg,) = check_outcome("feasible", 100.0, 100.0, 100.0, 95.0, 1e-3, 1000.0)
    assert "above the solver's bound 95.000000" in msg
    (msg,) = check_outcome("optimal", 100.0, 100.0, 100.0, 101.0, 1e-3, 1000.0)
    assert "reported optimal" in msg and "1.000000%" in msg and "0.100000%" in msg
    assert check_outcome("optimal", 100.0, 100.0, 100.0, None, 1e-3, 1000.0)  # optimal without a bound is not proven


def tampered(monkeypatch, objective_shift=0.0, bound_shift=0.0):
    real = pipeline.solve_model

    def solve(m, options, **kw):
        result = real(m, options, **kw)
        honest = result.objective_of
        result.objective_of = lambda: honest() + objective_shift
        result.bound = result.bound + bound_shift
        return result

    monkeypatch.setattr(pipeline, "solve_model", solve)


def test_a_wrong_objective_makes_the_run_an_error(tiny_raw, monkeypatch):
    tampered(monkeypatch, objective_shift=-25.0)
    plan = plan_instance(instance_of(tiny_raw), EXACT)
    assert plan.status == "error"
    text = " ".join(plan.messages)
    assert "self-checks" in text and "577.7573" in text and "552.757319" in text  # recomputed from 6-decimal tables


def test_a_wrong_bound_makes_the_run_an_error(tiny_raw, monkeypatch):
    tampered(monkeypatch, bound_shift=-10.0)
    plan = plan_instance(instance_of(tiny_raw), EXACT)
    assert plan.status == "error" and "above the solver's bound 567.757319" in " ".join(plan.messages)


def test_optimal_outside_the_gap_asked_for_is_an_error(tiny_raw, monkeypatch):
    tampered(monkeypatch, bound_shift=+10.0)  # HiGHS says optimal; the bound it reports is 1.7 % away
    plan = plan_instance(instance_of(tiny_raw), EXACT)
    assert plan.status == "error" and "reported optimal" in " ".join(plan.messages)


def test_an_honest_run_passes(tiny_raw):
    plan = plan_instance(instance_of(tiny_raw), EXACT)
    assert plan.status == "optimal" and plan.kpis["profit"] == pytest.approx(577.757319, abs=1e-6)


REJECTS_EVERY_PLAN = '''
from planner.contract.checks import FamilyCheck
NAME = "rejects"
SUMMARY = "builds nothing; its check rejects every plan"
KEEPS_ORDER_BOUND = True
def build(m, inst, params):
    pass
def verify(inst, tables, params):
    check = FamilyCheck()
    check.violation("rejects", "everything", 1.0, "this family rejects every plan")
    return check
'''


def test_a_plan_the_verifier_rejects_is_an_error_and_not_written_as_a_plan(tiny_raw, tmp_path):
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "rejects.py").write_text(REJECTS_EVERY_PLAN)
    plan = plan_instance(instance_of(tiny_raw), EXACT, {"constraints": {"rejects": {}}}, [tmp_path / "models"])
    assert plan.status == "error" and not plan.has_plan
    assert "the verifier rejected the plan" in " ".join(plan.messages) and "this family rejects every plan" in " ".join(plan.messages)
    out = plan.write(tmp_path / "out")
    assert not (out / "orders.csv").exists() and not (out / "plan.xlsx").exists()  # nothing an ERP import would pick up
    assert (out / "rejected" / "orders.csv").exists() and (out / "kpis.csv").exists()
    # the command line: exit code 1, the reason printed, nothing written where a plan goes
    (tmp_path / "options.json").write_text('{"constraints": {"rejects": {}}}')
    r = CliRunner().invoke(app, ["solve", str(TINY), "--options", str(tmp_path / "options.json"), "--models", str(tmp_path / "models"),
                                 "--out", str(tmp_path / "cli")])
    assert r.exit_code == 1 and "this family rejects every plan" in r.output and "Traceback" not in r.output
    assert not (tmp_path / "cli" / "orders.csv").exists() and (tmp_path / "cli" / "rejected" / "orders.csv").exists()
