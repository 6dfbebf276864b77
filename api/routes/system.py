"""Health and readiness."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api import db
from api.auth import Reader
from api.deps import ExecutorDep, SettingsDep
from api.routes.common import problem_responses

router = APIRouter(tags=["system"])


@router.get("/health", summary="The service is alive")
def health() -> dict:
    return {"status": "ok"}


@router.get("/ready", summary="Database and solve workers reachable", responses={503: {"description": "Not ready: what is missing"}, **problem_responses(401, 403)})
def ready(who: Reader, settings: SettingsDep, executor: ExecutorDep):
    state = {"database": "ok", "workers": 0}
    ok = True
    try:
        db.ping(settings.database_url)
    except Exception as exc:
        state["database"] = f"unreachable: {type(exc).__name__}"
        ok = False
    try:
        state["workers"] = executor.workers()
        ok = ok and state["workers"] > 0
    except Exception as exc:
        state["workers_error"] = type(exc).__name__
        ok = False
    return JSONResponse({"status": "ready" if ok else "not ready", **state}, status_code=200 if ok else 503)
