"""The command line, a face: each command parses its arguments, calls the job layer, renders.

Exit codes: 0 a plan (optimal or feasible) or success, 2 invalid data or
options, 3 infeasible or no plan found in time, 1 anything else.
"""

from __future__ import annotations

import enum
import sys
import time
import traceback
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, Iterator, Optional

import psutil
import typer
import uvicorn
from pydantic import ValidationError

from instances.generator import generate, write_instance
from instances.order_history import generate_for_instance, write_orders
from planner import jobs
from planner.cli import render
from planner.cli.render import console, err
from planner.contract.crm import PRESETS, SCM_TABLES, ServeRates, read_assignment, read_crm
from planner.contract.docs import inputs_markdown, outputs_markdown
from planner.contract.instance import Instance
from planner.contract.loading import parse_json, read_orders, read_tables
from planner.contract.problems import Problem, ProblemsError
from planner.contract.results import Result, read_plan
from planner.contract.validation import load_report
from planner.jobs.settings import PlannerSettings
from planner.report.files import write_result

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Joint demand-supply planning: service tiers, inventory and supplier orders in one model.")
models_app = typer.Typer(no_args_is_help=True, help="The model's constraint families: list them, read one.")
app.add_typer(models_app, name="models")

EXIT_PLAN, EXIT_ERROR, EXIT_INVALID, EXIT_NO_PLAN = 0, 1, 2, 3

InstanceArg = Annotated[Path, typer.Argument(help="The instance: a folder of CSV files, an .xlsx workbook or a .json file.")]
OptionsFile = Annotated[Optional[Path], typer.Option("--options", help="JSON file of model options, e.g. {\"constraints\": {\"single_sourcing\": {}}}.")]
ModelsDir = Annotated[Optional[list[Path]], typer.Option("--models", help="Folder of extra constraint families (also PLANNER_MODELS_PATH); repeatable.")]
Out = Annotated[Optional[Path], typer.Option("--out", "-o", help="Folder to write the results to.")]
TimeLimit = Annotated[Optional[float], typer.Option("--time-limit", min=0, help="Seconds HiGHS may search, per solve.")]
MipGap = Annotated[float, typer.Option("--mip-gap", min=0, max=1, help="Relative optimality gap at which to stop.")]


class Route(str, enum.Enum):
    auto = "auto"
    monolithic = "monolithic"
    decompose = "decompose"


@app.callback()
def main(ctx: typer.Context) -> None:
    """Joint demand-supply planning: service tiers, inventory and supplier orders in one model."""
    ctx.obj = PlannerSettings()  # the environment, read once per command
    ctx.meta["started"] = _command_start()


def _command_start() -> float:
    """When the command started (``time.time()``): the process's start when the process is the
    ``planner`` command — its imports are part of what the user waits for — else now (a caller
    running the app in a process of its own, such as a test)."""
    if Path(sys.argv[0]).name in ("planner", "planner.exe"):
        return psutil.Process().create_time()
    return time.time()


# ---- parsing ---------------------------------------------------------------------------

def _invalid(items: list[Problem]) -> typer.Exit:
    render.problems(items)
    return typer.Exit(EXIT_INVALID)


def _json_file(path: Path | None, what: str) -> Any:
    if path is None:
        return None
    try:
        return parse_json(path.read_bytes(), str(path))
    except OSError as exc:
        raise _invalid([Problem("error", what, None, None, f"cannot read {path}: {exc}")])
    except ProblemsError as exc:
        raise _invalid([Problem("error", what, None, None, p.message) for p in exc.problems])


def _instance(path: Path) -> Instance:
    """Read and validate; print every problem; exit 2 unless the instance can be planned."""
    try:
        report = load_report(path)
    except ProblemsError as exc:
        raise _invalid(exc.problems)
    render.problems(report.problems)
    if not report.ok:
        err.print(f"[red]{len(report.errors)} error(s)[/red], {len(report.warnings)} warning(s): the instance cannot be planned.")
        raise typer.Exit(EXIT_INVALID)
    return report.instance


