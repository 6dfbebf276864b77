"""Planning runs: submit, list, status, input, log, analysis, cancel, and the synchronous solve."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from sqlalchemy import exists, func, select
from sqlalchemy.exc import IntegrityError

from api import db, states, webhooks
from api.auth import Principal, Reader, Writer
from api.config import Settings
from api.deps import ExecutorDep, SessionDep, SettingsDep
from api.problems import HTTPProblem
from api.quotas import check_run_quota
from api.routes.common import AUTH, BODY, find_run, plan_document, problem_responses, run_out
from planner.contract.results import WITH_PLAN, Result
from api.schemas import AnalysisOut, InputOut, RunList, RunOut, RunStatus, WebhookSecret
from api.schemas import RunOptions
from api.submissions import Exports, check_submission, prepare_exports, read_submission, request_hash, resolve_previous_plan
from planner.contract.loading import RawTables

router = APIRouter(prefix="/v1", tags=["runs"])

IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{1,200}")  # what the database column holds

JSON_BODY = {"requestBody": {"required": True, "content": {"application/json": {"schema": {
    "anyOf": [{"$ref": "#/components/schemas/SubmitRun"}, {"$ref": "#/components/schemas/SubmitExports"}]}}}}}
UPLOAD_BODY = {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object",
    "properties": {
        "files": {"type": "array", "items": {"type": "string", "format": "binary"}, "description": "CSV files named after their tables, or one .xlsx workbook"},
        "options": {"type": "string", "description": "RunOptions as JSON"},
    },
    "required": ["files"],
}}}}}
IDEMPOTENCY_HEADER = {"name": "Idempotency-Key", "in": "header", "required": False,
                      "description": "1 to 200 printable ASCII characters: the same key and body return the same run.",
                      "schema": {"type": "string", "pattern": "^[\\x21-\\x7e]{1,200}$"}}
ACCEPTED = {"Location": {"description": "The run", "schema": {"type": "string"}},
            "Retry-After": {"description": "Seconds before polling it", "schema": {"type": "integer"}}}
SUBMIT_RESPONSES = {202: {"description": "Accepted and stored: the run, queued", "headers": ACCEPTED},
                    200: {"model": RunOut, "description": "The run this Idempotency-Key already made", "headers": ACCEPTED},
                    **problem_responses(*AUTH, *BODY, 422, 503)}
SOLVE_RESPONSES = {200: {"description": "The run and its plan", "content": {"application/json": {"schema": {
                       "type": "object", "required": ["run", "plan"],
                       "properties": {"run": {"$ref": "#/components/schemas/RunOut"}, "plan": {"anyOf": [{"$ref": "#/components/schemas/PlanOut"}, {"type": "null"}]}}}}}},
                   **problem_responses(*AUTH, *BODY, 422, 503)}


async def _accept(request: Request, who: Principal, settings: Settings, executor, sync: bool = False, upload: bool = False) -> tuple[db.Run, bool]:
    """Validate, store (committed before answering) and submit one run, in its turn (the body is
    read only then); honours Idempotency-Key."""
    key = request.headers.get("idempotency-key")
    if key is not None and not IDEMPOTENCY_KEY.fullmatch(key):
        raise HTTPProblem(400, "Invalid Idempotency-Key", "1 to 200 printable ASCII characters, such as a UUID")
    async with request.app.state.gate.turn():
        return await _accept_in_turn(request, who, settings, executor, key, sync, upload)


async def _accept_in_turn(request: Request, who: Principal, settings: Settings, executor, key: str | None, sync: bool, upload: bool) -> tuple[db.Run, bool]:
    raw, options, exports = await read_submission(request, upload)
    return await accept(raw, options, exports, who, settings, executor, key, sync)


async def accept(raw: RawTables | None, options: RunOptions, exports: Exports | None, who: Principal, settings: Settings, executor,
                 key: str | None = None, sync: bool = False) -> tuple[db.Run, bool]:
    """A submission read (by the API or by the web pages): checked, stored and submitted, or a
    422 with every problem. The caller holds its turn at the submission gate."""
    options, found = await run_in_threadpool(resolve_previous_plan, options, who.tenant, settings.database_url)
    limit = options.time_limit if options.time_limit is not None else settings.default_time_limit
    if sync:
        limit = min(limit, settings.sync_time_limit)
    if limit > settings.max_time_limit:
        raise HTTPProblem(422, "Invalid request", errors=[{"table": None, "row": None, "column": "options.time_limit", "message": f"at most {settings.max_time_limit:g} seconds"}])
    if options.webhook is not None and (why := webhooks.allowed(options.webhook.url, settings)):
        found = [*found, {"table": "options", "row": None, "column": "webhook.url", "message": why, "severity": "error"}]
    prepared = None
    if exports is not None:
        raw, derivation, problems = await run_in_threadpool(prepare_exports, exports)
        if problems:
            raise HTTPProblem(422, "Invalid exports", f"{len(problems)} problem(s); nothing was solved", errors=problems + found)
        prepared = {**exports.doc, "derivation": derivation}
    await run_in_threadpool(check_submission, raw, options, settings.models_dirs(), found)
    digest = request_hash(raw, options)

    def store() -> tuple[db.Run, bool]:
        with db.session(settings.database_url) as s:
            if key:
                old = s.scalars(select(db.Run).where(db.Run.tenant == who.tenant, db.Run.idempotency_key == key)).first()
                if old is not None:
                    return old, False
            check_run_quota(s, who.tenant, settings)  # a repeated request (above) is no new run and passes
            run = states.create(s, tenant=who.tenant, request_hash=digest, instance=raw, options={**options.model_dump(mode="json"), "time_limit": limit},
                                name=options.name, tags=options.tags, idempotency_key=key, sync=sync, priority=options.priority, prepared=prepared)
            try:
                s.commit()
            except IntegrityError:  # a concurrent request with the same key won the insert
                s.rollback()
                return s.scalars(select(db.Run).where(db.Run.tenant == who.tenant, db.Run.idempotency_key == key)).one(), False
            return run, True

    run, created = await run_in_threadpool(store)
    if not created and run.request_hash != digest:
        raise HTTPProblem(422, "Idempotency-Key reused", "this Idempotency-Key was used for a different request; use a new key for a new run")
    if created:
        executor.submit(run.id)
    return run, created


async def _submitted(request: Request, who: Principal, settings: Settings, executor, upload: bool) -> JSONResponse:
    run, created = await _accept(request, who, settings, executor, upload=upload)
    body = run_out(run, request)
    return JSONResponse(body.model_dump(mode="json"), status_code=202 if created else 200,
                        headers={"Location": body.links["self"], "Retry-After": "2"})


@router.post("/runs", status_code=202, response_model=RunOut, summary="Submit a planning run (JSON)",
             openapi_extra={**JSON_BODY, "parameters": [IDEMPOTENCY_HEADER]}, responses=SUBMIT_RESPONSES)
async def submit_run(request: Request, who: Writer, settings: SettingsDep, executor: ExecutorDep):
    """Checks the run, stores it, queues it, and answers 202 with its id.

    The same `Idempotency-Key` with the same body returns the same run, never a second solve."""
    return await _submitted(request, who, settings, executor, upload=False)


@router.post("/runs/upload", status_code=202, response_model=RunOut, summary="Submit a planning run (CSV files or a workbook)",
             openapi_extra={**UPLOAD_BODY, "parameters": [IDEMPOTENCY_HEADER]}, responses=SUBMIT_RESPONSES)
async def submit_upload(request: Request, who: Writer, settings: SettingsDep, executor: ExecutorDep):
    """As `POST /v1/runs`, with the tables uploaded as files (one CSV per table, named after
    it, or one .xlsx workbook) and the options as a JSON field."""
    return await _submitted(request, who, settings, executor, upload=True)


def runs_page(s, tenant: str, status: str | None = None, tag: str | None = None, since: dt.datetime | None = None,
              until: dt.datetime | None = None, limit: int = 20, offset: int = 0) -> tuple[int, list[db.Run]]:
    """How many of a tenant's runs match, and one page of them, newest first (for the API and the pages)."""
    where = [db.Run.tenant == tenant]
    if status:
        where.append(db.Run.status == status)
    if tag:
        where.append(exists().where(db.RunTag.run_id == db.Run.id, db.RunTag.tag == tag))
    if since is not None:
        where.append(db.Run.created_at >= since)
    if until is not None:
        where.append(db.Run.created_at < until)
    total = s.scalar(select(func.count()).select_from(db.Run).where(*where))
    page = s.scalars(select(db.Run).where(*where).order_by(db.Run.created_at.desc(), db.Run.id.desc()).limit(limit).offset(offset)).all()
    return total, list(page)


