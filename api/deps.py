"""Shared pieces of the routes: the app's state, the caller, and reading a planning request."""

from __future__ import annotations

import hashlib
import io
import json
from typing import Any

import pandas as pd
from fastapi import Request
from pydantic import ValidationError

from api.auth import Principal
from api.problems import Problem
from api.schemas import RunOptions, SubmitRun
from planner.loading import LoadError, RawTables, _records, tables_from_mapping
from planner.validation import validate


def caller(request: Request, scope: str) -> Principal:
    return request.app.state.keys.principal(request, scope)


def read_principal(request: Request) -> Principal:
    return caller(request, "read")


def write_principal(request: Request) -> Principal:
    return caller(request, "write")


def _problems(items) -> list[dict]:
    return [{"table": p.table, "row": p.row, "column": p.column, "message": p.message, "severity": p.severity} for p in items]


async def read_submission(request: Request) -> tuple[RawTables, RunOptions]:
    """A JSON body {"instance", "options"} or a multipart upload (CSV files or one XLSX, options as JSON)."""
    ctype = request.headers.get("content-type", "")
    if ctype.startswith("multipart/form-data"):
        return await _read_multipart(request)
    try:
        doc = json.loads(await request.body() or b"null")
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise Problem(400, "Malformed JSON", str(exc))
    try:
        body = SubmitRun.model_validate(doc)
    except ValidationError as exc:
        raise Problem(422, "Invalid request", errors=[_pyd(e) for e in exc.errors()])
    try:
        raw = tables_from_mapping(body.instance)
    except LoadError as exc:
        raise Problem(422, "Invalid instance", errors=_problems(exc.problems))
    return raw, body.options


def _pyd(e: dict) -> dict:
    return {"table": None, "row": None, "column": ".".join(str(x) for x in e["loc"]) or None, "message": e["msg"]}


async def _read_multipart(request: Request) -> tuple[RawTables, RunOptions]:
    form = await request.form(max_files=50, max_fields=20)
    options_doc: Any = {}
    if "options" in form:
        try:
            options_doc = json.loads(str(form["options"]))
        except json.JSONDecodeError as exc:
            raise Problem(422, "Invalid request", errors=[{"table": None, "row": None, "column": "options", "message": f"not valid JSON: {exc}"}])
    try:
        options = RunOptions.model_validate(options_doc)
    except ValidationError as exc:
        raise Problem(422, "Invalid request", errors=[{**_pyd(e), "column": "options." + (_pyd(e)["column"] or "")} for e in exc.errors()])
    raw: RawTables = {}
    uploads = [v for _, v in form.multi_items() if hasattr(v, "filename") and hasattr(v, "read")]
    if not uploads:
        raise Problem(422, "Invalid request", "upload the CSV files of the tables (one per table, named after it) or one .xlsx workbook")
    for up in uploads:
        data = await up.read()
        name = (up.filename or "").rsplit("/", 1)[-1]
        stem, _, ext = name.rpartition(".")
        try:
            if ext.lower() in ("xlsx", "xlsm"):
                sheets = pd.read_excel(io.BytesIO(data), sheet_name=None, dtype=object, engine="openpyxl")
                raw.update({k.strip().lower(): _records(df) for k, df in sheets.items()})
            elif ext.lower() == "csv":
                df = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False, skipinitialspace=True)
                raw[stem.strip().lower()] = _records(df)
            else:
                raise Problem(422, "Invalid upload", f"{name}: expected .csv files or one .xlsx workbook")
        except Problem:
            raise
        except Exception as exc:  # pandas / openpyxl: a file that is not what it says
            raise Problem(422, "Invalid upload", f"cannot read {name}: {exc}")
    return raw, options


def submission_problems(raw: RawTables, options: RunOptions, models_dirs):
    """The validator's report and every error of the request: data, model options, scenario changes."""
    from models import OptionsError, select

    report = validate(raw)
    errors = _problems(report.errors)
    try:
        select({"constraints": options.constraints} if options.constraints else None, models_dirs)
    except OptionsError as exc:
        errors += _problems(exc.problems)
    analysis = options.analysis
    if analysis is not None and analysis.kind == "scenario" and report.ok:
        from planner.insight import apply_scenario

        try:
            changed = validate(apply_scenario(raw, report.instance.periods, analysis.changes or []))
            errors += [{**e, "message": f"after the scenario's changes: {e['message']}"} for e in _problems(changed.errors)]
        except (ValueError, KeyError, TypeError) as exc:
            errors.append({"table": None, "row": None, "column": "options.analysis.changes", "message": str(exc), "severity": "error"})
    return report, errors


def check_submission(raw: RawTables, options: RunOptions, models_dirs) -> None:
    """Validate the instance and the model options; 422 with every problem if anything is wrong."""
    _, errors = submission_problems(raw, options, models_dirs)
    if errors:
        raise Problem(422, "Invalid instance", f"{len(errors)} problem(s); nothing was solved", errors=errors)


def request_hash(raw: RawTables, options: RunOptions) -> str:
    doc = {"instance": raw, "options": options.model_dump(mode="json")}
    return hashlib.sha256(json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest()
