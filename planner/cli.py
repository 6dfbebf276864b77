"""Command line: ``planner solve | validate | generate | schema``.

Exit codes of ``solve``: 0 a plan (optimal or feasible), 2 invalid data,
3 infeasible or no plan found in time, 1 anything else.
"""

from __future__ import annotations

import sys
import time
import traceback
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from planner.loading import LoadError, read_tables
from planner.problems import Problem
from planner.validation import ValidationReport, validate  # noqa: F401

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Joint demand-supply planning: service tiers, inventory and supplier orders in one model.")
console = Console()
err = Console(stderr=True)

EXIT_PLAN, EXIT_ERROR, EXIT_INVALID, EXIT_NO_PLAN = 0, 1, 2, 3


def _print_problems(problems: list[Problem]) -> None:
    for p in problems:
        style = "red" if p.severity == "error" else "yellow"
        err.print(f"[{style}]{p}[/{style}]", highlight=False, markup=True, soft_wrap=True)


def _model_options(path: Path | None) -> dict | None:
    if path is None:
        return None
    import json

    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        _print_problems([Problem("error", "options", None, None, f"cannot read {path}: {exc}")])
        raise typer.Exit(EXIT_INVALID)
    return doc


def _families(options: dict | None, models: list[Path] | None):
    from models import OptionsError, select

    try:
        return select(options, models)
    except OptionsError as exc:
        _print_problems(exc.problems)
        raise typer.Exit(EXIT_INVALID)


InstanceArg = Annotated[Path, typer.Argument(help="The instance: a folder of CSV files, an .xlsx workbook or a .json file.")]
OptionsFile = Annotated[Optional[Path], typer.Option("--options", help="JSON file of model options, e.g. {\"constraints\": {\"single_sourcing\": {}}}.")]
ModelsDir = Annotated[Optional[list[Path]], typer.Option("--models", help="Folder of extra constraint families (also PLANNER_MODELS_PATH); repeatable.")]


def _load(instance: Path) -> ValidationReport:
    try:
        raw = read_tables(instance)
    except LoadError as exc:
        _print_problems(exc.problems)
        raise typer.Exit(EXIT_INVALID)
    return validate(raw)


def _load_valid(instance: Path) -> ValidationReport:
    """Read and validate; print every problem; exit 2 unless the instance can be planned."""
    report = _load(instance)
    _print_problems(report.problems)
    if not report.ok:
        err.print(f"[red]{len(report.errors)} error(s)[/red], {len(report.warnings)} warning(s): the instance cannot be planned.")
        raise typer.Exit(EXIT_INVALID)
    return report


@app.command("validate")
def validate_cmd(instance: InstanceArg) -> None:
    """Check an instance and report every data problem at once (table, row, column, reason)."""
    report = _load_valid(instance)
    console.print(f"[green]valid[/green]: {report.instance.describe()}, {len(report.warnings)} warning(s)")


class _ProgressPrinter:
    """Elapsed, incumbent, bound and gap while HiGHS searches: a live line on a terminal,
    a line every few seconds otherwise (logs)."""

    def __init__(self, every: float = 5.0):
        self.every = every
        self.last = 0.0
        self.status = None

    def __call__(self, p) -> None:
        inc = "-" if p.incumbent is None else f"{p.incumbent:,.2f}"
        bnd = "-" if p.bound is None else f"{p.bound:,.2f}"
        gap = "-" if p.gap is None else f"{p.gap:.2%}"
        text = f"solving: {p.elapsed:6.1f}s  best plan {inc}  bound {bnd}  gap {gap}"
        if self.status is not None:
            self.status.update(text)
        elif time.monotonic() - self.last >= self.every:
            self.last = time.monotonic()
            err.print(text, highlight=False)


