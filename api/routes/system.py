"""Validation without solving, and health."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from api import db
from api.auth import Principal
from api.deps import _problems, read_principal, read_submission, submission_problems
from api.routes.runs import SUBMIT_BODY
from api.schemas import ValidationOut

router = APIRouter()


@router.post("/v1/validate", response_model=ValidationOut, tags=["runs"], openapi_extra=SUBMIT_BODY, summary="Validate an instance without solving")
async def validate_instance(request: Request, who: Annotated[Principal, Depends(read_principal)]):
    """The validator's full report (the same messages as `planner validate`); 200 whether or not the data is valid."""
    raw, options = await read_submission(request)
    report, errors = await asyncio.to_thread(submission_problems, raw, options, request.app.state.executor.conf.get("models_dirs"))
    return ValidationOut(valid=not errors, errors=errors, warnings=_problems(report.warnings))


@router.get("/health", tags=["system"], summary="The service is alive")
def health():
    return {"status": "ok"}


@router.get("/ready", tags=["system"], summary="Database and solve workers reachable")
def ready(request: Request, who: Annotated[Principal, Depends(read_principal)]):
    state = {"database": "ok", "workers": 0}
    ok = True
    try:
        db.ping(request.app.state.settings.database_url)
    except Exception as exc:
        state["database"] = f"unreachable: {type(exc).__name__}"
        ok = False
    try:
        state["workers"] = request.app.state.executor.workers()
        ok = ok and state["workers"] > 0
    except Exception as exc:
        state["workers_error"] = type(exc).__name__
        ok = False
    return JSONResponse({"status": "ready" if ok else "not ready", **state}, status_code=200 if ok else 503)
