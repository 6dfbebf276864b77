"""Errors as RFC 9457 problem details (application/problem+json), never a traceback."""

from __future__ import annotations

import html
import json
import logging
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("planner.api")
MEDIA = "application/problem+json"


class HTTPProblem(Exception):
    """An error answered as problem details; raised anywhere in a request."""

    def __init__(self, status: int, title: str, detail: str | None = None, errors: list[dict] | None = None, headers: dict | None = None, **extra: Any):
        self.status, self.title, self.detail, self.errors, self.headers, self.extra = status, title, detail, errors, headers, extra


def problem_response(request: Request, status: int, title: str, detail: str | None = None, errors: list[dict] | None = None, headers: dict | None = None, **extra: Any) -> Response:
    if "text/html" in request.headers.get("accept", "") and not request.url.path.startswith("/v1/"):
        # a person at a web page: the same answer in words, with the way back
        page = (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
                "<link rel='stylesheet' href='/static/app.css'></head><body><main id='main'>"
                f"<h1>{html.escape(title)}</h1><p role='alert'>{html.escape(detail or '')}</p><p><a href='/'>Back to the runs</a></p></main></body></html>")
        return HTMLResponse(page, status_code=status, headers=headers)
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status, "instance": str(request.url.path)}
    if detail:
        body["detail"] = detail
    if errors is not None:
        body["errors"] = errors
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=MEDIA, headers=headers)


def _loc_error(e: dict) -> dict:
    loc = [str(x) for x in e.get("loc", ())]
    if loc and loc[0] == "body":
        loc = loc[1:]
    return {"table": None, "row": None, "column": ".".join(loc) or None, "message": e.get("msg", "invalid")}


def install(app: FastAPI) -> None:
    @app.exception_handler(HTTPProblem)
    async def _problem(request: Request, exc: HTTPProblem):
        return problem_response(request, exc.status, exc.title, exc.detail, exc.errors, exc.headers, **exc.extra)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError):
        errors = [_loc_error(e) for e in exc.errors()]
        return problem_response(request, 422, "Invalid request", f"{len(errors)} problem(s) in the request", errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 405:  # Starlette names the methods of one route; the path may have several
            headers["Allow"] = ", ".join(_methods(request))
        return problem_response(request, exc.status_code, str(exc.detail) if exc.detail else "Error", headers=headers or None)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):  # the last line: logged, never shown as a traceback
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return problem_response(request, 500, "Internal error", "the service hit an unexpected error; it has been logged")


def _methods(request: Request) -> list[str]:
    """Every method the OpenAPI document gives the request's path (the routers are nested, so
    this reads the document, which is also what a client compares the Allow header with)."""
    paths = getattr(request.app.state, "path_methods", None)
    if paths is None:
        paths = [(path.count("{"), re.compile("^" + re.sub(r"\\{[^/]+?\\}", "[^/]+", re.escape(path)) + "$"), sorted(m.upper() for m in ops))
                 for path, ops in request.app.openapi().get("paths", {}).items()]
        request.app.state.path_methods = paths
    matches = [(params, methods) for params, pattern, methods in paths if pattern.match(request.url.path)]
    # the most literal path owns the URL: /v1/runs/upload, not /v1/runs/{run_id}
    fewest = min((params for params, _ in matches), default=0)
    return sorted({m for params, methods in matches if params == fewest for m in methods})


class BodyLimit:
    """ASGI middleware: bodies over ``limit`` bytes get 413 without being read whole.

    A declared Content-Length over the limit is refused before any of the body is
    read; a chunked body is read up to the limit and refused at the first byte past it.
    """

    def __init__(self, app, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        if length is not None:
            if length.isdigit() and int(length) > self.limit:
                return await self._reject(scope, send)
            return await self.app(scope, receive, send)
        if scope.get("method") in ("GET", "HEAD", "DELETE", "OPTIONS"):
            return await self.app(scope, receive, send)
        chunks, seen = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return
            chunks.append(message.get("body", b""))
            seen += len(chunks[-1])
            if seen > self.limit:
                return await self._reject(scope, send)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _reject(self, scope, send):
        accept = dict(scope.get("headers") or []).get(b"accept", b"")
        if b"text/html" in accept:  # a browser's form: a page a planner can read, and the way back
            mb = self.limit / 1024 / 1024
            body = (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Files too large</title></head><body style='font-family:system-ui;margin:2rem'>"
                    f"<h1>The files are too large</h1><p role='alert'>Together they are more than {mb:,.0f} MB, the most one run may upload. "
                    f"Nothing was stored.</p><p><a href='/new'>Back to a new run</a></p></body></html>").encode()
            kind = b"text/html; charset=utf-8"
        else:
            body = json.dumps({"type": "about:blank", "title": "Request body too large", "status": 413,
                               "detail": f"the limit is {self.limit} bytes", "instance": scope.get("path", "")}).encode()
            kind = MEDIA.encode()
        await send({"type": "http.response.start", "status": 413, "headers": [(b"content-type", kind), (b"content-length", str(len(body)).encode()), (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})