def _summary(plan, out: Path | None) -> None:
    k = plan.kpis
    t = Table(title=f"Plan: {plan.status}", show_header=True, header_style="bold")
    t.add_column("kpi")
    t.add_column("value", justify="right")

    def money(v):
        return "-" if v is None else f"{v:,.2f}"

    rows = [("profit", money(k.get("profit")))]
    for name in ("revenue", "purchase_cost", "order_cost", "supplier_fixed_cost", "holding_cost", "cost_to_serve", "lost_sale_penalty", "tier_net_value"):
        if name in k:
            rows.append((f"  {name}", money(k[name])))
    if k.get("fill_rate") is not None:
        rows.append(("fill rate", f"{k['fill_rate']:.1%}"))
    if k.get("orders_placed") is not None:
        rows.append(("orders placed", str(k["orders_placed"])))
        rows.append(("suppliers used", str(k["suppliers_used"])))
    rows.append(("mip gap", "-" if k.get("mip_gap") is None else f"{k['mip_gap']:.4%}"))
    rows.append(("solve seconds", f"{k.get('solve_seconds', 0):.2f}"))
    for r in rows:
        t.add_row(*r)
    console.print(t)
    if "segments" in plan.tables:
        s = Table(title="Service by segment", header_style="bold")
        for c in ("segment", "tier", "fill rate", "profit contribution"):
            s.add_column(c, justify="right" if c != "segment" else "left")
        for r in plan.tables["segments"].itertuples(index=False):
            s.add_row(str(r.segment), str(r.tier), f"{r.fill_rate:.1%}", money(r.profit_contribution))
        console.print(s)
    for msg in plan.messages:
        err.print(msg, highlight=False)
    if out is not None:
        console.print(f"plan written to [bold]{out}[/bold] (orders.csv, inventory.csv, service.csv, segments.csv, suppliers.csv, kpis.csv, plan.xlsx, plan.json); report: {out / 'report.html'}")


