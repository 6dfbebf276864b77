"""Request and response bodies of the API (separate from the storage model in db.py).

The instance in a request and the tables of a plan in a response are typed from
the contract (:mod:`planner.contract.inputs`, :mod:`planner.contract.outputs`):
every table, column, type, unit and limit in ``/openapi.json`` is the one the
validator and the extraction use, so a client generated from it knows them all.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from planner.contract.crm import PRESETS, SCM_TABLES, ServeRates
from planner.contract.inputs import MAX_LABEL, MAX_PERIODS, PRINTABLE, TABLES
from planner.contract.instance import Instance
from planner.contract.outputs import PLAN_TABLES
from planner.jobs import KINDS, JobRequest

RunStatus = Literal["queued", "running", "succeeded", "failed", "cancelled"]
PlanStatus = Literal["optimal", "feasible", "infeasible", "no_solution_found", "error"]

TINY_EXAMPLE = {
    "products": [{"product": "P", "unit_volume": 1, "holding_cost": 1, "initial_inventory": 0}],
    "segments": [{"segment": "Key", "lost_sale_penalty": 5, "cost_to_serve": 1}, {"segment": "Retail", "lost_sale_penalty": 2, "cost_to_serve": 1}],
    "service_tiers": [
        {"segment": "Key", "tier": "basic", "fill_rate": 0.5, "cycle_service_level": 0.5},
        {"segment": "Key", "tier": "gold", "fill_rate": 1.0, "cycle_service_level": 0.95, "tier_value": 100},
        {"segment": "Retail", "tier": "basic", "fill_rate": 0, "cycle_service_level": 0.5},
    ],
    "demand": [
        {"segment": "Key", "product": "P", "period": "W1", "quantity": 10, "std": 0, "price": 30},
        {"segment": "Key", "product": "P", "period": "W2", "quantity": 10, "std": 10, "price": 30},
        {"segment": "Retail", "product": "P", "period": "W1", "quantity": 20, "std": 0, "price": 12},
        {"segment": "Retail", "product": "P", "period": "W2", "quantity": 20, "std": 0, "price": 12},
    ],
    "suppliers": [{"supplier": "Fast", "lead_time": 0, "capacity": 25}, {"supplier": "Slow", "lead_time": 1, "fixed_cost": 20, "capacity": 100}],
    "supplier_products": [
        {"supplier": "Fast", "product": "P", "unit_cost": 10},
        {"supplier": "Slow", "product": "P", "unit_cost": 4, "order_cost": 5},
    ],
}

#: The instance of a request: one array of rows per table of the input contract.
InstanceIn = create_model(
    "InstanceIn",
    __config__=ConfigDict(extra="forbid"),
    __doc__="The planning instance: one array of row objects per table of the data contract (`planner schema`).",
    **{
        name: (list[spec.row], Field(description=spec.description, min_length=1)) if spec.required
        else (list[spec.row] | None, Field(None, description=spec.description))
        for name, spec in TABLES.items()
    },
)


class Analysis(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    kind: Literal["value_of_integration", "frontier", "scenario", "explain"] = Field(
        description="value_of_integration: CRM-led, SCM-led and integrated side by side; frontier: profit against the overall "
        "fill-rate floor; scenario: named changes solved and compared with the base; explain: the plan plus shadow prices and tier reasons."
    )
    floors: list[Annotated[float, Field(ge=0, le=1)]] | None = Field(None, description="frontier: the overall fill-rate floors to solve.")
    changes: list[dict[str, Any]] | None = Field(None, description='scenario: e.g. [{"type": "supplier_down", "supplier": "S01", "periods": ["2026-W50"]}].')


#: A run's name and its tags are shown and stored as they are: printable text only.
Tag = Annotated[str, Field(min_length=1, max_length=MAX_LABEL, pattern=PRINTABLE)]


class Webhook(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    url: str = Field(max_length=2000, pattern=r"^https?://[^\s\x00-\x1f\x7f]+$",
                     description="Where to POST the run's final state (signed; see the README). Must lie under a prefix the operator allowed.")


class RunOptions(BaseModel):
    # strict: a JSON true is not a time limit, "30" is not a number
    model_config = ConfigDict(extra="forbid", strict=True)
    time_limit: float | None = Field(None, gt=0, description="Seconds HiGHS may search (default: the service's default_time_limit).")
    mip_gap: float = Field(1e-3, ge=0, le=1, description="Relative optimality gap at which to stop.")
    route: Literal["auto", "monolithic", "decompose"] = Field(
        "auto", description="How the run is solved: HiGHS on the whole model (monolithic), a Lagrangian decomposition by product "
                            "(decompose: a proven bound where the whole model is too large), or auto (decompose from 100,000 binaries on).")
    name: str | None = Field(None, max_length=200, pattern=PRINTABLE, description="A name for the run.")
    tags: list[Tag] = Field(default_factory=list, max_length=20, description="Labels to filter runs by.")
    constraints: dict[str, Any] | None = Field(
        None, description='Constraint families and their parameters, as in the CLI\'s --options: {"max_supplier_share": {"share": 0.6}, "budget": false}.'
    )
    analysis: Analysis | None = Field(None, description="Ask for an analysis instead of a single plan; its tables are at GET /v1/runs/{id}/analysis.")
    priority: int = Field(0, ge=0, le=9, description="Higher is solved first among the tenant's queued runs; equal priorities in the order they were accepted.")
    webhook: Webhook | None = Field(None, description="Be told when the run finishes.")


    def job_request(self, instance: Instance | None, models_dirs: list[Path], **hooks: Any) -> JobRequest:
        """The job these options ask for (a plan, or an analysis) on a validated instance;
        ``hooks``: progress and should_stop."""
        a = self.analysis
        return JobRequest(
            kind=a.kind if a is not None else "solve", instance=instance, time_limit=self.time_limit, mip_gap=self.mip_gap, route=self.route,
            model_options={"constraints": self.constraints} if self.constraints else None, models_dirs=models_dirs,
            floors=a.floors if a is not None else None, changes=a.changes if a is not None else None, **hooks,
        )


class SubmitRun(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"instance": TINY_EXAMPLE, "options": {"time_limit": 30, "name": "tiny", "tags": ["demo"]}}]})
    instance: InstanceIn = Field(description="One array of row objects per table of the data contract (see `planner schema`).")
    options: RunOptions = Field(default_factory=RunOptions)


#: The supply side of a run prepared from exports: the planning contract's own supply tables.
ScmIn = create_model(
    "ScmIn",
    __config__=ConfigDict(extra="forbid"),
    __doc__="The supply side as the ERP holds it: the planning contract's products, suppliers, supplier_products, settings, supplier_capacity and open_orders.",
    **{
        name: (list[spec.row], Field(description=spec.description, min_length=1)) if name in ("products", "suppliers", "supplier_products")
        else (list[spec.row] | None, Field(None, description=spec.description))
        for name, spec in TABLES.items() if name in SCM_TABLES
    },
)


class SegmentOf(BaseModel):
    model_config = ConfigDict(extra="forbid")
    customer: str = Field(max_length=MAX_LABEL)
    segment: str = Field(max_length=MAX_LABEL)


Rows = Annotated[list[dict[str, Any]], Field(min_length=1)]


class CrmIn(BaseModel):
    """The CRM side as it exports it, and how to read it; the service derives the planning
    instance from it as `planner prepare` does (profit per customer, segments, tiers, demand
    with its error)."""

    model_config = ConfigDict(extra="forbid", strict=True)
    order_lines: Rows = Field(description="Order lines (`planner schema`, CRM tables), named as the export names them when `mapping` says how.")
    customers: Rows = Field(description="The customer master.")
    mapping: Literal[tuple(PRESETS)] | dict[str, dict[str, str]] | None = Field(  # type: ignore[valid-type]
        None, description='A preset\'s name, or {"order_lines": {contract column: export field}, "customers": {...}}.')
    rates: ServeRates = Field(default_factory=ServeRates, description="Activity costs of serving (money each).")
    segments: Literal["abc", "class"] | list[SegmentOf] = Field(
        "abc", description="abc: classes by cumulative profit; class: the master's customer_class; or every customer's segment.")
    cutoffs: list[Annotated[float, Field(gt=0, lt=1)]] = Field([0.8, 0.95], min_length=1, max_length=10, description="ABC cut-offs of cumulative profit.")
    weeks: int = Field(13, ge=1, le=MAX_PERIODS, description="Weeks to plan.")
    start: str | None = Field(None, pattern=r"^\d{4}-W\d{2}$", description="The first week to plan, 2026-W48 (default: the week after the history).")
    forecaster: Literal["core", "statsforecast"] = Field("core", description="The forecasting engine; statsforecast only where the service has the extra installed.")


class SubmitExports(BaseModel):
    model_config = ConfigDict(extra="forbid")
    crm: CrmIn
    scm: ScmIn  # type: ignore[valid-type]
    options: RunOptions = Field(default_factory=RunOptions)


class ProblemItem(BaseModel):
    table: str | None
    row: int | None
    column: str | None
    message: str
    severity: str | None = None


class ProblemDetails(BaseModel):
    """An error, as RFC 9457 problem details (``application/problem+json``)."""

    model_config = ConfigDict(extra="allow")
    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    errors: list[ProblemItem] | None = Field(None, description="For bad data or options: one entry per problem, located by table, row and column.")


class InputOut(BaseModel):
    instance: dict[str, list[dict[str, Any]]] = Field(description="The tables as they were stored (after reading, before validation's defaults); for a run sent as exports, the instance derived from them.")
    options: dict[str, Any] = Field(description="The options as they were run, the time limit filled in.")
    exports: dict[str, Any] | None = Field(None, description="A run sent as CRM and supply-side exports: {crm, scm} exactly as sent.")
    derivation: dict[str, list[dict[str, Any]]] | None = Field(
        None, description="A run sent as exports: how the instance was derived (customer_profitability, whale_curve, customer_segments, segment_summary, demand_forecasts, tier_values).")


class WebhookSecret(BaseModel):
    secret: str = Field(description="HMAC-SHA256 key of this tenant's webhook signatures (Planner-Signature: t=..., v1=hex of HMAC(secret, t + '.' + body)).")


class ValidationOut(BaseModel):
    valid: bool
    errors: list[ProblemItem]
    warnings: list[ProblemItem]


class Progress(BaseModel):
    elapsed: float | None = Field(None, description="Seconds of search so far.", json_schema_extra={"unit": "s"})
    incumbent: float | None = Field(None, description="Profit of the best plan so far.", json_schema_extra={"unit": "money"})
    bound: float | None = Field(None, description="No plan can earn more than this.", json_schema_extra={"unit": "money"})
    gap: float | None = Field(None, description="(bound - incumbent) / |incumbent|.", json_schema_extra={"unit": "fraction"})


class Relaxation(BaseModel):
    model_config = ConfigDict(extra="allow")
    requirement: str = Field(description="supplier_capacity, warehouse_capacity, budget, fill_rate_floor, safety_stock or min_tier.")
    shortfall: float
    unit: str
    message: str


class Explanation(BaseModel):
    feasible_when_relaxed: bool
    relaxations: list[Relaxation]
    message: str


class RunOut(BaseModel):
    id: str
    status: RunStatus
    reason: str | None = Field(None, description="Why a run failed or was cancelled: infeasible, no_solution_found, time_limit, solver_crashed, interrupted, cancelled, ...")
    detail: str | None = None
    name: str | None = None
    tags: list[str] = []
    options: dict[str, Any]
    plan_status: PlanStatus | None = Field(None, description="Status of the plan: optimal, feasible, infeasible, no_solution_found, error.")
    profit: float | None = Field(None, json_schema_extra={"unit": "money"})
    mip_gap: float | None = Field(None, json_schema_extra={"unit": "fraction"})
    progress: Progress | None = None
    attempts: int
    cancel_requested: bool
    created_at: dt.datetime
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    solve_seconds: float | None = None
    explanation: Explanation | None = Field(None, description="For an infeasible run: the requirements that had to give, where and by how much.")
    links: dict[str, str]


class RunList(BaseModel):
    items: list[RunOut]
    total: int
    limit: int
    offset: int
    next: str | None = None


class Manifest(BaseModel):
    input_hash: str | None = Field(None, description="SHA-256 of the validated input tables.")
    versions: dict[str, str]
    options: dict[str, Any]
    status: str
    profit: float | None = None
    mip_gap: float | None = None
    best_bound: float | None = None
    timings: dict[str, float | None]
    model_size: dict[str, int]


#: The plan of a run: its status, KPIs and every table of the output contract, typed.
PlanOut = create_model(
    "PlanOut",
    __doc__="A plan: status, KPIs (kpis.csv as an object) and the plan tables (see the README's 'How to read the plan').",
    status=(PlanStatus, ...),
    run_status=(RunStatus, Field(description="Status of the run the plan belongs to.")),
    note=(str | None, None),
    kpis=(dict[str, float | int | str | bool | None], ...),
    messages=(list[str], []),
    options=(dict[str, Any], {}),
    manifest=(Manifest, ...),
    explanation=(Explanation | None, None),
    **{name: (list[spec.row], Field([], description=f"One row per {spec.one_row_per}. {spec.description}")) for name, spec in PLAN_TABLES.items()},
)


class AnalysisOut(BaseModel):
    kind: Literal[KINDS]  # type: ignore[valid-type]
    tables: dict[str, list[dict[str, Any]]] = Field(description="Each analysis table as rows: value_of_integration, frontier, diff_*, shadow_prices, tier_reasons...")
    plans: dict[str, dict[str, Any]] = Field({}, description="The other plans the analysis compares (crm_led, scm_led; base): status and KPIs.")


class DiffOut(BaseModel):
    orders: list[dict[str, Any]] = Field(description="Order lines added, dropped or changed: supplier, product, period, quantity_base, quantity_other, change, delta.")
    supplier_volume: list[dict[str, Any]] = Field(description="Units moved to (+) or from (-) each supplier.")
    tiers: list[dict[str, Any]] = Field(description="Segments whose tier changed: segment, tier_base, tier_other.")
    kpis: list[dict[str, Any]] = Field(description="kpi, base, other, delta.")


class ProfitabilityOut(BaseModel):
    segments: list[dict[str, Any]] = Field(description="Profit per segment with every cost allocated; rows add up to the plan's profit.")
    customers: list[dict[str, Any]] | None = Field(None, description="The same per customer, when the instance maps customers to segments.")
