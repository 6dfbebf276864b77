"""Health and readiness."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field
from fastapi.responses import JSONResponse

from api import db
from api.auth import Reader
from api.deps import ExecutorDep, SettingsDep
from api.routes.common import AUTH, problem_responses

router = APIRouter(tags=["system"])


class Health(BaseModel):
    status: Literal["ok"]


class Readiness(BaseModel):
    status: Literal["ready", "not ready"]
    database: str = Field(description="ok, or why it is unreachable")
    workers: int = Field(description="Dask workers that can solve")
    workers_error: str | None = None


@router.get("/health", summary="The service is alive", response_model=Health)
def health() -> dict:
    return {"status": "ok"}


@router.get("/ready", summary="Database and solve workers reachable", response_model=Readiness,
            responses={503: {"model": Readiness, "description": "Not ready: what is missing"}, **problem_responses(*AUTH)})
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