def _previous_orders_read(options: dict | None) -> dict | None:
    """frozen_periods' previous orders given as a path (an orders.csv or a plan folder) read into
    rows: paths are the command line's to follow, the job layer and the service take rows only."""
    frozen = ((options or {}).get("constraints") or {}).get("frozen_periods")
    if isinstance(frozen, dict) and isinstance(frozen.get("previous_orders"), str):
        try:
            frozen["previous_orders"] = read_orders(frozen["previous_orders"])
        except ProblemsError as exc:
            raise _invalid(exc.problems)
    return options


def _request(ctx: typer.Context, kind: str, instance: Path, options: dict | None, models: list[Path] | None, **kw: Any) -> jobs.JobRequest:
    """A job request from the common arguments; its problems (options, families, floors,
    scenario changes) exit 2 before anything is solved."""
    options = _previous_orders_read(options)
    kw.setdefault("workers", ctx.obj.decompose_workers)
    request = jobs.JobRequest(
        kind=kind, instance=_instance(instance), model_options=options, models_dirs=ctx.obj.models_dirs(models),
        progress=render.ProgressPrinter(), dask_scheduler=ctx.obj.dask_scheduler, **kw,
    )
    problems = jobs.check(request)
    if problems:
        raise _invalid(problems)
    return request


@contextmanager
def _outcomes(debug: bool = False) -> Iterator[None]:
    """Problems found while building (a family that cannot apply to the data) exit 2; anything
    unexpected is one line (the traceback with --debug), exit 1."""
    try:
        yield
    except ProblemsError as exc:
        raise _invalid(exc.problems)
    except Exception as exc:  # the last line of defence: a message, never a bare traceback
        if debug:
            traceback.print_exc()
        err.print(f"[red]error:[/red] planning failed unexpectedly: {type(exc).__name__}: {exc}")
        raise typer.Exit(EXIT_ERROR)


def _run(request: jobs.JobRequest, debug: bool = False) -> Result:
    with _outcomes(debug):
        if err.is_terminal and not request.log:
            with err.status("building the model...") as status:
                request.progress.status = status
                return jobs.run(request)
        return jobs.run(request)


def _write(out: Path | None, inst: Instance | None, result: Result, debug: bool = False, **kw: Any) -> None:
    if out is None:
        return
    try:
        write_result(out, inst, result, **kw)
    except Exception as exc:  # what is written stays; a failed report must not hide the plan
        if debug:
            traceback.print_exc()
        err.print(f"[yellow]warning:[/yellow] not everything could be written to {out}: {type(exc).__name__}: {exc}")


def _exit_for(status: str) -> typer.Exit:
    if status in ("optimal", "feasible"):
        return typer.Exit(EXIT_PLAN)
    if status in ("infeasible", "no_solution_found"):
        if status == "no_solution_found":
            err.print("[yellow]no feasible plan was found within the time limit[/yellow]; try a longer --time-limit.")
        return typer.Exit(EXIT_NO_PLAN)
    return typer.Exit(EXIT_ERROR)


# ---- commands --------------------------------------------------------------------------

@app.command("validate")
def validate_cmd(instance: InstanceArg) -> None:
    """Check an instance and report every data problem at once (table, row, column, reason)."""
    inst = _instance(instance)
    console.print(f"[green]valid[/green]: {inst.describe()}")


