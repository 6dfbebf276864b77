"""Request and response bodies of the API (separate from the storage model in db.py)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

RunStatus = Literal["queued", "running", "succeeded", "failed", "cancelled"]

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


class Analysis(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["value_of_integration", "frontier", "scenario", "explain"] = Field(
        description="value_of_integration: CRM-led, SCM-led and integrated side by side; frontier: profit against the overall "
        "fill-rate floor; scenario: named changes solved and compared with the base; explain: the plan plus shadow prices and tier reasons."
    )
    floors: list[Annotated[float, Field(ge=0, le=1)]] | None = Field(None, description="frontier: the overall fill-rate floors to solve.")
    changes: list[dict[str, Any]] | None = Field(None, description='scenario: e.g. [{"type": "supplier_down", "supplier": "S01", "periods": ["2026-W50"]}].')


class RunOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    time_limit: float | None = Field(None, gt=0, description="Seconds HiGHS may search (default: the service's default_time_limit).")
    mip_gap: float = Field(1e-3, ge=0, le=1, description="Relative optimality gap at which to stop.")
    name: str | None = Field(None, max_length=200, description="A name for the run.")
    tags: list[str] = Field(default_factory=list, max_length=20, description="Labels to filter runs by.")
    constraints: dict[str, Any] | None = Field(
        None, description='Constraint families and their parameters, as in the CLI\'s --options: {"max_supplier_share": {"share": 0.6}, "budget": false}.'
    )
    analysis: Analysis | None = Field(None, description="Ask for an analysis instead of a single plan; its tables are at GET /v1/runs/{id}/analysis.")


class SubmitRun(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"instance": TINY_EXAMPLE, "options": {"time_limit": 30, "name": "tiny", "tags": ["demo"]}}]})
    instance: dict[str, list[dict[str, Any]]] = Field(description="One array of row objects per table of the data contract (see `planner schema`).")
    options: RunOptions = Field(default_factory=RunOptions)


class ValidateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"instance": TINY_EXAMPLE}]})
    instance: dict[str, list[dict[str, Any]]]
    options: RunOptions = Field(default_factory=RunOptions)


class ProblemItem(BaseModel):
    table: str | None
    row: int | None
    column: str | None
    message: str
    severity: str | None = None


class ValidationOut(BaseModel):
    valid: bool
    errors: list[ProblemItem]
    warnings: list[ProblemItem]


class Progress(BaseModel):
    elapsed: float | None = None
    incumbent: float | None = None
    bound: float | None = None
    gap: float | None = None


class RunOut(BaseModel):
    id: str
    status: RunStatus
    reason: str | None = Field(None, description="Why a run failed or was cancelled: infeasible, no_solution_found, time_limit, solver_crashed, interrupted, cancelled, ...")
    detail: str | None = None
    name: str | None = None
    tags: list[str] = []
    options: dict[str, Any]
    plan_status: str | None = Field(None, description="Status of the plan: optimal, feasible, infeasible, no_solution_found, error.")
    profit: float | None = None
    mip_gap: float | None = None
    progress: Progress | None = None
    attempts: int
    cancel_requested: bool
    created_at: dt.datetime
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    solve_seconds: float | None = None
    explanation: dict[str, Any] | None = Field(None, description="For an infeasible run: the requirements that had to give, where and by how much.")
    links: dict[str, str]


class RunList(BaseModel):
    items: list[RunOut]
    total: int
    limit: int
    offset: int
    next: str | None = None
