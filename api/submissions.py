"""A planning request as it arrives: a JSON body or a multipart upload, read, checked, and made a job.

Reading uses the contract's own readers (:mod:`planner.contract.loading`) and
checking the job layer's (:func:`planner.jobs.check`), so a request gets the
same messages as ``planner validate`` and ``planner solve`` — before anything
is stored or solved.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import Request
from pydantic import ValidationError

from api import db
from api.problems import HTTPProblem
from api.schemas import CrmIn, RunOptions
from planner import jobs
from planner.contract.crm import SCM_TABLES, assignment_from_rows, crm_from_rows, scm_problems
from planner.jobs import JobRequest
from planner.contract.loading import RawTables, parse_json, read_upload, tables_from_mapping
from planner.contract.problems import Problem as DataProblem
from planner.contract.problems import LoadError, ProblemsError
from planner.contract.results import WITH_PLAN, records
from planner.contract.validation import ValidationReport, validate

MAX_FILES, MAX_FIELDS = 50, 20


def problem_items(items: list[DataProblem]) -> list[dict]:
    return [{"table": p.table, "row": p.row, "column": p.column, "message": p.message, "severity": p.severity} for p in items]


def _pydantic_items(exc: ValidationError, prefix: str = "") -> list[dict]:
    return [{"table": None, "row": None, "column": prefix + (".".join(str(x) for x in e["loc"]) or ""), "message": e["msg"]} for e in exc.errors()]


JSON_TYPES = ("application/json",)
UPLOAD_TYPE = "multipart/form-data"


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";", 1)[0].strip().lower()


@dataclass
class Exports:
    """A run sent as the CRM's and the supply side's exports, read (not yet derived)."""

    crm: CrmIn
    scm: RawTables
    doc: dict  # {"crm", "scm"} exactly as sent, stored with the run


async def read_submission(request: Request, upload: bool = False) -> tuple[RawTables | None, RunOptions, Exports | None]:
    """A JSON body {"instance", "options"} or {"crm", "scm", "options"}, or for ``upload`` a
    multipart upload (CSV files or one XLSX, options as JSON). Each operation takes one of the
    two media types (415 for the other), so that the OpenAPI document gives each one body a
    client generator can follow. Exports come back read and checked in shape; deriving the
    instance from them (:func:`prepare_exports`) is the caller's, in a worker thread."""
    kind = _media_type(request)
    if upload:
        if kind != UPLOAD_TYPE:
            raise HTTPProblem(415, "Unsupported Media Type", f"send the files as {UPLOAD_TYPE} (got {kind or 'no Content-Type'}); JSON goes to "
                              + request.url.path.removesuffix("/upload"))
        return (*await _read_multipart(request), None)
    if kind not in JSON_TYPES:
        raise HTTPProblem(415, "Unsupported Media Type", f"send the request as application/json (got {kind or 'no Content-Type'})"
                          + (f"; files go to {request.url.path}/upload" if kind == UPLOAD_TYPE else ""))
    try:
        doc = parse_json(await request.body() or b"null", "the body")
    except LoadError as exc:
        raise HTTPProblem(400, "Malformed JSON", exc.problems[0].message)
    if not isinstance(doc, dict):
        raise HTTPProblem(422, "Invalid request", errors=[{"table": None, "row": None, "column": None, "message": "the body must be an object {\"instance\": ..., \"options\": ...}"}])
    exports = "instance" not in doc and ("crm" in doc or "scm" in doc)
    wanted = ("crm", "scm") if exports else ("instance",)
    unknown = sorted(set(doc) - {*wanted, "options"})
    items = [{"table": None, "row": None, "column": k, "message": "unknown field" + (" (send an instance, or crm and scm)" if k in ("crm", "scm", "instance") else "")}
             for k in unknown]
    items += [{"table": None, "row": None, "column": k, "message": "Field required"} for k in wanted if k not in doc]
    if items:
        raise HTTPProblem(422, "Invalid request", errors=items)
    try:
        options = RunOptions.model_validate(doc.get("options", {}))
    except ValidationError as exc:
        raise HTTPProblem(422, "Invalid request", errors=_pydantic_items(exc, "options."))
    if exports:
        return None, options, _read_exports(doc)
    try:
        raw = tables_from_mapping(doc["instance"], "instance")
    except ProblemsError as exc:
        raise HTTPProblem(422, "Invalid instance", errors=problem_items(exc.problems))
    return raw, options, None