@app.command("solve")
def solve_cmd(
    ctx: typer.Context,
    instance: InstanceArg,
    out: Out = None,
    time_limit: Annotated[Optional[float], typer.Option("--time-limit", min=0, help="Seconds the whole command may take: reading, the search, and writing plan, report and workbook (--explain and --frontier add solves of their own).")] = None,
    mip_gap: MipGap = 1e-3,
    threads: Annotated[Optional[int], typer.Option("--threads", min=1, help="HiGHS threads.")] = None,
    route: Annotated[Route, typer.Option("--route", help="monolithic: HiGHS on the whole model; decompose: a Lagrangian bound by product, its blocks on Dask workers (PLANNER_DASK_SCHEDULER, or a local cluster); auto: decompose from 100,000 binaries on.")] = Route.auto,
    workers: Annotated[Optional[int], typer.Option("--workers", min=0, help="Decomposed runs without PLANNER_DASK_SCHEDULER: worker processes of the local cluster (default PLANNER_DECOMPOSE_WORKERS, 1; 0: in this process).")] = None,
    log: Annotated[bool, typer.Option("--log", help="Show HiGHS's own log.")] = False,
    options: OptionsFile = None,
    models: ModelsDir = None,
    explain: Annotated[bool, typer.Option("--explain", help="Add shadow prices of the limits and why each segment got its tier (extra solves).")] = False,
    with_frontier: Annotated[bool, typer.Option("--frontier", help="Add the profit/service trade-off frontier to the report (extra solves).")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks of unexpected errors.")] = False,
) -> None:
    """Plan an instance: choose service tiers, inventory and orders to maximise profit.

    With --out, the folder also gets report.html (open it in a browser), the charts as PNG
    and report.xlsx with every table."""
    t0 = time.perf_counter()
    extra = {"workers": workers} if workers is not None else {}
    if time_limit is not None:  # counted from the start of the command: what a user waits for
        extra["deadline"] = time.monotonic() - (time.time() - ctx.meta["started"]) + time_limit
    request = _request(ctx, "solve", instance, _json_file(options, "options"), models, time_limit=time_limit, mip_gap=mip_gap, threads=threads, log=log,
                       explain=explain, frontier=with_frontier, route=route.value, **extra)
    err.print(f"{request.instance.describe()}; loaded and validated in {time.perf_counter() - t0:.2f}s", highlight=False)
    result = _run(request, debug)
    _write(out, request.instance, result, debug)
    render.summary(result.plan, out)
    raise _exit_for(result.plan.status)


@app.command("verify")
def verify_cmd(
    ctx: typer.Context,
    instance: Annotated[Path, typer.Argument(help="The instance the plan was made for.")],
    plan_dir: Annotated[Path, typer.Argument(help="Folder with the plan's CSV files (as written by `planner solve --out`).")],
    options: OptionsFile = None,
    models: ModelsDir = None,
) -> None:
    """Recompute every constraint and the objective of a written plan (pandas only, no solver).

    The constraint families checked are those in the plan's plan.json, unless --options is given."""
    try:
        plan = read_plan(plan_dir)
    except ProblemsError as exc:
        err.print(f"[red]error:[/red] cannot use the plan in {plan_dir}:")
        raise _invalid(exc.problems)
    model_options = _json_file(options, "options") if options is not None else plan.options.get("model") or None  # as it was made
    result = _run(_request(ctx, "verify", instance, model_options, models, base=plan))
    violations = result.tables["violations"]
    for v in violations.itertuples(index=False):
        err.print(f"[red]violation[/red] {v.check} [{v.where}]: {v.message} (by {v.amount:.6g})", highlight=False)
    if len(violations):
        err.print(f"[red]{len(violations)} violation(s)[/red]")
        raise typer.Exit(EXIT_ERROR)
    profit = result.tables["profit_terms"].set_index("term").at["profit", "value"]
    console.print(f"[green]plan verified[/green]: every constraint holds; recomputed profit {profit:,.2f}")


@app.command("value")
def value_cmd(ctx: typer.Context, instance: InstanceArg, out: Out = None, time_limit: TimeLimit = None, mip_gap: MipGap = 1e-3,
              options: OptionsFile = None, models: ModelsDir = None) -> None:
    """Value of integration: CRM-led, SCM-led and integrated plans side by side."""
    request = _request(ctx, "value_of_integration", instance, _json_file(options, "options"), models, time_limit=time_limit, mip_gap=mip_gap)
    result = _run(request)
    render.table(result.tables["value_of_integration"], "Value of integration")
    render.table(result.tables["value_of_integration_segments"], "Tiers and profit contribution by segment")
    integrated = result.plan.kpis.get("profit")
    for versus, label in (("crm_led", "CRM-led (every segment at its highest tier)"), ("scm_led", "SCM-led (every segment at its lowest allowed tier)")):
        other = result.plans[versus]
        gain = "n/a (" + other.status + ")" if integrated is None or other.profit is None else f"{integrated - other.profit:,.2f}"
        console.print(f"integration earns {gain} over {label}", highlight=False)
    _write(out, request.instance, result)
    if out is not None:
        console.print(f"written to {out} (report.html, value_of_integration.csv, one plan folder per way of planning)")


@app.command("frontier")
def frontier_cmd(
    ctx: typer.Context,
    instance: InstanceArg,
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Folder for frontier.csv and frontier.png.")] = None,
    floors: Annotated[Optional[str], typer.Option("--floors", help="Comma-separated overall fill-rate floors, e.g. 0.9,0.95,0.99.")] = None,
    time_limit: TimeLimit = None,
    mip_gap: MipGap = 1e-3,
    options: OptionsFile = None,
    models: ModelsDir = None,
) -> None:
    """Trade-off frontier: profit against overall fill rate and inventory investment."""
    try:
        fl = [float(x) for x in floors.split(",")] if floors else None
    except ValueError:
        raise _invalid([Problem("error", "options", None, "floors", f"not a list of fill rates between 0 and 1: {floors!r}")])
    request = _request(ctx, "frontier", instance, _json_file(options, "options"), models, time_limit=time_limit, mip_gap=mip_gap, floors=fl)
    result = _run(request)
    render.table(result.tables["frontier"], "Profit against service (chosen = the integrated plan)")
    _write(out, request.instance, result)
    if out is not None:
        console.print(f"written to {out} (frontier.csv, frontier.png)")


@app.command("scenario")
def scenario_cmd(
    ctx: typer.Context,
    instance: Annotated[Path, typer.Argument(help="The base instance.")],
    scenario: Annotated[Path, typer.Argument(help='JSON: {"name": ..., "changes": [{"type": "demand_scale", "segment": ..., "factor": 1.2}, ...]}.')],
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Folder for the base and scenario plans and their differences.")] = None,
    time_limit: TimeLimit = None,
    mip_gap: MipGap = 1e-3,
    options: OptionsFile = None,
    models: ModelsDir = None,
) -> None:
    """What-if: apply named changes to an instance, solve both, and compare."""
    doc = _json_file(scenario, "scenario")
    if not isinstance(doc, dict) or not isinstance(doc.get("changes", []), list):
        raise _invalid([Problem("error", "scenario", None, None, f"{scenario}: expected an object with a list of changes")])
    request = _request(ctx, "scenario", instance, _json_file(options, "options"), models, time_limit=time_limit, mip_gap=mip_gap, changes=doc.get("changes", []))
    result = _run(request)
    name = str(doc.get("name", scenario.stem))
    console.print(f"base: {result.plans['base'].status}, scenario {name!r}: {result.plan.status}", highlight=False)
    if "diff_kpis" not in result.tables:
        for p in (result.plans["base"], result.plan):
            for msg in p.messages:
                err.print(msg, highlight=False)
        raise typer.Exit(EXIT_NO_PLAN)
    _show_diff(result, f"KPIs: base -> {name}")
    _write(out, request.instance, result, scenario_name=name)
    if out is not None:
        console.print(f"written to {out}")


def _show_diff(result: Result, title: str) -> None:
    render.table(result.tables["diff_kpis"], title)
    if len(result.tables["diff_tiers"]):
        render.table(result.tables["diff_tiers"], "Tiers changed")
    render.table(result.tables["diff_supplier_volume"], "Volume moved between suppliers (units)")
    orders = result.tables["diff_orders"]
    render.table(orders.head(40), f"Order lines changed ({len(orders)}: added, dropped or resized)")


@app.command("diff")
def diff_cmd(
    base: Annotated[Path, typer.Argument(help="Folder of the first plan (e.g. last week's).")],
    other: Annotated[Path, typer.Argument(help="Folder of the second plan.")],
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Folder for the differences (diff_*.csv).")] = None,
) -> None:
    """Compare two written plans: orders added, dropped, resized or moved; tiers changed; KPI deltas."""
    try:
        a, b = read_plan(base), read_plan(other)
    except ProblemsError as exc:
        err.print("[red]error:[/red] cannot use a plan:")
        raise _invalid(exc.problems)
    result = _run(jobs.JobRequest(kind="diff", base=a, other=b))
    _show_diff(result, "KPIs")
    _write(out, None, result)


@app.command("customers")
def customers_cmd(
    order_lines: Annotated[Path, typer.Argument(help="The CRM's order lines: CSV, XLSX or a JSON array.")],
    master: Annotated[Path, typer.Option("--master", help="The customer master: CSV, XLSX or a JSON array.")],
    instance: Annotated[Path, typer.Option("--instance", help="The planning instance (its suppliers' unit costs are the cost of goods).")],
    mapping: Annotated[Optional[str], typer.Option("--mapping", help=f"The exports' field names: a preset ({', '.join(PRESETS)}) or a JSON mapping file.")] = None,
    rates: Annotated[Optional[Path], typer.Option("--rates", help='Cost to serve, JSON: {"per_order", "per_line", "per_delivery", "per_return"} in money.')] = None,
    segments: Annotated[str, typer.Option("--segments", help="abc (classes by cumulative profit), class (the master's customer_class), or an edited customer_segments.csv.")] = "abc",
    cutoffs: Annotated[str, typer.Option("--cutoffs", help="ABC cut-offs of cumulative profit, e.g. 0.8,0.95 (A, B, C) or 0.5,0.8,0.95 (A-D).")] = "0.8,0.95",
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Folder for the customer tables, the whale curve and the segments and customers tables of the planning contract.")] = None,
    forecaster: Annotated[str, typer.Option("--forecaster", help="core (numpy and pandas) or statsforecast (the optional extra: pip install 'planner[forecast]').")] = "core",
) -> None:
    """Profit per customer from its own order history, after the cost of serving it; the whale
    curve; segments from profitability, written as tables of the planning contract."""
    crm, serve, segmentation, cuts = _crm_inputs(order_lines, master, mapping, rates, segments, cutoffs)
    request = jobs.JobRequest(kind="customers", instance=_instance(instance), crm=crm, rates=serve, segmentation=segmentation, cutoffs=cuts,
                              forecaster=forecaster)
    problems = jobs.check(request)
    if problems:
        raise _invalid(problems)
    result = _run(request)
    _show_customers(result)
    _write(out, None, result)
    if out is not None:
        console.print(f"written to {out} (customer_profitability.csv, whale_curve.csv and .png, segments.csv, customers.csv and customer_products.csv for the "
                      "planning instance, customer_segments.csv to edit and give back with --segments)")


def _crm_inputs(order_lines: Path, master: Path, mapping: str | None, rates: Path | None, segments: str, cutoffs: str):
    """The CRM exports read and checked, the rates, the segmentation and its cut-offs; exit 2 with
    every problem located."""
    try:
        crm = read_crm(order_lines, master, mapping)
        serve = ServeRates.model_validate(_json_file(rates, "rates") or {})
        segmentation = segments if segments in ("abc", "class") else read_assignment(Path(segments), set(crm.customers["customer"]))
        cuts = tuple(float(c) for c in cutoffs.split(","))
    except ProblemsError as exc:
        raise _invalid(exc.problems)
    except ValidationError as exc:
        raise _invalid([Problem("error", "rates", None, ".".join(str(x) for x in e["loc"]) or None, e["msg"]) for e in exc.errors()])
    except (OSError, ValueError) as exc:
        raise _invalid([Problem("error", "options", None, "segments" if isinstance(exc, OSError) else "cutoffs", str(exc))])
    return crm, serve, segmentation, cuts


def _show_customers(result: Result) -> None:
    profits, curve = result.tables["customer_profitability"], result.tables["whale_curve"]
    losing = profits[profits["profit"] < 0]
    shown = ["customer", "orders", "lines", "revenue", "cost_to_serve", "profit"]  # the rest is in the CSV
    render.table(profits[shown].head(15), f"Most profitable customers (of {len(profits)})")
    if len(losing):
        render.table(losing[shown].tail(10), f"Customers who lose money ({len(losing)}): {losing['profit'].sum():,.2f} in all")
    peak = curve["cumulative_profit"].max()
    console.print(f"total profit {profits['profit'].sum():,.2f}; the most profitable customers earn up to {peak:,.2f} "
                  f"({peak / profits['profit'].sum():.0%} of it) before the others give part of it back"
                  if profits["profit"].sum() > 0 else f"total profit {profits['profit'].sum():,.2f}", highlight=False)
    render.table(result.tables["segment_summary"], "Segments")


@app.command("prepare")
def prepare_cmd(
    crm: Annotated[Path, typer.Argument(help="Folder of the CRM exports: order_lines and customers (CSV, XLSX or JSON), optionally rates.json and mapping.json.")],
    scm: Annotated[Path, typer.Option("--scm", help="The supply side: a folder, workbook or JSON with products, suppliers, supplier_products (and settings, supplier_capacity, open_orders).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder to write the planning instance to (and derivation/, how it was made).")],
    mapping: Annotated[Optional[str], typer.Option("--mapping", help="A preset or a JSON mapping file (default: mapping.json in the CRM folder, if any).")] = None,
    rates: Annotated[Optional[Path], typer.Option("--rates", help="Cost-to-serve rates, JSON (default: rates.json in the CRM folder, if any).")] = None,
    segments: Annotated[str, typer.Option("--segments", help="abc, class, or an edited customer_segments.csv.")] = "abc",
    cutoffs: Annotated[str, typer.Option("--cutoffs", help="ABC cut-offs of cumulative profit.")] = "0.8,0.95",
    weeks: Annotated[int, typer.Option("--weeks", min=1, max=104, help="Weeks to plan.")] = 13,
    start: Annotated[Optional[str], typer.Option("--start", help="First week to plan, ISO (2026-W48); default: the week after the history.")] = None,
    forecaster: Annotated[str, typer.Option("--forecaster", help="core (numpy and pandas) or statsforecast (the optional extra: pip install 'planner[forecast]').")] = "core",
) -> None:
    """One step from exports to a plan: a full, valid planning instance from the CRM's order history
    and the supply side's tables, with a report of how it was derived. Then: planner solve OUT."""
    def find(stem: str) -> Path:
        found = [crm / f"{stem}{ext}" for ext in (".csv", ".xlsx", ".json") if (crm / f"{stem}{ext}").is_file()]
        if not found:
            raise _invalid([Problem("error", None, None, None, f"{crm} holds no {stem}.csv, .xlsx or .json")])
        return found[0]

    lines, master = find("order_lines"), find("customers")
    mapping = mapping or (str(crm / "mapping.json") if (crm / "mapping.json").is_file() else None)
    rates = rates or ((crm / "rates.json") if (crm / "rates.json").is_file() else None)
    crm_data, serve, segmentation, cuts = _crm_inputs(lines, master, mapping, rates, segments, cutoffs)
    try:
        supply = read_tables(scm)
    except ProblemsError as exc:
        raise _invalid(exc.problems)
    ignored = sorted(set(supply) - set(SCM_TABLES))
    request = jobs.JobRequest(kind="prepare", crm=crm_data, rates=serve, segmentation=segmentation, cutoffs=cuts, scm=supply,
                              horizon_weeks=weeks, start_week=start, forecaster=forecaster)
    problems = jobs.check(request)
    if problems:
        raise _invalid(problems)
    result = _run(request)
    _show_customers(result)
    if ignored:
        console.print(f"from {scm}, the supply side only; not used: {', '.join(ignored)} (derived from the CRM history instead)", highlight=False)
    _write(out, None, result)
    console.print(f"planning instance written to {out}; how it was derived: {out / 'derivation' / 'report.html'}. Next: planner solve {out}", highlight=False)


@app.command("generate-orders")
def generate_orders_cmd(
    out: Annotated[Path, typer.Argument(help="Folder to write order_lines.csv, customers.csv and rates.json to.")],
    instance: Annotated[Path, typer.Option("--instance", help="Instance folder whose products are ordered (CSV files).")] = Path("instances/demo"),
    customers: Annotated[int, typer.Option("--customers", min=1)] = 500,
    weeks: Annotated[int, typer.Option("--weeks", min=1)] = 52,
    seed: Annotated[int, typer.Option("--seed")] = 0,
) -> None:
    """Write a seeded CRM order history (order lines, customer master, demo cost-to-serve rates) for an instance's products."""
    if not (instance / "products.csv").is_file() or not (instance / "demand.csv").is_file():
        raise _invalid([Problem("error", None, None, None, f"{instance} is not an instance folder with products.csv and demand.csv")])
    tables = generate_for_instance(instance, customers=customers, weeks=weeks, seed=seed)
    write_orders(tables, out)
    console.print(f"order history written to {out} ({len(tables['order_lines']):,} order lines, {customers} customers, {weeks} weeks, seed {seed})")


@app.command("generate")
def generate_cmd(
    out: Annotated[Path, typer.Argument(help="Folder to write the instance's CSV files to.")],
    products: Annotated[int, typer.Option("--products", min=1)] = 40,
    segments: Annotated[int, typer.Option("--segments", min=1)] = 4,
    suppliers: Annotated[int, typer.Option("--suppliers", min=2)] = 6,
    periods: Annotated[int, typer.Option("--periods", min=2)] = 13,
    seed: Annotated[int, typer.Option("--seed")] = 0,
) -> None:
    """Write a seeded random instance that always has a feasible plan."""
    write_instance(generate(products=products, segments=segments, suppliers=suppliers, periods=periods, seed=seed), out)
    console.print(f"instance written to {out} ({products} products, {segments} segments, {suppliers} suppliers, {periods} periods, seed {seed})")


def _families(ctx: typer.Context, models: list[Path] | None) -> dict:
    try:
        return jobs.families(ctx.obj.models_dirs(models))
    except ProblemsError as exc:
        raise _invalid(exc.problems)


@models_app.command("list")
def models_list(ctx: typer.Context, models: ModelsDir = None) -> None:
    """Every constraint family with its summary, whether it is on by default, and its parameters."""
    for fam in _families(ctx, models).values():
        state = "always on" if fam.default_on and not fam.can_disable else "on" if fam.default_on else "off"
        src = "" if fam.builtin else f"  [{fam.source}]"
        typer.echo(f"{fam.name} ({state}){src}\n    {fam.summary}")
        for n, d, unit, desc in fam.param_table():
            typer.echo(f"    - {n} = {d}{' [' + unit + ']' if unit else ''}: {desc}")


@models_app.command("show")
def models_show(ctx: typer.Context, name: Annotated[str, typer.Argument(help="Family name.")], models: ModelsDir = None) -> None:
    """A family's algebra, data and parameters."""
    reg = _families(ctx, models)
    if name not in reg:
        raise _invalid([Problem("error", "models", None, None, f"unknown constraint family {name!r} (known: {', '.join(reg)})")])
    fam = reg[name]
    typer.echo(f"{fam.name} — {fam.summary}\nsource: {fam.source}\n")
    typer.echo(fam.doc)
    rows = fam.param_table()
    if rows:
        typer.echo("\nParameters:")
        for n, d, unit, desc in rows:
            typer.echo(f"  {n} (default {d}{', ' + unit if unit else ''}): {desc}")


@app.command("serve")
def serve_cmd(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8000,
) -> None:
    """Start the planning service (uvicorn, with its Dask workers; SQLite database created on first start)."""
    uvicorn.run("api.main:app", host=host, port=port, log_level="info")


@app.command("schema")
def schema_cmd(outputs: Annotated[bool, typer.Option("--outputs", help="The plan's tables and KPIs instead of the input tables.")] = False) -> None:
    """Print the data contract: every table and column with its unit."""
    typer.echo(outputs_markdown() if outputs else inputs_markdown())


def run_main() -> None:  # pragma: no cover
    sys.exit(app())

