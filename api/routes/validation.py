"""Validation without solving."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool

from api.auth import Reader
from api.deps import SettingsDep
from api.routes.common import problem_responses
from api.routes.runs import SUBMIT_BODY
from api.schemas import ValidationOut
from api.submissions import problem_items, read_submission, resolve_previous_plan, submission_problems

router = APIRouter(prefix="/v1", tags=["validation"])


@router.post("/validate", response_model=ValidationOut, openapi_extra=SUBMIT_BODY, summary="Validate an instance without solving",
             responses=problem_responses(400, 401, 403, 413, 422))
async def validate_instance(request: Request, who: Reader, settings: SettingsDep):
    """The validator's full report (the same messages as `planner validate`); 200 whether or not the data is valid."""
    raw, options = await read_submission(request)
    options, found = await run_in_threadpool(resolve_previous_plan, options, who.tenant, settings.database_url)
    report, errors = await run_in_threadpool(submission_problems, raw, options, settings.models_dirs(), found)
    return ValidationOut(valid=not errors, errors=errors, warnings=problem_items(report.warnings))
