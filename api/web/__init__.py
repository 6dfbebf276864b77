"""The web pages for planners, served by the service itself at ``/``: upload, check, run, watch,
read, decide, compare, download.

Server-rendered (Jinja2) with a few lines of plain JavaScript (progress, the product picker)
and plotly.js for the charts, served from the plotly package: nothing is fetched from the
internet, and there is no build step. Every page calls what the API calls — the same reading,
checking, storing and job layer — so a page and ``/v1`` can never disagree.

Sign-in: when the service has API keys, a page asks for one once; the browser then holds a
random session token in an HTTP-only, SameSite=Strict, Secure cookie, and the database only the
token's hash with the tenant and scopes the key gave (``db.WebSession``). A tenant sees only its
own runs, as through the API. Forms that change something also check that they were posted from
this site (Origin).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import secrets
import threading
import time
from pathlib import Path
from typing import Annotated, Any

import plotly
from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError
from sqlalchemy import delete

from api import db, states
from api.auth import SCOPES, Principal
from api.deps import ExecutorDep, SessionDep, SettingsDep
from api.problems import HTTPProblem
from api.quotas import RateLimiter
from api.routes.common import find_run
from api.routes.plans import plan_file, run_instance, stored_result
from api.routes.runs import accept, runs_page
from api.schemas import CrmIn, RunOptions
from api.submissions import Exports
from api.web import charts
from planner import jobs
from planner.analysis.profitability import profitability
from planner.contract.crm import PRESETS, SCM_TABLES, ServeRates
from planner.contract.loading import RawTables, read_upload
from planner.contract.outputs import KPI_UNITS
from planner.contract.problems import ProblemsError
from planner.contract.results import WITH_PLAN, Result
from planner.report.html import report_html

HERE = Path(__file__).resolve().parent
COOKIE = "planner_session"
SESSION_HOURS = 12
PLOTLY_JS = Path(plotly.__file__).resolve().parent / "package_data" / "plotly.min.js"
PAGE_SIZE = 20
LOGIN_ATTEMPTS_PER_SECOND = 1.0  # per client address, bursts of two
#: The figures the run page leads with (the rest are in kpis.csv and the downloads).
HEADLINE = ["profit", "revenue", "fill_rate", "expected_fill_rate", "perfect_order_rate", "cost_of_goods_sold", "average_inventory_value",
            "days_of_supply", "inventory_turns", "safety_stock_value", "order_cycle_time", "orders_placed", "suppliers_used", "mip_gap",
            "solve_seconds"]
STATUS_WORDS = {"queued": "waiting for a solver", "running": "being solved", "succeeded": "done", "failed": "failed", "cancelled": "cancelled"}

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=str(HERE / "templates"))


# ---- formatting: every number with its unit and thousands separators -------------------------

def _num(value: Any, digits: int = 0) -> str:
    if value is None or isinstance(value, float) and math.isnan(value):
        return "—"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    return f"{value:,.{digits}f}"


LABELS = {"mip_gap": "optimality gap", "gmroi": "GMROI", "solve_seconds": "solve time", "fill_rate": "fill rate (planned)"}
PLURAL = {"day": "days", "period": "periods", "second": "s", "unit": "units"}


def _label(name: str) -> str:
    text = LABELS.get(name, name.replace("_", " "))
    return text[:1].upper() + text[1:]


def _kpi(name: str, value: Any) -> str:
    unit = KPI_UNITS.get(name, "")
    if value is None or isinstance(value, float) and math.isnan(value):
        return "—"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if unit.startswith("fraction"):
        return f"{value:.1%}" if name != "mip_gap" else f"{value:.2%}"
    digits = 0 if unit in ("unit", "orders", "suppliers", "groups") else 1 if unit in ("day", "period", "second", "turns / horizon", "money / money") else 2
    unit = PLURAL.get(unit, unit)
    return f"{value:,.{digits}f} {unit}".strip()


templates.env.filters.update(num=_num, kpi=_kpi, label=_label)
templates.env.globals.update(status_words=STATUS_WORDS, kpi_units=KPI_UNITS)


# ---- who is asking ---------------------------------------------------------------------------

class SignIn(Exception):
    """No session: the page redirects to the sign-in page, and back after it."""

    def __init__(self, back: str):
        self.back = back


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def viewer(request: Request) -> Principal:
    """The signed-in tenant (every tenant is 'default' when the service has no keys)."""
    store = request.app.state.keys
    if not store.enabled:
        who = Principal("default", frozenset(SCOPES))
    else:
        token = request.cookies.get(COOKIE)
        who = _session(request.app.state.settings.database_url, token) if token else None
        if who is None:
            raise SignIn(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
    request.app.state.rate.take(who.tenant)
    return who


def _session(url: str, token: str) -> Principal | None:
    with db.session(url) as s:
        row = s.get(db.WebSession, _token_hash(token))
        expires = row.expires_at if row is None or row.expires_at.tzinfo else row.expires_at.replace(tzinfo=dt.timezone.utc)  # SQLite drops the zone
        if row is None or expires < db.utcnow():
            return None
        return Principal(row.tenant, frozenset(row.scopes))


Viewer = Annotated[Principal, Depends(viewer)]


def editor(request: Request, who: Viewer) -> Principal:
    """A signed-in tenant allowed to write, posting from this site."""
    origin = request.headers.get("origin")
    if origin is not None and origin != f"{request.url.scheme}://{request.url.netloc}":
        raise HTTPProblem(403, "Forbidden", "this form was posted from another site")
    if "write" not in who.scopes:
        raise HTTPProblem(403, "Not allowed", "your key may read runs but not start or change them")
    return who


Editor = Annotated[Principal, Depends(editor)]


def _page(request: Request, name: str, who: Principal | None, status_code: int = 200, **context: Any) -> HTMLResponse:
    keys = request.app.state.keys.enabled
    return templates.TemplateResponse(request, name, {"who": who, "keys": keys, **context}, status_code=status_code)


# ---- sign in and out -------------------------------------------------------------------------

@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str = "/"):
    return _page(request, "login.html", None, back=_local(next))


@router.post("/login")
async def login(request: Request, settings: SettingsDep):
    request.app.state.login_rate.take(request.client.host if request.client else "unknown")  # keys are not guessed at speed
    form = await request.form(max_fields=5)
    back = _local(str(form.get("next") or "/"))
    try:
        who = request.app.state.keys.principal(str(form.get("key") or ""), [])
    except HTTPProblem:
        return _page(request, "login.html", None, status_code=401, back=back, error="That key is not one this service knows. Check it and try again.")
    token = secrets.token_urlsafe(32)
    now = db.utcnow()
    with db.session(settings.database_url) as s:
        s.execute(delete(db.WebSession).where(db.WebSession.expires_at < now))
        s.add(db.WebSession(token_sha256=_token_hash(token), tenant=who.tenant, scopes=sorted(who.scopes),
                            expires_at=now + dt.timedelta(hours=SESSION_HOURS)))
        s.commit()
    response = RedirectResponse(back, status_code=303)
    response.set_cookie(COOKIE, token, max_age=SESSION_HOURS * 3600, httponly=True, secure=True, samesite="strict", path="/")
    return response


@router.post("/logout")
def logout(request: Request, settings: SettingsDep):
    token = request.cookies.get(COOKIE)
    if token:
        with db.session(settings.database_url) as s:
            s.execute(delete(db.WebSession).where(db.WebSession.token_sha256 == _token_hash(token)))
            s.commit()
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


def _local(path: str) -> str:
    """Only a path of this site to go back to (never another site's address)."""
    return path if path.startswith("/") and not path.startswith("//") and "\\" not in path else "/"


# ---- runs ------------------------------------------------------------------------------------

@router.get("/", response_class=HTMLResponse)
def runs_list(request: Request, who: Viewer, s: SessionDep, status: str = "", tag: str = "", since: str = "", until: str = "",
              page: Annotated[int, Query(ge=1, le=10**6)] = 1):
    errors = []
    days = {}
    for name, value in (("since", since), ("until", until)):
        try:
            days[name] = dt.datetime.fromisoformat(value).replace(tzinfo=dt.timezone.utc) if value else None
        except ValueError:
            errors.append(f"{value!r} is not a date (write 2026-12-01)")
            days[name] = None
    if days["until"] is not None:
        days["until"] += dt.timedelta(days=1)  # through the day given
    total, rows = runs_page(s, who.tenant, status if status in STATUS_WORDS else None, tag or None, days["since"], days["until"],
                            limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    pages = max(1, math.ceil(total / PAGE_SIZE))
    query = {k: v for k, v in {"status": status, "tag": tag, "since": since, "until": until}.items() if v}
    return _page(request, "runs.html", who, runs=rows, total=total, page=page, pages=pages, filters=query, errors=errors,
                 statuses=list(STATUS_WORDS), query=query)


@router.get("/runs/{run_id}", response_class=HTMLResponse)
def run_page(run_id: str, request: Request, who: Viewer, s: SessionDep):
    return _page(request, "run.html", who, **_run_context(s, who, run_id))


def _run_context(s, who: Principal, run_id: str) -> dict[str, Any]:
    run = find_run(s, who, run_id)
    context: dict[str, Any] = {"run": run, "final": run.status in db.FINAL, "has_plan": False}
    # the run's summary columns say whether it has a plan: a finished plan's page is kept, and
    # showing it again reads neither the result nor the input (megabytes of JSON at 1,000 products)
    if run.status in db.FINAL and run.plan_status in WITH_PLAN:
        context.update(_finished_plan(run))
        return context
    if run.status in db.FINAL and run.result:
        context["messages"] = run.result.get("messages") or []
    context["suppliers_of_run"] = _suppliers_of(run)
    return context


def _suppliers_of(run: db.Run) -> list[str]:
    return sorted({r.get("supplier") for r in (run.instance or {}).get("suppliers", []) if isinstance(r, dict)} - {None})


def _finished_plan(run: db.Run) -> dict[str, Any]:
    """A finished run never changes: what its page shows is made once and kept (the last few
    runs viewed), so reading it again costs no more than the page itself."""
    key = (run.id, run.finished_at)
    with _VIEWED_LOCK:  # pages are served from several threads
        context = _VIEWED.get(key)
    if context is None:
        context = {**_plan_context(run, Result.from_json_dict(run.result)), "suppliers_of_run": _suppliers_of(run)}
        with _VIEWED_LOCK:
            _VIEWED[key] = context
            while len(_VIEWED) > VIEWED_RUNS:
                _VIEWED.pop(next(iter(_VIEWED)))
    return context


VIEWED_RUNS = 16
_VIEWED: dict[tuple, dict[str, Any]] = {}
_VIEWED_LOCK = threading.Lock()


def _plan_context(run: db.Run, result: Result) -> dict[str, Any]:
    """What the run page shows of a plan: figures, tables, charts, analysis tables."""
    plan = result.plan
    inst = run_instance(run)
    prof = profitability(inst, plan.tables, plan.kpis)
    segs = plan.tables["segments"].merge(prof[["segment", "profit"]], on="segment", how="left")
    figures = {
        "inventory": charts.inventory(plan, inst.periods),
        "orders": charts.orders_by_supplier(plan, inst.periods),
        "service": charts.service_by_segment(plan),
        "profit": charts.profit_by_segment(prof),
    }
    analysis = {name: df for name, df in result.tables.items() if len(df)}
    if "frontier" in analysis:
        figures["frontier"] = charts.frontier(analysis["frontier"])
    return {
        "has_plan": True, "kpis": [(k, plan.kpis.get(k)) for k in HEADLINE if k in plan.kpis],
        "segments": segs.to_dict("records"), "suppliers": plan.tables["suppliers"].to_dict("records"),
        # inside <script>: a label holding "</script>" or "<!--" must not end the element
        "figures": json.dumps(_finite(figures), allow_nan=False, default=str).replace("<", "\\u003c"), "analysis": analysis,
    }


def _finite(value: Any) -> Any:
    """The charts' data with NaN and infinities as null (JSON has neither; JSON.parse refuses them)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


@router.get("/runs/{run_id}/status")
def run_status(run_id: str, who: Viewer, s: SessionDep):
    """What the run page's progress line polls."""
    run = find_run(s, who, run_id)
    return JSONResponse({"status": run.status, "words": STATUS_WORDS.get(run.status, run.status), "final": run.status in db.FINAL,
                         "progress": run.progress, "cancel_requested": run.cancel_requested})


@router.post("/runs/{run_id}/cancel")
def cancel(run_id: str, who: Editor, s: SessionDep):
    run = find_run(s, who, run_id)
    try:
        states.cancel(s, run)
    except states.TransitionError:
        pass  # finished meanwhile: the page shows how
    return RedirectResponse(f"/runs/{run_id}", status_code=303)


@router.get("/runs/{run_id}/plan.xlsx")
def download_xlsx(run_id: str, who: Viewer, s: SessionDep):
    return plan_file(*stored_result(s, who, run_id), "xlsx")


@router.get("/runs/{run_id}/plan.zip")
def download_zip(run_id: str, who: Viewer, s: SessionDep):
    return plan_file(*stored_result(s, who, run_id), "csv")


@router.get("/runs/{run_id}/report.html", response_class=HTMLResponse)
def download_report(run_id: str, who: Viewer, s: SessionDep):
    run, result = stored_result(s, who, run_id)
    html = report_html(run_instance(run), result.plan, {n: df for n, df in result.tables.items() if len(df)})
    return HTMLResponse(html, headers={"Content-Disposition": f'attachment; filename="report-{run_id}.html"'})


# ---- a new run -------------------------------------------------------------------------------

def _families() -> list[dict[str, Any]]:
    """The constraint families as the form shows them, from the model registry: an analyst's new
    family appears with no change to the page. Parameters that are numbers, whole numbers, text
    or yes/no are fields; others (lists of rows) are set through the API."""
    out = []
    for fam in jobs.families().values():
        params = []
        for name, info in fam.params.model_fields.items():
            kind = {float: "number", int: "integer", bool: "checkbox", str: "text"}.get(info.annotation)
            if kind is None:
                continue
            default = None if info.is_required() else info.default
            extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
            params.append({"name": name, "kind": kind, "default": default, "required": info.is_required(), "unit": extra.get("unit", ""),
                           "description": info.description or ""})
        out.append({"name": fam.name, "summary": fam.summary, "on": fam.default_on, "can_disable": fam.can_disable, "params": params})
    return out


@router.get("/new", response_class=HTMLResponse)
def new_run(request: Request, who: Viewer, s: SessionDep, base: str = ""):
    base_run = find_run(s, who, base) if base else None
    return _page(request, "new.html", who, families=_families(), base=base_run, presets=list(PRESETS), form={}, errors=[])


def _options(form, families: list[dict[str, Any]]) -> tuple[dict[str, Any], list[dict]]:
    """RunOptions' document from the form's fields, or what is wrong with them."""
    problems = []
    doc: dict[str, Any] = {}
    for name, cast in (("time_limit", float), ("mip_gap", float)):
        raw = str(form.get(name) or "").strip()
        if raw:
            try:
                doc[name] = cast(raw) / (100 if name == "mip_gap" else 1)
            except ValueError:
                problems.append({"table": "options", "row": None, "column": name, "message": f"not a number: {raw!r}"})
    if str(form.get("name") or "").strip():
        doc["name"] = str(form.get("name")).strip()
    tags = [t.strip() for t in str(form.get("tags") or "").split(",") if t.strip()]
    if tags:
        doc["tags"] = tags
    constraints: dict[str, Any] = {}
    for fam in families:
        on = form.get(f"family.{fam['name']}") == "on" or (fam["on"] and not fam["can_disable"])
        params = {}
        for p in fam["params"]:
            field = f"param.{fam['name']}.{p['name']}"
            raw = form.get(field)
            if p["kind"] == "checkbox":
                value = raw == "on"
                if value != bool(p["default"]):
                    params[p["name"]] = value
                continue
            raw = str(raw or "").strip()
            if not raw:
                continue
            try:
                value = int(raw) if p["kind"] == "integer" else float(raw) if p["kind"] == "number" else raw
            except ValueError:
                problems.append({"table": "options", "row": None, "column": f"{fam['name']}.{p['name']}", "message": f"not a number: {raw!r}"})
                continue
            if value != p["default"]:
                params[p["name"]] = value
        if on and (params or not fam["on"]):
            constraints[fam["name"]] = params
        elif not on and fam["on"]:
            constraints[fam["name"]] = False
    if constraints:
        doc["constraints"] = constraints
    return doc, problems


async def _uploads(form) -> tuple[RawTables, list[dict]]:
    raw: RawTables = {}
    problems = []
    for up in form.getlist("files"):
        if not getattr(up, "filename", None):
            continue
        try:
            raw.update(read_upload(up.filename, await up.read()))
        except ProblemsError as exc:
            problems += [{"table": p.table or up.filename, "row": p.row, "column": p.column, "message": p.message} for p in exc.problems]
    return raw, problems


@router.post("/new", response_class=HTMLResponse)
async def submit_new_run(request: Request, who: Editor, settings: SettingsDep, executor: ExecutorDep):
    families = _families()
    async with request.app.state.gate.turn():
        form = await request.form(max_files=60, max_fields=400)
        doc, problems = _options(form, families)
        raw, more = await _uploads(form)
        problems += more
        base_id = str(form.get("base") or "")
        mode = str(form.get("mode") or "instance")
        exports, base = None, None
        if base_id:
            with db.session(settings.database_url) as s:
                base = find_run(s, who, base_id)
                raw = {**(base.instance or {}), **raw}  # the tables uploaded replace the base run's, the rest are kept
        if not raw and not problems:
            problems.append({"table": None, "row": None, "column": None,
                             "message": "no files: choose a workbook (.xlsx) or the CSV files of the tables"})
        try:
            options = RunOptions.model_validate(doc)
        except ValidationError as exc:
            options = RunOptions()
            problems += [{"table": "options", "row": None, "column": ".".join(str(x) for x in e["loc"]), "message": e["msg"]} for e in exc.errors()]
        if mode == "exports" and not problems:
            exports, more = _exports(raw, form)
            problems += more
        if problems:
            return _page(request, "new.html", who, status_code=422, families=families, base=base, presets=list(PRESETS), form=form, errors=problems)
        try:
            run, _ = await accept(None if exports else raw, options, exports, who, settings, executor)
        except HTTPProblem as exc:
            errors = exc.errors or [{"table": None, "row": None, "column": None, "message": exc.detail or exc.title}]
            return _page(request, "new.html", who, status_code=exc.status if exc.status < 500 else 422, families=families, base=base,
                         presets=list(PRESETS), form=form, errors=errors)
    return RedirectResponse(f"/runs/{run.id}", status_code=303)


def _exports(raw: RawTables, form) -> tuple[Exports | None, list[dict]]:
    """The CRM's exports (order_lines, customers) and the supply side's tables among the files."""
    missing = [t for t in ("order_lines", "customers") if t not in raw]
    if missing:
        return None, [{"table": t, "row": None, "column": None, "message": "the CRM export is missing (a file named after it: order_lines.csv, customers.csv)"} for t in missing]
    crm = {"order_lines": raw["order_lines"], "customers": raw["customers"]}
    preset = str(form.get("mapping") or "")
    if preset:
        crm["mapping"] = preset
    if str(form.get("weeks") or "").strip():
        try:
            crm["weeks"] = int(str(form.get("weeks")))
        except ValueError:
            return None, [{"table": "crm", "row": None, "column": "weeks", "message": "a whole number of weeks"}]
    rates = {}
    for rate in ServeRates.model_fields:
        text = str(form.get(f"rate.{rate}") or "").strip()
        if text:
            try:
                rates[rate] = float(text)
            except ValueError:
                return None, [{"table": "crm", "row": None, "column": f"rates.{rate}", "message": f"not an amount of money: {text!r}"}]
    if rates:
        crm["rates"] = rates
    try:
        model = CrmIn.model_validate(crm)
    except ValidationError as exc:
        return None, [{"table": "crm", "row": None, "column": ".".join(str(x) for x in e["loc"]), "message": e["msg"]} for e in exc.errors()]
    scm = {t: rows for t, rows in raw.items() if t in SCM_TABLES}
    return Exports(crm=model, scm=scm, doc={"crm": {k: v for k, v in crm.items()}, "scm": scm}), []


# ---- decide: analyses on a run's instance ------------------------------------------------------

@router.post("/runs/{run_id}/analyse")
async def analyse(run_id: str, request: Request, who: Editor, settings: SettingsDep, executor: ExecutorDep):
    form = await request.form(max_fields=40)
    kind = str(form.get("kind") or "")
    with db.session(settings.database_url) as s:
        run = find_run(s, who, run_id)
        raw, options = dict(run.instance or {}), dict(run.options or {})
    analysis: dict[str, Any] = {"kind": kind}
    problems = []
    if kind == "scenario":
        changes, problems = _changes(form)
        analysis["changes"] = changes
    elif kind not in ("value_of_integration", "frontier"):
        problems.append(f"unknown analysis {kind!r}")
    title = {"value_of_integration": "value of integration", "frontier": "profit-service frontier", "scenario": "what-if"}.get(kind, kind)
    doc = {k: v for k, v in options.items() if k in RunOptions.model_fields and k not in ("analysis", "webhook", "name")}
    doc.update(analysis=analysis, name=f"{title} of {run.name or run_id[:8]}")
    if not problems:
        try:
            async with request.app.state.gate.turn():
                new, _ = await accept(raw, RunOptions.model_validate(doc), None, who, settings, executor)
            return RedirectResponse(f"/runs/{new.id}", status_code=303)
        except HTTPProblem as exc:
            problems = [e["message"] for e in exc.errors or []] or [exc.detail or exc.title]
        except ValidationError as exc:
            problems = [e["msg"] for e in exc.errors()]
    with db.session(settings.database_url) as s:
        context = _run_context(s, who, run_id)
    return _page(request, "run.html", who, status_code=422, decide_errors=problems, **context)


def _changes(form) -> tuple[list[dict[str, Any]], list[str]]:
    """The what-if form's fields as scenario changes (planner.analysis.scenario)."""
    changes, problems = [], []
    for field, kind in (("demand", "demand_scale"), ("price", "price_scale"), ("capacity", "capacity_scale")):
        raw = str(form.get(field) or "").strip().rstrip("x×")
        if raw:
            try:
                factor = float(raw)
            except ValueError:
                problems.append(f"{field} ×: not a number ({raw!r})")
                continue
            if not 0 <= factor <= 100:
                problems.append(f"{field} ×: between 0 and 100")
                continue
            if factor != 1:
                changes.append({"type": kind, "factor": factor})
    down = str(form.get("supplier_down") or "").strip()
    if down:
        changes.append({"type": "supplier_down", "supplier": down})
    if not changes and not problems:
        problems.append("change something: demand, price or capacity by a factor, or a supplier down")
    return changes, problems


# ---- compare two runs ------------------------------------------------------------------------

@router.get("/compare", response_class=HTMLResponse)
def compare(request: Request, who: Viewer, s: SessionDep, base: str = "", other: str = "", pick: Annotated[list[str], Query()] = []):  # noqa: B006
    if not base and len(pick) == 2:  # the list's ticks, oldest first: what changed since
        other, base = pick
    if not base or not other:
        return _page(request, "compare.html", who, status_code=422, error="pick two runs with a plan to compare (tick them in the list)")
    try:
        (run_a, a), (run_b, b) = stored_result(s, who, base), stored_result(s, who, other)
    except HTTPProblem as exc:
        return _page(request, "compare.html", who, status_code=exc.status, error=exc.detail or exc.title)
    diff = jobs.run(jobs.JobRequest(kind="diff", base=a.plan, other=b.plan)).tables
    tables = {n.removeprefix("diff_"): df for n, df in diff.items()}
    return _page(request, "compare.html", who, base=run_a, other=run_b, tables=tables, kpis=tables.pop("kpis").to_dict("records"))


# ---- wiring ----------------------------------------------------------------------------------

def install(app: FastAPI) -> None:
    """Mount the pages, their static files and the sign-in redirect on the service."""
    app.state.login_rate = RateLimiter(LOGIN_ATTEMPTS_PER_SECOND)
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    @app.get("/vendor/plotly.min.js", include_in_schema=False)
    def plotly_js():
        return FileResponse(PLOTLY_JS, media_type="text/javascript", headers={"Cache-Control": "public, max-age=86400"})

    @app.exception_handler(SignIn)
    async def sign_in(request: Request, exc: SignIn):
        return RedirectResponse(f"/login?next={exc.back}", status_code=303)

    @app.middleware("http")
    async def server_timing(request: Request, call_next):
        # the page-load budget is measured on the server's time (tests/web read this header)
        t = time.perf_counter()
        response: Response = await call_next(request)
        response.headers["Server-Timing"] = f"app;dur={(time.perf_counter() - t) * 1000:.1f}"
        return response


__all__ = ["install"]