@app.command("solve")
def solve_cmd(
    instance: InstanceArg,
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Folder to write the plan to.")] = None,
    time_limit: Annotated[Optional[float], typer.Option("--time-limit", min=0, help="Seconds HiGHS may search.")] = None,
    mip_gap: Annotated[float, typer.Option("--mip-gap", min=0, max=1, help="Relative optimality gap at which to stop.")] = 1e-3,
    threads: Annotated[Optional[int], typer.Option("--threads", min=1, help="HiGHS threads.")] = None,
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
    model_options = _model_options(options)
    _families(model_options, models)  # wrong options fail here, before the data is even read
    inst = _load_valid(instance).instance
    err.print(f"{inst.describe()}; loaded and validated in {time.perf_counter() - t0:.2f}s", highlight=False)
    from models import OptionsError

    try:
        from planner.run import solve_instance
        from planner.solver import SolveOptions

        progress = _ProgressPrinter()
        opts = SolveOptions(time_limit=time_limit, mip_gap=mip_gap, threads=threads, log=log, progress=progress)
        if err.is_terminal and not log:
            with err.status("building the model...") as status:
                progress.status = status
                plan = solve_instance(inst, opts, model_options, models)
        else:
            plan = solve_instance(inst, opts, model_options, models)
    except OptionsError as exc:  # a family that cannot be built for this data
        _print_problems(exc.problems)
        raise typer.Exit(EXIT_INVALID)
    except Exception as exc:  # the last line of defence: a message, never a bare traceback
        if debug:
            traceback.print_exc()
        err.print(f"[red]error:[/red] planning failed unexpectedly: {type(exc).__name__}: {exc}")
        raise typer.Exit(EXIT_ERROR)
    if out is not None and plan.tables:
        plan.write(out)
        try:
            extra = {}
            if explain:
                from planner.insight import shadow_prices, tier_reasons

                err.print("explaining: shadow prices and tier choices...", highlight=False)
                extra["shadow_prices"] = shadow_prices(inst, plan.tables, model_options, models)
                extra["tier_reasons"] = tier_reasons(inst, plan, SolveOptions(time_limit=time_limit, mip_gap=mip_gap), model_options, models)
                for name, df in extra.items():
                    df.to_csv(out / f"{name}.csv", index=False)
            from planner.insight import frontier, profitability
            from planner.report import write_report

            front = None
            if with_frontier:
                err.print("tracing the trade-off frontier...", highlight=False)
                front = frontier(inst, None, SolveOptions(time_limit=time_limit, mip_gap=mip_gap), model_options, models)
                front.to_csv(out / "frontier.csv", index=False)
            profitability(inst, plan.tables, plan.kpis).to_csv(out / "profitability.csv", index=False)
            write_report(out, inst, plan, extra, frontier=front)
        except Exception as exc:  # the plan is written; a failed report must not hide it
            if debug:
                traceback.print_exc()
            err.print(f"[yellow]warning:[/yellow] the report could not be written: {type(exc).__name__}: {exc}")
    elif out is not None:  # no plan: the outcome, and for an infeasible run what would have to give
        import json

        out.mkdir(parents=True, exist_ok=True)
        plan.kpi_table().to_csv(out / "kpis.csv", index=False)
        (out / "plan.json").write_text(json.dumps(plan.to_json_dict(), indent=1), encoding="utf-8")
    _summary(plan, out if out is not None else None)
    if plan.status in ("optimal", "feasible"):
        raise typer.Exit(EXIT_PLAN)
    if plan.status in ("infeasible", "no_solution_found"):
        if plan.status == "no_solution_found":
            err.print("[yellow]no feasible plan was found within the time limit[/yellow]; try a longer --time-limit.")
        raise typer.Exit(EXIT_NO_PLAN)
    raise typer.Exit(EXIT_ERROR)


@app.command("verify")
def verify_cmd(
    instance: Annotated[Path, typer.Argument(help="The instance the plan was made for.")],
    plan_dir: Annotated[Path, typer.Argument(help="Folder with the plan's CSV files (as written by `planner solve --out`).")],
    options: OptionsFile = None,
    models: ModelsDir = None,
) -> None:
    """Recompute every constraint and the objective of a written plan (pandas only, no solver).

    The constraint families checked are those in the plan's plan.json, unless --options is given."""
    import json

    from planner.verify import read_plan_dir, verify_plan

    model_options = _model_options(options)
    if model_options is None and (plan_dir / "plan.json").exists():
        model_options = json.loads((plan_dir / "plan.json").read_text()).get("options", {}).get("model")
    families = _families(model_options, models)

    report = _load_valid(instance)
    try:
        tables, kpis = read_plan_dir(plan_dir)
    except (OSError, ValueError, KeyError) as exc:
        err.print(f"[red]error:[/red] cannot read the plan in {plan_dir}: {exc}")
        raise typer.Exit(EXIT_INVALID)
    check = verify_plan(report.instance, tables, kpis, families)
    for v in check.violations:
        err.print(f"[red]violation[/red] {v}", highlight=False)
    if not check.ok:
        err.print(f"[red]{len(check.violations)} violation(s)[/red]")
        raise typer.Exit(EXIT_ERROR)
    console.print(f"[green]plan verified[/green]: every constraint holds; recomputed profit {check.profit:,.2f}")


def _insight_inputs(instance: Path, options: Path | None, models: list[Path] | None):
    """The validated instance and model options of an analysis command (exit 2 on either problem)."""
    inst = _load_valid(instance).instance
    model_options = _model_options(options)
    _families(model_options, models)
    return inst, model_options


@contextmanager
def _located_errors():
    """A family that cannot apply to the data (found while building) is a data error, exit 2."""
    from models import OptionsError

    try:
        yield
    except OptionsError as exc:
        _print_problems(exc.problems)
        raise typer.Exit(EXIT_INVALID)


def _solve_opts(time_limit, mip_gap):
    from planner.solver import SolveOptions

    return SolveOptions(time_limit=time_limit, mip_gap=mip_gap, progress=_ProgressPrinter())


def _show(df, title: str) -> None:
    t = Table(title=title, header_style="bold")
    for c in df.columns:
        t.add_column(str(c), overflow="fold")
    for row in df.itertuples(index=False):
        t.add_row(*["-" if v is None or (isinstance(v, float) and v != v) else f"{v:,.2f}" if isinstance(v, float) else str(v) for v in row])
    console.print(t)


TimeLimit = Annotated[Optional[float], typer.Option("--time-limit", min=0, help="Seconds HiGHS may search, per solve.")]
MipGap = Annotated[float, typer.Option("--mip-gap", min=0, max=1, help="Relative optimality gap at which to stop.")]


@app.command("value")
def value_cmd(
    instance: InstanceArg,
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Folder for the comparison tables and the integrated plan's report.")] = None,
    time_limit: TimeLimit = None,
    mip_gap: MipGap = 1e-3,
    options: OptionsFile = None,
    models: ModelsDir = None,
) -> None:
    """Value of integration: CRM-led, SCM-led and integrated plans side by side."""
    from planner.insight import value_of_integration
    from planner.report import write_report

    inst, mo = _insight_inputs(instance, options, models)
    with _located_errors():
        v = value_of_integration(inst, _solve_opts(time_limit, mip_gap), mo, models)
    _show(v.kpis, "Value of integration")
    _show(v.segments, "Tiers and profit contribution by segment")
    for versus, label in (("crm_led", "CRM-led (every segment at its highest tier)"), ("scm_led", "SCM-led (every segment at its lowest allowed tier)")):
        g = v.gain(versus)
        console.print(f"integration earns {'n/a (' + v.plans[versus].status + ')' if g is None else f'{g:,.2f}'} over {label}", highlight=False)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        v.kpis.to_csv(out / "value_of_integration.csv", index=False)
        v.segments.to_csv(out / "value_of_integration_segments.csv", index=False)
        for name, plan in v.plans.items():
            if plan.tables:
                plan.write(out / name)
        if v.plans["integrated"].tables:
            write_report(out, inst, v.plans["integrated"], {"value_of_integration": v.kpis})
        console.print(f"written to {out} (report.html, value_of_integration.csv, one plan folder per way of planning)")


@app.command("frontier")
def frontier_cmd(
    instance: InstanceArg,
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Folder for frontier.csv and frontier.png.")] = None,
    floors: Annotated[Optional[str], typer.Option("--floors", help="Comma-separated overall fill-rate floors, e.g. 0.9,0.95,0.99.")] = None,
    time_limit: TimeLimit = None,
    mip_gap: MipGap = 1e-3,
    options: OptionsFile = None,
    models: ModelsDir = None,
) -> None:
    """Trade-off frontier: profit against overall fill rate and inventory investment."""
    from planner.insight import frontier
    from planner.report import _png, figure_frontier

    inst, mo = _insight_inputs(instance, options, models)
    try:
        fl = [float(x) for x in floors.split(",")] if floors else None
        if fl is not None and not all(0 <= f <= 1 for f in fl):
            raise ValueError
    except ValueError:
        _print_problems([Problem("error", "options", None, "floors", f"not a list of fill rates between 0 and 1: {floors!r}")])
        raise typer.Exit(EXIT_INVALID)
    with _located_errors():
        front = frontier(inst, fl, _solve_opts(time_limit, mip_gap), mo, models)
    _show(front, "Profit against service (chosen = the integrated plan)")
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        front.to_csv(out / "frontier.csv", index=False)
        (out / "frontier.png").write_bytes(_png(figure_frontier(front)))
        console.print(f"written to {out} (frontier.csv, frontier.png)")


@app.command("scenario")
def scenario_cmd(
    instance: Annotated[Path, typer.Argument(help="The base instance.")],
    scenario: Annotated[Path, typer.Argument(help='JSON: {"name": ..., "changes": [{"type": "demand_scale", "segment": ..., "factor": 1.2}, ...]}.')],
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Folder for the base and scenario plans and their differences.")] = None,
    time_limit: TimeLimit = None,
    mip_gap: MipGap = 1e-3,
    options: OptionsFile = None,
    models: ModelsDir = None,
) -> None:
    """What-if: apply named changes to an instance, solve both, and compare."""
    import json

    from planner.insight import apply_scenario, compare_plans
    from planner.run import solve_instance

    inst, mo = _insight_inputs(instance, options, models)
    try:
        doc = json.loads(scenario.read_text())
        raw = apply_scenario(read_tables(instance), inst.periods, doc.get("changes", []))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        _print_problems([Problem("error", "scenario", None, None, f"{scenario}: {exc}")])
        raise typer.Exit(EXIT_INVALID)
    rep2 = validate(raw)
    if not rep2.ok:
        _print_problems(rep2.errors)
        raise typer.Exit(EXIT_INVALID)
    with _located_errors():
        base = solve_instance(inst, _solve_opts(time_limit, mip_gap), mo, models)
        other = solve_instance(rep2.instance, _solve_opts(time_limit, mip_gap), mo, models)
    name = doc.get("name", scenario.stem)
    console.print(f"base: {base.status}, scenario {name!r}: {other.status}", highlight=False)
    if not (base.tables and other.tables):
        for p in (base, other):
            for msg in p.messages:
                err.print(msg, highlight=False)
        raise typer.Exit(EXIT_NO_PLAN)
    diff = compare_plans(base.tables, other.tables, base.kpis, other.kpis)
    _show(diff["kpis"], f"KPIs: base -> {name}")
    if len(diff["tiers"]):
        _show(diff["tiers"], "Tiers changed")
    _show(diff["supplier_volume"], "Volume moved between suppliers (units)")
    console.print(f"{len(diff['orders'])} order lines changed (added, dropped or resized)")
    if out is not None:
        base.write(out / "base")
        other.write(out / name)
        for key, df in diff.items():
            df.to_csv(out / f"diff_{key}.csv", index=False)
        console.print(f"written to {out}")


@app.command("diff")
def diff_cmd(
    base: Annotated[Path, typer.Argument(help="Folder of the first plan (e.g. last week's).")],
    other: Annotated[Path, typer.Argument(help="Folder of the second plan.")],
) -> None:
    """Compare two written plans: orders added, dropped, resized or moved; tiers changed; KPI deltas."""
    from planner.insight import compare_plans
    from planner.verify import read_plan_dir

    try:
        ta, ka = read_plan_dir(base)
        tb, kb = read_plan_dir(other)
    except (OSError, ValueError, KeyError) as exc:
        err.print(f"[red]error:[/red] cannot read a plan: {exc}")
        raise typer.Exit(EXIT_INVALID)
    diff = compare_plans(ta, tb, ka, kb)
    _show(diff["kpis"], "KPIs")
    if len(diff["tiers"]):
        _show(diff["tiers"], "Tiers changed")
    _show(diff["orders"].head(40), f"Order lines changed ({len(diff['orders'])})")


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
    from instances.generator import generate, write_instance

    tables = generate(products=products, segments=segments, suppliers=suppliers, periods=periods, seed=seed)
    write_instance(tables, out)
    console.print(f"instance written to {out} ({products} products, {segments} segments, {suppliers} suppliers, {periods} periods, seed {seed})")


models_app = typer.Typer(no_args_is_help=True, help="The model's constraint families: list them, read one.")
app.add_typer(models_app, name="models")


@models_app.command("list")
def models_list(models: ModelsDir = None) -> None:
    """Every constraint family with its summary, whether it is on by default, and its parameters."""
    for fam in _registry(models).values():
        state = "always on" if fam.default_on and not fam.can_disable else "on" if fam.default_on else "off"
        src = "" if fam.builtin else f"  [{fam.source}]"
        typer.echo(f"{fam.name} ({state}){src}\n    {fam.summary}")
        for n, d, unit, desc in fam.param_table():
            typer.echo(f"    - {n} = {d}{' [' + unit + ']' if unit else ''}: {desc}")


@models_app.command("show")
def models_show(name: Annotated[str, typer.Argument(help="Family name.")], models: ModelsDir = None) -> None:
    """A family's algebra, data and parameters."""
    reg = _registry(models)
    if name not in reg:
        _print_problems([Problem("error", "models", None, None, f"unknown constraint family {name!r} (known: {', '.join(reg)})")])
        raise typer.Exit(EXIT_INVALID)
    fam = reg[name]
    typer.echo(f"{fam.name} — {fam.summary}\nsource: {fam.source}\n")
    typer.echo(fam.doc)
    rows = fam.param_table()
    if rows:
        typer.echo("\nParameters:")
        for n, d, unit, desc in rows:
            typer.echo(f"  {n} (default {d}{', ' + unit if unit else ''}): {desc}")


def _registry(models):
    from models import OptionsError, registry

    try:
        return registry(models)
    except OptionsError as exc:
        _print_problems(exc.problems)
        raise typer.Exit(EXIT_INVALID)


@app.command("serve")
def serve_cmd(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8000,
) -> None:
    """Start the planning service (uvicorn, with its Dask workers; SQLite database created on first start)."""
    import uvicorn

    uvicorn.run("api.main:app", host=host, port=port, log_level="info")


@app.command("schema")
def schema_cmd() -> None:
    """Print the data contract: every table and column with its unit."""
    from planner.schema import contract_markdown

    typer.echo(contract_markdown())


def main() -> None:  # pragma: no cover
    sys.exit(app())
