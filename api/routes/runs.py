"""Planning runs: submit, list, status, plan, input, cancel, and the synchronous solve."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import json
import zipfile
from typing import Annotated

import pandas as pd
from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from api import db
from api.auth import Principal
from api.deps import check_submission, read_principal, read_submission, request_hash, write_principal
from api.problems import Problem
from api.schemas import RunList, RunOut, RunStatus

router = APIRouter(prefix="/v1", tags=["runs"])

SUBMIT_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/SubmitRun"}},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "files": {"type": "array", "items": {"type": "string", "format": "binary"}, "description": "CSV files named after their tables, or one .xlsx workbook"},
                        "options": {"type": "string", "description": "RunOptions as JSON"},
                    },
                    "required": ["files"],
                }
            },
        },
    }
}


def _utc(t):
    """SQLite hands datetimes back without their zone; they were written in UTC."""
    return t.replace(tzinfo=dt.timezone.utc) if t is not None and t.tzinfo is None else t


def run_out(run: db.Run, request: Request) -> RunOut:
    base = str(request.url_for("get_run", run_id=run.id))
    result = run.result or {}
    kpis = result.get("kpis", {})
    return RunOut(
        id=run.id, status=run.status, reason=run.reason, detail=run.detail, name=run.name, tags=run.tags or [],
        options=run.options, plan_status=result.get("status"), profit=kpis.get("profit"), mip_gap=kpis.get("mip_gap"),
        progress=run.progress, attempts=run.attempts, cancel_requested=run.cancel_requested,
        created_at=_utc(run.created_at), started_at=_utc(run.started_at), finished_at=_utc(run.finished_at), solve_seconds=run.solve_seconds,
        explanation=result.get("explanation"),
        links={"self": base, "plan": base + "/plan", "input": base + "/input", "cancel": base + "/cancel"},
    )


def _settings(request: Request):
    return request.app.state.settings


def _models_dirs(request: Request):
    return request.app.state.executor.conf.get("models_dirs")


async def _accept(request: Request, who: Principal, sync: bool = False) -> tuple[db.Run, bool]:
    """Validate, store (committed before answering) and submit one run; honours Idempotency-Key."""
    raw, options = await read_submission(request)
    settings = _settings(request)
    limit = options.time_limit if options.time_limit is not None else settings.default_time_limit
    if sync:
        limit = min(limit, settings.sync_time_limit)
    if limit > settings.max_time_limit:
        raise Problem(422, "Invalid request", errors=[{"table": None, "row": None, "column": "options.time_limit", "message": f"at most {settings.max_time_limit:g} seconds"}])
    await asyncio.to_thread(check_submission, raw, options, _models_dirs(request))
    stored_options = {**options.model_dump(mode="json"), "time_limit": limit}
    key = request.headers.get("idempotency-key")
    digest = request_hash(raw, options)
    url = settings.database_url

    def store() -> tuple[db.Run, bool]:
        with db.session(url) as s:
            if key:
                old = s.scalars(select(db.Run).where(db.Run.tenant == who.tenant, db.Run.idempotency_key == key)).first()
                if old is not None:
                    return old, False
            run = db.Run(
                tenant=who.tenant, name=options.name, tags=options.tags, status="queued", idempotency_key=key,
                request_hash=digest, instance=raw, options=stored_options, sync=sync, log="",
            )
            run.log = f"{db.utcnow().isoformat(timespec='seconds')} accepted\n"
            s.add(run)
            try:
                s.commit()
            except IntegrityError:  # a concurrent request with the same key won the insert
                s.rollback()
                return s.scalars(select(db.Run).where(db.Run.tenant == who.tenant, db.Run.idempotency_key == key)).one(), False
            return run, True

    run, created = await asyncio.to_thread(store)
    if not created and run.request_hash != digest:
        raise Problem(422, "Idempotency-Key reused", "this Idempotency-Key was used for a different request; use a new key for a new run")
    if created:
        request.app.state.executor.submit(run.id)
    return run, created


@router.post("/runs", status_code=202, response_model=RunOut, openapi_extra=SUBMIT_BODY, summary="Submit a planning run")
async def submit_run(request: Request, who: Annotated[Principal, Depends(write_principal)]):
    """Accepts a run (JSON or multipart), stores it, queues it, and answers 202 with its id.

    The same `Idempotency-Key` with the same body returns the same run, never a second solve."""
    run, created = await _accept(request, who)
    body = run_out(run, request)
    return JSONResponse(
        body.model_dump(mode="json"), status_code=202 if created else 200,
        headers={"Location": body.links["self"], "Retry-After": "2"},
    )


@router.get("/runs", response_model=RunList, summary="List runs, newest first")
def list_runs(
    request: Request,
    who: Annotated[Principal, Depends(read_principal)],
    status: RunStatus | None = None,
    tag: str | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0)] = 0,
):
    url = _settings(request).database_url
    with db.session(url) as s:
        q = select(db.Run).where(db.Run.tenant == who.tenant)
        if status:
            q = q.where(db.Run.status == status)
        runs = list(s.scalars(q.order_by(db.Run.created_at.desc(), db.Run.id.desc())))
    if tag:
        runs = [r for r in runs if tag in (r.tags or [])]
    total = len(runs)
    page = runs[offset : offset + limit]
    nxt = None
    if offset + limit < total:
        nxt = str(request.url.include_query_params(offset=offset + limit, limit=limit))
    return RunList(items=[run_out(r, request) for r in page], total=total, limit=limit, offset=offset, next=nxt)


def _get(request: Request, who: Principal, run_id: str) -> db.Run:
    with db.session(_settings(request).database_url) as s:
        run = s.get(db.Run, run_id)
    if run is None or run.tenant != who.tenant:
        raise Problem(404, "Run not found", f"no run {run_id}")
    return run


@router.get("/runs/{run_id}", response_model=RunOut, name="get_run", summary="Status, timings and progress of a run")
def get_run(run_id: str, request: Request, who: Annotated[Principal, Depends(read_principal)]):
    return run_out(_get(request, who, run_id), request)


@router.get("/runs/{run_id}/log", summary="The run's log")
def get_log(run_id: str, request: Request, who: Annotated[Principal, Depends(read_principal)]):
    return Response(_get(request, who, run_id).log or "", media_type="text/plain")


PLAN_TABLES = ["orders", "inventory", "service", "segments", "suppliers"]


@router.get("/runs/{run_id}/plan", summary="The plan: JSON tables, or ?format=csv (zip) / xlsx")
def get_plan(run_id: str, request: Request, who: Annotated[Principal, Depends(read_principal)], format: Annotated[str, Query(pattern="^(json|csv|xlsx)$")] = "json"):
    run = _get(request, who, run_id)
    plan = run.result or {}
    if not plan.get("orders") and plan.get("status") not in ("optimal", "feasible"):
        raise Problem(409, "No plan", f"run is {run.status}" + (f" ({run.reason}: {run.detail})" if run.reason else ""), run_status=run.status)
    plan = {**plan, "run_status": run.status}
    if run.status == "cancelled":
        plan["note"] = "the run was cancelled: this is the best plan found before it stopped"
    if format == "json":
        return plan
    tables = {name: pd.DataFrame(plan.get(name, [])) for name in PLAN_TABLES}
    tables["kpis"] = pd.DataFrame({"kpi": list(plan["kpis"]), "value": list(plan["kpis"].values())})
    if format == "csv":
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            for name, df in tables.items():
                zf.writestr(f"{name}.csv", df.to_csv(index=False))
        return Response(buf.getvalue(), media_type="application/zip", headers={"Content-Disposition": f'attachment; filename="plan-{run.id}.zip"'})
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as xw:
        for name, df in tables.items():
            df.to_excel(xw, sheet_name=name, index=False)
    return Response(buf.getvalue(), media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f'attachment; filename="plan-{run.id}.xlsx"'})


def _stored_plan(request: Request, who: Principal, run_id: str):
    from planner.plan import Plan

    run = _get(request, who, run_id)
    doc = run.result or {}
    if doc.get("status") not in ("optimal", "feasible"):
        raise Problem(409, "No plan", f"run is {run.status}" + (f" ({run.reason})" if run.reason else ""), run_status=run.status)
    return run, Plan.from_json_dict(doc)


def _instance_of(run: db.Run):
    from planner.loading import tables_from_mapping
    from planner.validation import validate

    return validate(tables_from_mapping(run.instance)).instance


@router.get("/runs/{run_id}/report", summary="The plan's report: one self-contained HTML page with charts")
def get_report(run_id: str, request: Request, who: Annotated[Principal, Depends(read_principal)]):
    import tempfile

    from fastapi.responses import HTMLResponse

    from planner.report import write_report

    run, plan = _stored_plan(request, who, run_id)
    analysis = (run.result or {}).get("analysis") or {}
    extra = {name: pd.DataFrame(rows) for name, rows in analysis.get("tables", {}).items() if isinstance(rows, list) and rows and name != "frontier"}
    front = pd.DataFrame(analysis["tables"]["frontier"]) if "frontier" in analysis.get("tables", {}) else None
    with tempfile.TemporaryDirectory() as tmp:
        path = write_report(tmp, _instance_of(run), plan, extra, frontier=front)
        return HTMLResponse(path.read_text(encoding="utf-8"))


@router.get("/runs/{run_id}/profitability", summary="Profit per segment (and per customer) with all costs allocated")
def get_profitability(run_id: str, request: Request, who: Annotated[Principal, Depends(read_principal)]):
    from planner.insight import profitability

    run, plan = _stored_plan(request, who, run_id)
    inst = _instance_of(run)
    out = {"segments": json.loads(profitability(inst, plan.tables, plan.kpis).to_json(orient="records"))}
    if len(inst.customers):
        out["customers"] = json.loads(profitability(inst, plan.tables, plan.kpis, inst.customers).to_json(orient="records"))
    return out


@router.get("/runs/{run_id}/analysis", summary="The tables of an analysis run (value of integration, frontier, scenario, explain)")
def get_analysis(run_id: str, request: Request, who: Annotated[Principal, Depends(read_principal)]):
    run = _get(request, who, run_id)
    analysis = (run.result or {}).get("analysis")
    if analysis is None:
        raise Problem(409, "No analysis", "this run has no analysis results" + ("" if run.options.get("analysis") else " (it did not ask for one)") + f"; run is {run.status}")
    return analysis


@router.get("/runs/{run_id}/manifest", summary="What it takes to re-run and compare the plan")
def get_manifest(run_id: str, request: Request, who: Annotated[Principal, Depends(read_principal)]):
    run = _get(request, who, run_id)
    if not run.result:
        raise Problem(409, "No result yet", f"run is {run.status}")
    return run.result.get("manifest", {})


@router.post("/plans/diff", summary="Compare the plans of two runs")
def diff_plans(request: Request, who: Annotated[Principal, Depends(read_principal)], base: Annotated[str, Query(description="Run id of the base plan")], other: Annotated[str, Query(description="Run id of the other plan")]):
    from planner.insight import compare_plans

    _, a = _stored_plan(request, who, base)
    _, b = _stored_plan(request, who, other)
    diff = compare_plans(a.tables, b.tables, a.kpis, b.kpis)
    return {name: json.loads(df.to_json(orient="records")) for name, df in diff.items()}


@router.get("/runs/{run_id}/input", summary="The exact input that was solved")
def get_input(run_id: str, request: Request, who: Annotated[Principal, Depends(read_principal)]):
    run = _get(request, who, run_id)
    return {"instance": run.instance, "options": run.options}


@router.post("/runs/{run_id}/cancel", response_model=RunOut, summary="Cancel a queued or running run")
def cancel_run(run_id: str, request: Request, who: Annotated[Principal, Depends(write_principal)]):
    """A queued run is cancelled at once; a running one is asked to stop and keeps its best plan so far."""
    run = _get(request, who, run_id)
    url = _settings(request).database_url
    with db.session(url) as s:
        run = s.get(db.Run, run_id)
        if run.status in db.FINAL:
            raise Problem(409, "Run already finished", f"run is {run.status}")
        run.cancel_requested = True
        if run.status == "queued":
            s.execute(
                db.Run.__table__.update().where(db.Run.id == run_id, db.Run.status == "queued")
                .values(status="cancelled", reason="cancelled", detail="cancelled before it started", finished_at=db.utcnow())
            )
        run.log = (run.log or "") + f"{db.utcnow().isoformat(timespec='seconds')} cancel requested\n"
        s.commit()
        s.refresh(run)
    return JSONResponse(run_out(run, request).model_dump(mode="json"), status_code=200 if run.status == "cancelled" else 202)


@router.post("/solve", summary="Solve a small instance synchronously", openapi_extra=SUBMIT_BODY)
async def solve_now(request: Request, who: Annotated[Principal, Depends(write_principal)]):
    """Stores the run like any other and waits for it, with the service's hard time limit
    (`sync_time_limit`). Answers the plan (200), or 503 with the run's Location if it could
    not finish in time (it goes on, nothing is lost)."""
    run, created = await _accept(request, who, sync=True)
    settings = _settings(request)
    url = settings.database_url
    deadline = asyncio.get_running_loop().time() + settings.sync_time_limit + settings.kill_grace_seconds + 20
    while True:
        with db.session(url) as s:
            run = s.get(db.Run, run.id)
        if run.status in db.FINAL:
            break
        if asyncio.get_running_loop().time() > deadline:
            out = run_out(run, request)
            raise Problem(503, "Not finished in time", "the run goes on; poll its Location", headers={"Location": out.links["self"], "Retry-After": "5"}, run=out.model_dump(mode="json"))
        await asyncio.sleep(0.2)
    out = run_out(run, request).model_dump(mode="json")
    return JSONResponse({"run": out, "plan": run.result}, status_code=200)


