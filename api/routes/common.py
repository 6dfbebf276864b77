"""What the routers share: finding a tenant's run, a run as the API shows it, the documented errors."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import Request
from sqlalchemy.orm import Session

from api import db
from api.auth import Principal
from api.problems import MEDIA, HTTPProblem
from api.schemas import RunOut
from planner.contract.results import Result


#: Every authenticated operation can answer these: no key, a key without the scope, over the rate.
AUTH = (401, 403, 429)
#: ... and every operation that reads a body these: malformed, too large, of another media type.
BODY = (400, 413, 415)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the error statuses an operation can answer, as problem+json only
    (FastAPI would also list application/json, which these never are)."""
    why = {400: "Malformed request body", 401: "No or an unknown API key", 403: "The key lacks the scope", 404: "No such run (for this tenant)",
           409: "The run is not in a state for this", 413: "Request body too large", 415: "A body of another media type than the operation takes",
           422: "Invalid request, data or options: one entry per problem", 429: "Over a quota: retry after Retry-After seconds",
           503: "Busy (retry after Retry-After seconds), or not finished in time"}
    headers = {429: {"Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}},
               503: {"Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}},
               401: {"WWW-Authenticate": {"description": "Bearer", "schema": {"type": "string"}}}}
    return {s: {"description": why.get(s, "Error"), "content": {MEDIA: {"schema": {"$ref": "#/components/schemas/ProblemDetails"}}},
                **({"headers": headers[s]} if s in headers else {})}
            for s in sorted(set(statuses))}


def _utc(t: dt.datetime | None) -> dt.datetime | None:
    """SQLite hands datetimes back without their zone; they were written in UTC."""
    return t.replace(tzinfo=dt.timezone.utc) if t is not None and t.tzinfo is None else t


def run_out(run: db.Run, request: Request) -> RunOut:
    """A run from its summary columns (never its input, result or log)."""
    base = str(request.url_for("get_run", run_id=run.id))
    return RunOut(
        id=run.id, status=run.status, reason=run.reason, detail=run.detail, name=run.name, tags=run.tags or [],
        options=run.options, plan_status=run.plan_status, profit=run.profit, mip_gap=run.mip_gap,
        progress=run.progress, attempts=run.attempts, cancel_requested=run.cancel_requested,
        created_at=_utc(run.created_at), started_at=_utc(run.started_at), finished_at=_utc(run.finished_at), solve_seconds=run.solve_seconds,
        explanation=run.explanation,
        links={"self": base, "plan": base + "/plan", "input": base + "/input", "cancel": base + "/cancel"},
    )


def find_run(s: Session, who: Principal, run_id: str) -> db.Run:
    """The tenant's run, or 404 (another tenant's run is not found either)."""
    run = s.get(db.Run, run_id)
    if run is None or run.tenant != who.tenant:
        raise HTTPProblem(404, "Run not found", f"no run {run_id}")
    return run


def plan_document(run: db.Run, result: Result) -> dict[str, Any]:
    """A run's plan as the API shows it (``PlanOut``): the plan's tables and figures, and the
    run's status; a cancelled run's plan says it is the best found before it stopped."""
    doc = {**result.plan.to_json_dict(), "run_status": run.status}
    if run.status == "cancelled":
        doc["note"] = "the run was cancelled: this is the best plan found before it stopped"
    return doc
