"""Validation without solving."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool

from api.auth import Reader
from api.deps import SettingsDep
from api.routes.common import AUTH, BODY, problem_responses
from api.routes.runs import JSON_BODY, UPLOAD_BODY
from api.schemas import ValidationOut
from api.submissions import prepare_exports, problem_items, read_submission, resolve_previous_plan, submission_problems

router = APIRouter(prefix="/v1", tags=["validation"])


@router.post("/validate", response_model=ValidationOut, openapi_extra=JSON_BODY, summary="Validate an instance without solving (JSON)",
             responses=problem_responses(*AUTH, *BODY, 422, 503))
async def validate_instance(request: Request, who: Reader, settings: SettingsDep):
    """The validator's full report (the same messages as `planner validate`); 200 whether or not the data is valid.
    Exports ({crm, scm}) are derived into an instance first, as a run would be, and that is checked."""
    return await _report(request, who, settings, upload=False)


@router.post("/validate/upload", response_model=ValidationOut, openapi_extra=UPLOAD_BODY, summary="Validate uploaded files without solving",
             responses=problem_responses(*AUTH, *BODY, 422, 503))
async def validate_upload(request: Request, who: Reader, settings: SettingsDep):
    """As `POST /v1/validate`, with the tables uploaded as files."""
    return await _report(request, who, settings, upload=True)


async def _report(request: Request, who, settings, upload: bool) -> ValidationOut:
    async with request.app.state.gate.turn():  # as heavy as a submission: it waits its turn like one
        raw, options, exports = await read_submission(request, upload)
        options, found = await run_in_threadpool(resolve_previous_plan, options, who.tenant, settings.database_url)
        if exports is not None:
            raw, _, problems = await run_in_threadpool(prepare_exports, exports)
            if problems:
                return ValidationOut(valid=False, errors=problems + found, warnings=[])
        report, errors = await run_in_threadpool(submission_problems, raw, options, settings.models_dirs(), found)
    return ValidationOut(valid=not errors, errors=errors, warnings=problem_items(report.warnings))
