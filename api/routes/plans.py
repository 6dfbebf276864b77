"""The plan of a run and what is read off it: tables (JSON, CSV, XLSX), report, profitability, manifest, differences."""

from __future__ import annotations

import io
import zipfile
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy.orm import Session

from api import db
from api.auth import Principal, Reader
from api.deps import SessionDep
from api.problems import HTTPProblem
from api.routes.common import AUTH, find_run, plan_document, problem_responses
from api.schemas import DiffOut, Manifest, PlanOut, ProfitabilityOut
from planner import jobs
from planner.analysis.profitability import profitability
from planner.contract.instance import Instance
from planner.contract.loading import tables_from_mapping
from planner.contract.results import Plan, Result, records, write_workbook
from planner.contract.validation import validate
from planner.report.html import report_html

router = APIRouter(prefix="/v1", tags=["plans"])

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def stored_result(s: Session, who: Principal, run_id: str) -> tuple[db.Run, Result]:
    """The run and its result, when it has a plan (409 otherwise)."""
    run = find_run(s, who, run_id)
    doc = run.result or {}
    if doc.get("status") not in ("optimal", "feasible"):
        raise HTTPProblem(409, "No plan", f"run is {run.status}" + (f" ({run.reason}: {run.detail})" if run.reason else ""), run_status=run.status)
    return run, Result.from_json_dict(doc)


def run_instance(run: db.Run) -> Instance:
    return validate(tables_from_mapping(run.instance)).instance


@router.get("/runs/{run_id}/plan", response_model=PlanOut, summary="The plan: JSON tables, or ?format=csv (zip) / xlsx",
            responses={200: {"content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}, XLSX: {"schema": {"type": "string", "format": "binary"}}},
                             "description": "The plan (JSON by default)"}, **problem_responses(*AUTH, 404, 409, 422)})
def get_plan(run_id: str, who: Reader, s: SessionDep, format: Annotated[Literal["json", "csv", "xlsx"], Query(description="json, csv (a zip of CSV files) or xlsx")] = "json"):
    """A cancelled run's plan is the best found before it stopped (``note`` says so)."""
    run, result = stored_result(s, who, run_id)
    if format == "json":
        return JSONResponse(plan_document(run, result))
    return plan_file(run, result, format)


def plan_file(run: db.Run, result: Result, format: Literal["csv", "xlsx"]) -> Response:
    """The plan's tables as a download: a zip of CSV files, or one workbook."""
    tables = result.plan.all_tables()
    buf = io.BytesIO()
    if format == "csv":
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            for name, df in tables.items():
                zf.writestr(f"{name}.csv", df.to_csv(index=False))
        return Response(buf.getvalue(), media_type="application/zip", headers={"Content-Disposition": f'attachment; filename="plan-{run.id}.zip"'})
    write_workbook(buf, tables)
    return Response(buf.getvalue(), media_type=XLSX, headers={"Content-Disposition": f'attachment; filename="plan-{run.id}.xlsx"'})


@router.get("/runs/{run_id}/report", response_class=HTMLResponse, summary="The plan's report: one self-contained HTML page with charts",
            responses=problem_responses(*AUTH, 404, 409))
def get_report(run_id: str, who: Reader, s: SessionDep):
    run, result = stored_result(s, who, run_id)
    extra = {name: df for name, df in result.tables.items() if len(df) and name != "value_of_integration_segments"}
    return HTMLResponse(report_html(run_instance(run), result.plan, extra))


@router.get("/runs/{run_id}/profitability", response_model=ProfitabilityOut, summary="Profit per segment (and per customer) with all costs allocated",
            responses=problem_responses(*AUTH, 404, 409))
def get_profitability(run_id: str, who: Reader, s: SessionDep):
    run, result = stored_result(s, who, run_id)
    inst, plan = run_instance(run), result.plan
    out = {"segments": records(profitability(inst, plan.tables, plan.kpis))}
    if len(inst.customers):
        out["customers"] = records(profitability(inst, plan.tables, plan.kpis, inst.customers))
    return JSONResponse(out)


@router.get("/runs/{run_id}/manifest", response_model=Manifest, summary="What it takes to re-run and compare the plan",
            responses=problem_responses(*AUTH, 404, 409))
def get_manifest(run_id: str, who: Reader, s: SessionDep):
    run = find_run(s, who, run_id)
    if not run.result:
        raise HTTPProblem(409, "No result yet", f"run is {run.status}")
    return JSONResponse(run.result.get("manifest", {}))


@router.post("/plans/diff", response_model=DiffOut, summary="Compare the plans of two runs", responses=problem_responses(*AUTH, 404, 409, 422))
def diff_plans(who: Reader, s: SessionDep, base: Annotated[str, Query(description="Run id of the base plan")], other: Annotated[str, Query(description="Run id of the other plan")]):
    plans: list[Plan] = [stored_result(s, who, run_id)[1].plan for run_id in (base, other)]
    result = jobs.run(jobs.JobRequest(kind="diff", base=plans[0], other=plans[1]))
    return JSONResponse({name.removeprefix("diff_"): records(df) for name, df in result.tables.items()})