@router.get("/runs", response_model=RunList, summary="List runs, newest first", responses=problem_responses(*AUTH, 422))
def list_runs(
    request: Request,
    who: Reader,
    s: SessionDep,
    status: RunStatus | None = None,
    tag: str | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
):
    """One page of the tenant's runs; the database filters, counts and pages (no run outside the page is read)."""
    total, page = runs_page(s, who.tenant, status, tag, limit=limit, offset=offset)
    nxt = str(request.url.include_query_params(offset=offset + limit, limit=limit)) if offset + limit < total else None
    return RunList(items=[run_out(r, request) for r in page], total=total, limit=limit, offset=offset, next=nxt)


@router.get("/runs/{run_id}", response_model=RunOut, name="get_run", summary="Status, timings and progress of a run", responses=problem_responses(*AUTH, 404))
def get_run(run_id: str, request: Request, who: Reader, s: SessionDep):
    return run_out(find_run(s, who, run_id), request)


@router.get("/runs/{run_id}/log", summary="The run's log", response_class=PlainTextResponse, responses=problem_responses(*AUTH, 404))
def get_log(run_id: str, who: Reader, s: SessionDep):
    return PlainTextResponse(find_run(s, who, run_id).log or "")


@router.get("/runs/{run_id}/input", response_model=InputOut, summary="The exact input that was solved (and the exports it was derived from)", responses=problem_responses(*AUTH, 404))
def get_input(run_id: str, who: Reader, s: SessionDep):
    run = find_run(s, who, run_id)
    prepared = run.prepared or {}
    return JSONResponse({"instance": run.instance, "options": run.options, "exports": {k: prepared[k] for k in ("crm", "scm")} if prepared else None,
                         "derivation": prepared.get("derivation")})


