"""Command line: ``planner solve | validate | generate | schema``.

Exit codes of ``solve``: 0 a plan (optimal or feasible), 2 invalid data,
3 infeasible or no plan found in time, 1 anything else.
"""

from __future__ import annotations

import sys
import time
import traceback
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from planner.loading import LoadError, read_tables
from planner.problems import Problem
from planner.validation import ValidationReport, validate

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
def validate_cmd(instance: Annotated[Path, typer.Argument(help="Folder of CSV files, .xlsx workbook or .json file.")]) -> None:
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
        console.print(f"plan written to [bold]{out}[/bold] (orders.csv, inventory.csv, service.csv, segments.csv, suppliers.csv, kpis.csv, plan.xlsx, plan.json)")


@app.command("solve")
def solve_cmd(
    instance: Annotated[Path, typer.Argument(help="Folder of CSV files, .xlsx workbook or .json file.")],
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Folder to write the plan to.")] = None,
    time_limit: Annotated[Optional[float], typer.Option("--time-limit", min=0, help="Seconds HiGHS may search.")] = None,
    mip_gap: Annotated[float, typer.Option("--mip-gap", min=0, max=1, help="Relative optimality gap at which to stop.")] = 1e-3,
    threads: Annotated[Optional[int], typer.Option("--threads", min=1, help="HiGHS threads.")] = None,
    log: Annotated[bool, typer.Option("--log", help="Show HiGHS's own log.")] = False,
    options: OptionsFile = None,
    models: ModelsDir = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks of unexpected errors.")] = False,
) -> None:
    """Plan an instance: choose service tiers, inventory and orders to maximise profit."""
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
    elif out is not None:
        out.mkdir(parents=True, exist_ok=True)
        plan.kpi_table().to_csv(out / "kpis.csv", index=False)
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
