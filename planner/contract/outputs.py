"""The output contract: every plan table, every column and every KPI, declared once.

Like the inputs (:mod:`planner.contract.inputs`), each plan table is a pydantic
model of one row whose fields carry a description and a unit. These
declarations drive the extraction (:func:`OutputTable.frame` gives every table
its declared columns and types), the verifier (which columns it reads and which
hold numbers), the README's "How to read the plan" section (``planner schema
--outputs``; a test keeps the two equal) and the service's typed responses.

KPIs are rows of ``kpis.csv`` (kpi, value, unit), declared in :data:`KPIS`. A
family's profit term is a KPI too: the core terms are declared here, and a
user family's term is reported under the name it registers, in money.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd
from pydantic import BaseModel, ConfigDict

from planner.contract.fields import field, kind

#: Quantities below this are solver noise: reported as 0.
ZERO = 1e-6


class OutputRow(BaseModel):
    """Base of every plan table row."""

    model_config = ConfigDict(extra="forbid")


class OrderLine(OutputRow):
    supplier: str = field("Supplier the order is placed with.")
    product: str = field("Product ordered.")
    period: str = field("Period the order is placed in (its capacity and budget are used then).")
    quantity: float = field("Quantity ordered (rounded to 6 decimals).", "unit")
    arrival_period: str = field("Period the order arrives: period + the supplier's lead time.")


class InventoryLine(OutputRow):
    product: str = field("Product.")
    period: str = field("Period.")
    on_hand: float = field("Stock on hand at the end of the period.", "unit")
    safety_stock: float = field("Safety stock the chosen tiers require at the end of the period.", "unit")
    late_buffer: float = field("Stock also held against late deliveries: the expected late share of the period's arrivals, (1 - on_time_rate) x arrivals.", "unit")
    frozen: bool = field("The period is before the first possible delivery of the product (its frozen zone): targets do not bind there.")


class ServiceLine(OutputRow):
    segment: str = field("Segment.")
    product: str = field("Product.")
    period: str = field("Period.")
    demand: float = field("Forecast demand (demand.quantity).", "unit")
    served: float = field("Demand served.", "unit")
    lost: float = field("Demand not served (lost, no backlog): demand - served.", "unit")


class SegmentLine(OutputRow):
    segment: str = field("Segment.")
    tier: str | None = field("Service tier chosen for the segment.")
    demand: float = field("Demand over the horizon.", "unit")
    served: float = field("Demand served over the horizon.", "unit")
    fill_rate: float = field("served / demand (1 when there is no demand).", "fraction 0..1")
    revenue: float = field("Revenue of the units served.", "money")
    cost_to_serve: float = field("Cost of serving them.", "money")
    lost_sale_penalty: float = field("Penalty of the demand lost.", "money")
    tier_net_value: float = field("tier_value - tier_cost of the tier chosen.", "money")
    profit_contribution: float = field("revenue - cost_to_serve - lost_sale_penalty + tier_net_value (before supply costs).", "money")
    perfect_order_rate: float = field("Share of the segment's demand rows (product, period) served in full.", "fraction 0..1")


class SupplierLine(OutputRow):
    supplier: str = field("Supplier.")
    used: bool = field("The supplier is used in the horizon (its fixed cost is paid).")
    on_time_rate: float = field("Share of its deliveries that arrive on time (suppliers.on_time_rate).", "fraction 0..1")
    quantity: float = field("Units ordered from it over the horizon.", "unit")
    late_buffer: float = field("The buffer its lateness causes: (1 - on_time_rate) x its arrivals in the horizon, open orders included.", "unit")
    spend: float = field("Purchase and order costs, plus its fixed cost when used.", "money")
    utilisation: float = field("Capacity used / capacity available over the horizon.", "fraction 0..1")


@dataclass(frozen=True)
class OutputTable:
    """One plan table: its row model, key and what one row is."""

    name: str
    row: type[OutputRow]
    key: tuple[str, ...]
    one_row_per: str
    description: str

    @property
    def columns(self) -> list[str]:
        return list(self.row.model_fields)

    @property
    def numeric(self) -> list[str]:
        return [n for n, f in self.row.model_fields.items() if kind(f.annotation) == "number"]

    @property
    def text(self) -> list[str]:
        return [n for n, f in self.row.model_fields.items() if kind(f.annotation).startswith("text")]

    @property
    def flags(self) -> list[str]:
        return [n for n, f in self.row.model_fields.items() if kind(f.annotation) == "true/false"]

    def frame(self, data: Any = None) -> pd.DataFrame:
        """A DataFrame with exactly the declared columns, in order, with their types (labels as
        text, numbers as floats, flags as booleans); ``data`` is anything pandas takes."""
        df = pd.DataFrame(data if data is not None else [], columns=self.columns)
        for c in self.numeric:
            df[c] = df[c].astype(float)
        for c in self.flags:
            df[c] = df[c].astype(bool)
        for c in self.text:
            df[c] = df[c].map(lambda v: v if v is None or isinstance(v, str) else str(v)).astype(object)
        return df


PLAN_TABLES: dict[str, OutputTable] = {
    t.name: t
    for t in [
        OutputTable("orders", OrderLine, ("supplier", "product", "period"), "order placed", "The orders to place: with whom, what, when and how much."),
        OutputTable("inventory", InventoryLine, ("product", "period"), "product and period", "Stock at the end of each period and the safety stock it must cover."),
        OutputTable("service", ServiceLine, ("segment", "product", "period"), "segment, product and period", "What is served of each demand row, and what is lost."),
        OutputTable("segments", SegmentLine, ("segment",), "segment", "The tier chosen for each segment and what its customers bring."),
        OutputTable("suppliers", SupplierLine, ("supplier",), "supplier", "Which suppliers are used, how much they carry and cost."),
    ]
}


@dataclass(frozen=True)
class Kpi:
    name: str
    unit: str
    description: str
    group: str


def _kpis(group: str, *items: tuple[str, str, str]) -> list[Kpi]:
    return [Kpi(name, unit, description, group) for name, unit, description in items]


#: The figures in kpis.csv, in the order they are written. Profit terms of families not
#: declared here (an analyst's own) follow under their own names, in money.
KPIS: list[Kpi] = [
    *_kpis(
        "outcome",
        ("status", "", "optimal, feasible, infeasible, no_solution_found or error (see Status below)."),
        ("profit", "money", "The objective: the sum of the profit terms below, each with its sign."),
    ),
    *_kpis(
        "profit terms",
        ("revenue", "money", "+ price x served, over every demand row."),
        ("purchase_cost", "money", "- unit_cost x quantity, over every order."),
        ("order_cost", "money", "- order_cost of every order placed."),
        ("supplier_fixed_cost", "money", "- fixed_cost of every supplier used."),
        ("holding_cost", "money", "- holding_cost x on_hand, over every product and period."),
        ("cost_to_serve", "money", "- cost_to_serve x served."),
        ("lost_sale_penalty", "money", "- lost_sale_penalty x lost."),
        ("tier_net_value", "money", "+ tier_value - tier_cost of the tiers chosen."),
    ),
    *_kpis(
        "service and stock",
        ("fill_rate", "fraction 0..1", "Served / demand over every segment, product and period."),
        ("average_inventory", "unit", "Stock on hand summed over products, averaged over periods."),
        ("orders_placed", "orders", "Rows of orders.csv."),
        ("suppliers_used", "suppliers", "Suppliers marked used."),
        ("frozen_safety_stock_shortfall", "unit", "Safety stock missing in the frozen zone, where it does not bind (reported, not optimised)."),
        ("frozen_service_shortfall", "unit", "Demand the chosen tiers promise but the frozen zone's stock cannot serve (reported, not optimised)."),
    ),
    *_kpis(
        "business",
        ("cost_of_goods_sold", "money", "Units served x what a unit costs in this plan (its orders' average unit cost; the lowest supplier unit cost for a product not ordered)."),
        ("average_inventory_value", "money", "Stock on hand at the end of each period at that unit cost, averaged over the periods."),
        ("inventory_turns", "turns / horizon", "cost_of_goods_sold / average_inventory_value (blank without stock)."),
        ("periods_of_supply", "period", "average_inventory_value / (cost_of_goods_sold per period): how long the average stock lasts."),
        ("days_of_supply", "day", "periods_of_supply x settings.period_days (7 unless given)."),
        ("gmroi", "money / money", "(revenue - cost_of_goods_sold) / average_inventory_value: gross margin per unit of money held in stock."),
        ("safety_stock_value", "money", "Safety stock at unit cost, averaged over the periods: the cash the service promises tie up."),
        ("expected_fill_rate", "fraction 0..1", "1 - expected units short / forecast demand, demand normal around the forecast with the segments' errors independent (sigma = root of the sum of their squares), stock available = served + left at the end of the period."),
        ("perfect_order_rate", "fraction 0..1", "Share of demand rows (segment, product, period) the plan serves in full."),
        ("order_cycle_time", "day", "(volume-weighted supplier lead time of the plan's orders + the frozen periods, whose orders the run could not change) "
         "x settings.period_days: how long a new need waits for new supply."),
    ),
    *_kpis(
        "search",
        ("mip_gap", "fraction", "(best_bound - profit) / |profit|: how far the plan may be from optimal."),
        ("best_bound", "money", "No plan can earn more than this (HiGHS's bound, or the decomposed route's Lagrangian bound)."),
        ("start_profit", "money", "Profit of the construction heuristic's plan (before the search)."),
        ("heuristic_plan_used", "true/false", "The plan returned comes from the heuristic (or fix-and-optimise), not HiGHS's search."),
        ("plan_source", "", "highs, heuristic, lagrangian (the decomposed route's blocks) or fix_and_optimise: where the plan returned came from."),
        ("improve_blocks", "groups", "Groups of products fix-and-optimise re-solved (large runs)."),
    ),
    *_kpis(
        "model size",
        ("model_rows", "rows", "Constraints handed to HiGHS."),
        ("model_columns", "columns", "Variables handed to HiGHS."),
        ("model_binaries", "columns", "Of them, integer (0/1) decisions."),
        ("model_nonzeros", "nonzeros", "Nonzeros of the constraint matrix."),
    ),
    *_kpis(
        "decomposition (large runs)",
        ("decomposition_blocks", "blocks", "Blocks (products) the decomposed route split the model into; absent when the model was solved whole."),
        ("linking_rows", "rows", "Rows across blocks (capacity, space, budget, ...), relaxed with a multiplier each."),
        ("decomposition_workers", "workers", "Dask worker processes the blocks ran on (0: the solving process itself)."),
        ("lagrangian_iterations", "passes", "Passes over every block that made the Lagrangian bound."),
        ("lagrangian_mip_iterations", "passes", "Of them, passes with the blocks as MIPs (the rest as LPs)."),
        ("lagrangian_tight_iterations", "passes", "Of those, passes whose blocks were solved to a 0.1 % gap, where the pass fitted in the time left at it (the rest: 1 %)."),
        ("block_mip_seconds", "s", "Wall seconds per block solved as a MIP at a 1 % gap, on the busiest worker (a pass at the tighter gap takes longer: lagrangian_tight_iterations)."),
        ("block_lp_seconds", "s", "Wall seconds per block solved as an LP, on the busiest worker."),
        ("multiplier_bytes", "bytes", "Multipliers sent to the workers per pass (the blocks stay there)."),
        ("calls_per_iteration", "calls", "Round trips to the workers per pass."),
        ("cluster_seconds", "s", "Starting the Dask cluster and sending each worker its blocks."),
        ("worker_peak_mb", "MB", "Peak memory of the largest Dask worker process holding blocks (absent when they ran in the solving process)."),
    ),
    *_kpis(
        "provenance",
        ("input_hash", "", "SHA-256 of the validated input tables: the same hash, the same data."),
        ("version_planner", "", "planner version."),
        ("version_pyomo", "", "Pyomo version."),
        ("version_highspy", "", "HiGHS (highspy) version."),
    ),
    *_kpis(
        "seconds",
        ("build_seconds", "s", "Building the Pyomo model from the families."),
        ("start_seconds", "s", "The construction heuristic and the LP completing its plan."),
        ("handoff_seconds", "s", "Compiling the model into arrays and passing them to HiGHS."),
        ("solve_seconds", "s", "The search and the polish LP (on the monolithic route HiGHS searches while the heuristic runs: the two overlap)."),
        ("polish_seconds", "s", "The LP with the plan's integer decisions fixed."),
        ("first_plan_seconds", "s", "Search time until HiGHS found its first plan."),
        ("improve_seconds", "s", "Fix-and-optimise beside HiGHS (large runs)."),
        ("extract_seconds", "s", "Reading the plan tables out of the model."),
        ("verify_seconds", "s", "The independent verifier."),
    ),
]
KPI_UNITS: dict[str, str] = {k.name: k.unit for k in KPIS}


def kpi_unit(name: str) -> str:
    """The declared unit of a KPI; an undeclared one is a family's own profit term (money)."""
    return KPI_UNITS.get(name, "money")


def kpi_order(names: list[str]) -> list[str]:
    """KPI names in the declared order, undeclared ones (user families' terms) after the core terms."""
    declared = [k.name for k in KPIS]
    extra = [n for n in names if n not in KPI_UNITS]
    at = declared.index("tier_net_value") + 1
    order = declared[:at] + extra + declared[at:]
    return [n for n in order if n in set(names)]