@router.get("/runs/{run_id}/analysis", response_model=AnalysisOut, summary="The tables of an analysis run (value of integration, frontier, scenario, explain)",
            responses=problem_responses(*AUTH, 404, 409))
def get_analysis(run_id: str, who: Reader, s: SessionDep):
    run = find_run(s, who, run_id)
    analysis = (run.result or {}).get("analysis")
    if analysis is None:
        raise HTTPProblem(409, "No analysis", "this run has no analysis results" + ("" if run.options.get("analysis") else " (it did not ask for one)") + f"; run is {run.status}")
    return JSONResponse(analysis)


@router.post("/runs/{run_id}/cancel", response_model=RunOut, summary="Cancel a queued or running run",
             responses={202: {"model": RunOut, "description": "Asked to stop: the run keeps its best plan"}, **problem_responses(*AUTH, 404, 409)})
def cancel_run(run_id: str, request: Request, who: Writer, s: SessionDep):
    """A queued run is cancelled at once (200); a running one is asked to stop and keeps its best plan so far (202)."""
    run = find_run(s, who, run_id)
    try:
        run = states.cancel(s, run)
    except states.TransitionError as exc:
        raise HTTPProblem(409, "Run already finished", str(exc))
    return JSONResponse(run_out(run, request).model_dump(mode="json"), status_code=200 if run.status == states.CANCELLED else 202)


@router.delete("/runs/{run_id}", status_code=204, summary="Delete a finished run and everything of it",
               responses={204: {"description": "Deleted: the run, its input, plan, log and tags"}, **problem_responses(*AUTH, 404, 409)})
def delete_run(run_id: str, who: Writer, s: SessionDep):
    """A queued or running run answers 409: cancel it first. Finished runs are also deleted by
    the service itself `PLANNER_RETENTION_DAYS` (90) days after they finish."""
    run = find_run(s, who, run_id)
    try:
        states.delete(s, run)
    except states.TransitionError as exc:
        raise HTTPProblem(409, "Run not finished", str(exc))
    return Response(status_code=204)


@router.get("/webhooks/secret", response_model=WebhookSecret, summary="This tenant's webhook signing secret",
            responses=problem_responses(*AUTH, 409))
def webhook_secret(who: Writer, settings: SettingsDep):
    if not settings.webhook_secret:
        raise HTTPProblem(409, "Webhooks off", "this service sends no webhooks (PLANNER_WEBHOOK_SECRET is not set)")
    return WebhookSecret(secret=webhooks.tenant_secret(settings.webhook_secret, who.tenant))


@router.post("/solve", summary="Solve a small instance synchronously (JSON)", openapi_extra=JSON_BODY, responses=SOLVE_RESPONSES)
async def solve_now(request: Request, who: Writer, settings: SettingsDep, executor: ExecutorDep):
    """Stores the run like any other and waits for it, with the service's hard time limit
    (`sync_time_limit`). Answers the run and its plan (200; the plan is null when the run
    has none: its `reason` and `detail` say why), or 503 with the run's Location if it
    could not finish in time (it goes on, nothing is lost)."""
    return await _solve(request, who, settings, executor, upload=False)


@router.post("/solve/upload", summary="Solve a small instance synchronously (CSV files or a workbook)", openapi_extra=UPLOAD_BODY, responses=SOLVE_RESPONSES)
async def solve_upload(request: Request, who: Writer, settings: SettingsDep, executor: ExecutorDep):
    """As `POST /v1/solve`, with the tables uploaded as files."""
    return await _solve(request, who, settings, executor, upload=True)


async def _solve(request: Request, who: Principal, settings: Settings, executor, upload: bool) -> JSONResponse:
    run, _ = await _accept(request, who, settings, executor, sync=True, upload=upload)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + settings.sync_time_limit + settings.kill_grace_seconds + 20

    def load(final: bool) -> tuple[db.Run, dict | None]:
        with db.session(settings.database_url) as s:
            r = s.get(db.Run, run.id)
            doc = r.result if final and r.status in db.FINAL else None
            return r, (plan_document(r, Result.from_json_dict(doc)) if doc and doc.get("status") in WITH_PLAN else None)

    while True:
        current, _ = await run_in_threadpool(load, False)
        if current.status in db.FINAL:
            break
        if loop.time() > deadline:
            out = run_out(current, request)
            raise HTTPProblem(503, "Not finished in time", "the run goes on; poll its Location", headers={"Location": out.links["self"], "Retry-After": "5"}, run=out.model_dump(mode="json"))
        await asyncio.sleep(0.2)
    current, result = await run_in_threadpool(load, True)
    return JSONResponse({"run": run_out(current, request).model_dump(mode="json"), "plan": result}, status_code=200)