def _read_exports(doc: dict) -> Exports:
    """crm: its options checked by CrmIn (a mapping is a preset's name or an object: never a
    path), its rows read like a JSON instance's; scm: read like an instance."""
    try:
        crm = CrmIn.model_validate(doc["crm"])
    except ValidationError as exc:
        items = [{"table": None, "row": None, "column": "crm." + ".".join(str(x) for x in e["loc"]), "message": e["msg"]} for e in exc.errors()]
        raise HTTPProblem(422, "Invalid request", errors=items)
    try:
        scm = tables_from_mapping(doc["scm"], "scm")
    except ProblemsError as exc:
        raise HTTPProblem(422, "Invalid supply side", errors=_in_request(exc.problems, side="scm"))
    unknown = sorted(set(scm) - set(SCM_TABLES))
    if unknown:
        raise HTTPProblem(422, "Invalid supply side", errors=[{"table": f"scm.{t}", "row": None, "column": None,
                                                                  "message": f"not a supply-side table (tables: {', '.join(SCM_TABLES)})"} for t in unknown])
    return Exports(crm=crm, scm=scm, doc={"crm": doc["crm"], "scm": doc["scm"]})


def _in_request(problems: list[DataProblem], side: str | None = None) -> list[dict]:
    """Problems of the exports located in the request's body: the CRM's tables and options under
    ``crm``, the supply side's tables (every table, with ``side="scm"``) under ``scm``."""
    def where(table: str | None) -> str | None:
        if table in ("order_lines", "customers"):
            return f"crm.{table}"
        if table == "options":  # the CRM side's own options: start, segments, cutoffs
            return "crm"
        if table in SCM_TABLES or (side == "scm" and not (table or "").startswith("scm")):
            return f"scm.{table}" if table else "scm"
        return table

    return problem_items([DataProblem(p.severity, where(p.table), p.row, p.column, p.message) for p in problems])


def prepare_exports(exports: Exports) -> tuple[RawTables | None, dict[str, list[dict]], list[dict]]:
    """The planning instance derived from exports as ``planner prepare`` derives it (the job
    layer's ``prepare``), and the tables it was derived from; or the problems, located in the
    request (crm.order_lines row 12 column quantity, scm.suppliers...)."""
    crm = exports.crm
    found = scm_problems(exports.scm)  # every problem at once: the supply side's beside the CRM side's
    try:
        rows = tables_from_mapping({"order_lines": crm.order_lines, "customers": crm.customers}, "crm")
        data = crm_from_rows(rows["order_lines"], rows["customers"], crm.mapping or None, ("crm.order_lines", "crm.customers"))
        segmentation = crm.segments if isinstance(crm.segments, str) else assignment_from_rows(
            [s.model_dump() for s in crm.segments], set(data.customers["customer"]), "crm.segments")
    except ProblemsError as exc:
        return None, {}, _in_request(found + exc.problems)
    if found:
        return None, {}, _in_request(found)
    request = JobRequest(kind="prepare", crm=data, rates=crm.rates, segmentation=segmentation, cutoffs=tuple(crm.cutoffs),
                         scm=exports.scm, horizon_weeks=crm.weeks, start_week=crm.start, forecaster=crm.forecaster)
    try:
        result = jobs.run(request)
    except ProblemsError as exc:
        return None, {}, _in_request(exc.problems)
    raw = {name.removeprefix("instance/"): records(df) for name, df in result.tables.items() if name.startswith("instance/")}
    derivation = {name: records(df) for name, df in result.tables.items() if not name.startswith("instance/")}
    return raw, derivation, []


