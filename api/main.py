"""The FastAPI app: routers, errors as problem+json, body limit, storage and workers started in the lifespan."""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api import db
from api.auth import KeyStore
from api.config import Settings, get_settings
from api.executor import Executor
from api.problems import BodyLimit, install
from api.quotas import RateLimiter, SubmissionGate
from api import web
from api.routes import plans, runs, system, validation
from api.routes.common import problem_responses
from api.schemas import ProblemDetails, SubmitExports, SubmitRun
from planner import jobs
from planner.contract.problems import ProblemsError

#: Schemas an operation refers to by hand (bodies it reads itself: JSON or multipart).
REFERENCED = [SubmitRun, SubmitExports, ProblemDetails]


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        # a model folder that does not load stops the service here, told to its operator, rather
        # than failing every request with a message about the server's files
        try:
            jobs.families(settings.models_dirs())
        except ProblemsError as exc:
            raise RuntimeError(f"PLANNER_MODELS_PATH: {exc}") from None
        db.engine_for(settings.database_url)  # creates the tables (and the SQLite file) on first start
        app.state.executor = Executor(settings)
        app.state.executor.start()
        logging.getLogger("planner.api").info("planner service ready (database %s)", settings.database_url.split("@")[-1])
        try:
            yield
        finally:
            app.state.executor.close()

    app = FastAPI(
        title="planner",
        version="0.1.0",
        description="Joint demand-supply planning runs: submit an instance, follow its progress, fetch the plan. "
        "Errors are RFC 9457 problem details.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.keys = KeyStore(settings)
    app.state.rate = RateLimiter(settings.requests_per_second)
    app.state.gate = SubmissionGate(settings.max_concurrent_submissions, settings.submission_wait_seconds)
    install(app)
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    for module in (runs, plans, validation, system):
        app.include_router(module.router)
    web.install(app)

    original = app.openapi

    def openapi():
        if app.openapi_schema:
            return app.openapi_schema
        schema = original()
        _exact_validation_errors(schema)
        comps = schema.setdefault("components", {}).setdefault("schemas", {})
        for model in REFERENCED:
            full = model.model_json_schema(ref_template="#/components/schemas/{model}")
            for name, sub in full.pop("$defs", {}).items():
                comps.setdefault(name, sub)
            comps.setdefault(model.__name__, full)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi
    return app


def _exact_validation_errors(schema: dict) -> None:
    """FastAPI declares a 422 of its own shape on every operation with a parameter. Here a 422
    is problem+json, and only where one can happen: a query parameter or a body to check
    (a path's run id is any string, and an unknown one is a 404)."""
    problem = problem_responses(422)[422]
    for ops in schema.get("paths", {}).values():
        for op in ops.values():
            responses = op.get("responses", {})
            if "422" not in responses:
                continue
            checked = "requestBody" in op or any(p.get("in") == "query" for p in op.get("parameters", []))
            if checked:
                responses["422"] = problem
            else:
                del responses["422"]
    for name in ("HTTPValidationError", "ValidationError"):
        schema.get("components", {}).get("schemas", {}).pop(name, None)


app = create_app()