async def _read_multipart(request: Request) -> tuple[RawTables, RunOptions]:
    form = await request.form(max_files=MAX_FILES, max_fields=MAX_FIELDS)
    options_doc: Any = {}
    if "options" in form:
        try:
            options_doc = parse_json(str(form["options"]), "the options field")
        except LoadError as exc:
            raise HTTPProblem(422, "Invalid request", errors=[{"table": None, "row": None, "column": "options", "message": exc.problems[0].message}])
    try:
        options = RunOptions.model_validate(options_doc)
    except ValidationError as exc:
        raise HTTPProblem(422, "Invalid request", errors=_pydantic_items(exc, "options."))
    uploads = [v for _, v in form.multi_items() if hasattr(v, "filename") and hasattr(v, "read")]
    if not uploads:
        raise HTTPProblem(422, "Invalid request", "upload the CSV files of the tables (one per table, named after it) or one .xlsx workbook")
    raw: RawTables = {}
    for up in uploads:
        try:
            raw.update(read_upload(up.filename or "", await up.read()))
        except ProblemsError as exc:
            raise HTTPProblem(422, "Invalid upload", "; ".join(p.message for p in exc.problems), errors=problem_items(exc.problems))
    return raw, options


FROZEN = "options.constraints.frozen_periods"
NO_FILES = ("a list of order rows (supplier, product, period, quantity); the service reads no files: "
            "give the rows, or previous_run, the id of an earlier run of yours")


def _plan_orders(url: str, tenant: str, run_id: str) -> list[dict] | None:
    """The orders of the tenant's run ``run_id``, or None when it has no such run with a plan."""
    with db.session(url) as s:
        run = s.get(db.Run, run_id)
        if run is None or run.tenant != tenant or not run.result or run.result.get("status") not in WITH_PLAN:
            return None
        return list(run.result.get("orders") or [])


def resolve_previous_plan(options: RunOptions, tenant: str, url: str) -> tuple[RunOptions, list[dict]]:
    """frozen_periods' previous plan as the service takes it: rows, or ``previous_run`` (a run of
    the tenant's whose plan is read from the service's own database). Nothing a request sends is
    used as a path: a string is refused without being looked at, and the answer is the same
    whatever it names. Returns the options with the rows in place, and the problems."""
    frozen = (options.constraints or {}).get("frozen_periods")
    if not isinstance(frozen, dict):
        return options, []
    frozen = dict(frozen)
    problems = []
    if "previous_run" in frozen:
        run_id = frozen.pop("previous_run")
        if "previous_orders" in frozen:
            problems.append((f"{FROZEN}.previous_run", "give previous_orders or previous_run, not both"))
        elif not isinstance(run_id, str) or not 0 < len(run_id) <= 64:
            problems.append((f"{FROZEN}.previous_run", "the id of an earlier run of yours"))
        else:
            orders = _plan_orders(url, tenant, run_id)
            if orders is None:
                problems.append((f"{FROZEN}.previous_run", f"no run {run_id!r} with a plan among your runs"))
            frozen["previous_orders"] = orders or []
    elif "previous_orders" in frozen and not isinstance(frozen["previous_orders"], list):
        problems.append((f"{FROZEN}.previous_orders", NO_FILES))
        frozen["previous_orders"] = []  # reported once, here, not again by the family's own check
    resolved = options.model_copy(update={"constraints": {**options.constraints, "frozen_periods": frozen}})
    return resolved, [{"table": "options", "row": None, "column": column, "message": message, "severity": "error"} for column, message in problems]


def submission_problems(raw: RawTables, options: RunOptions, models_dirs: list[Path], found: list[dict] = ()) -> tuple[ValidationReport, list[dict]]:
    """The validator's report and every error of the request: data, model options, analysis
    (``found``: those found before, such as the previous plan's)."""
    report = validate(raw)
    errors = problem_items(report.errors) + list(found) + problem_items(jobs.check(options.job_request(report.instance, models_dirs)))
    return report, errors


def check_submission(raw: RawTables, options: RunOptions, models_dirs: list[Path], found: list[dict] = ()) -> None:
    """422 with every problem if anything in the request is wrong."""
    _, errors = submission_problems(raw, options, models_dirs, found)
    if errors:
        raise HTTPProblem(422, "Invalid instance", f"{len(errors)} problem(s); nothing was solved", errors=errors)


def request_hash(raw: RawTables, options: RunOptions) -> str:
    doc = {"instance": raw, "options": options.model_dump(mode="json")}
    return hashlib.sha256(json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest()
