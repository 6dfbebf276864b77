"""The input contract: every input table and every column, declared once.

Each table is a pydantic model of one row. A field's ``description`` and its
``unit`` (in ``json_schema_extra``) are the documentation of the contract:
the README table (``planner schema``), ``planner validate`` messages and the
service's request schema (``POST /v1/runs``) are all generated from these
declarations.

Units: ``money`` is the instance's currency, ``unit`` a unit of product,
``period`` one planning period (a week in the demo), ``capacity unit`` the
supplier's own measure of capacity (hours, pallets, units), ``volume`` the
warehouse's measure of space.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from planner.contract.fields import field

#: Limits every number and label of the contract is held to. They are far above any real
#: plan's figures and far below what a float can add up (1e9 units x 1e9 money / unit x
#: 1,000 periods x 100,000 rows stays below 1e26), so nothing the model, the verifier or a
#: report computes from accepted data can overflow or become infinite.
MAX_UNITS = 1e9  # a quantity of product (unit)
MAX_UNIT_MONEY = 1e9  # a price or a cost per unit (money / unit)
MAX_MONEY = 1e12  # a cost or a value of the horizon or a period (money)
MAX_CAPACITY = 1e12  # a capacity (capacity unit or volume)
MAX_RATE = 1e6  # space or capacity one unit or one order takes
MAX_PERIODS = 1000  # a lead time (period)
MAX_LABEL = 100  # characters of a label
#: Labels are printable: no NUL, no line breaks or other control characters (a label is a
#: file name, a spreadsheet cell and a database value further on).
PRINTABLE = r"^[^\x00-\x1f\x7f]*$"

Label = Annotated[str, Field(min_length=1, max_length=MAX_LABEL, pattern=PRINTABLE)]


class Row(BaseModel):
    """Base of every table row: unknown columns are reported, not silently kept."""

    # Labels may arrive as numbers (period 1 in a CSV or a spreadsheet cell);
    # the loader turns integral floats into ints first, so 1.0 reads as "1".
    model_config = ConfigDict(
        extra="forbid", str_strip_whitespace=True, coerce_numbers_to_str=True, allow_inf_nan=False
    )

    @field_validator("*", mode="before")
    @classmethod
    def _no_booleans(cls, value: Any) -> Any:
        # pydantic would read true as 1 and false as 0: a JSON true or a spreadsheet's TRUE cell
        # in a number column is a mistake, not a quantity
        if isinstance(value, bool):
            raise ValueError("true/false is not a value of this column")
        return value


class Product(Row):
    product: Label = field("Product (item) identifier.")
    unit_volume: float = field("Warehouse space one unit takes.", "volume / unit", ge=0, le=MAX_RATE, default=0.0)
    holding_cost: float = field("Cost of holding one unit at the end of a period.", "money / unit / period", ge=0, le=MAX_UNIT_MONEY)
    initial_inventory: float = field("On-hand stock at the start of the first period.", "unit", ge=0, le=MAX_UNITS, default=0.0)


class Segment(Row):
    segment: Label = field("Customer segment (CRM).")
    lost_sale_penalty: float = field("Goodwill lost per unit of demand not served.", "money / unit", ge=0, le=MAX_UNIT_MONEY, default=0.0)
    cost_to_serve: float = field("Cost of serving one unit to this segment (handling, delivery).", "money / unit", ge=0, le=MAX_UNIT_MONEY, default=0.0)
    min_tier: Label | None = field("Contractual floor: the lowest service tier this segment may get (a tier name of the segment); blank = any.", default=None)


class ServiceTier(Row):
    segment: Label = field("Segment the tier belongs to.")
    tier: Label = field("Tier name, unique within its segment. Tiers are ordered by fill_rate.")
    fill_rate: float = field("Share of each period's demand that must be served at this tier.", "fraction 0..1", ge=0, le=1)
    cycle_service_level: float = field(
        "Probability of no stock-out in a period; sets the safety factor z = max(0, Phi^-1(csl)).", "fraction 0..1", ge=0, lt=1
    )
    tier_value: float = field("Benefit of offering the tier over the horizon (retention, contract value).", "money / horizon", ge=0, le=MAX_MONEY, default=0.0)
    tier_cost: float = field("Cost of offering the tier over the horizon (account management, penalties).", "money / horizon", ge=0, le=MAX_MONEY, default=0.0)


class Demand(Row):
    segment: Label = field("Segment demanding.")
    product: Label = field("Product demanded.")
    period: Label = field("Period of the demand.")
    quantity: float = field("Forecast mean demand.", "unit", ge=0, le=MAX_UNITS)
    std: float = field("Standard deviation of the forecast error over the protection interval.", "unit", ge=0, le=MAX_UNITS, default=0.0)
    price: float = field("Selling price for this segment.", "money / unit", ge=0, le=MAX_UNIT_MONEY)


class Supplier(Row):
    supplier: Label = field("Supplier identifier (SCM).")
    lead_time: int = field("Whole periods from placing an order to its arrival (0 = arrives in the period it is placed).", "period", ge=0, le=MAX_PERIODS)
    fixed_cost: float = field("Cost of using the supplier at all in the horizon.", "money / horizon", ge=0, le=MAX_MONEY, default=0.0)
    capacity: float = field("Capacity available per period, in the supplier's capacity units.", "capacity unit / period", ge=0, le=MAX_CAPACITY)
    on_time_rate: float = field("Share of deliveries that arrive on time; the stock also covers the late share, (1 - on_time_rate) x arrivals (the punctuality family).", "fraction 0..1", ge=0, le=1, default=1.0)


class SupplierProduct(Row):
    supplier: Label = field("Supplier.")
    product: Label = field("Product the supplier can deliver.")
    unit_cost: float = field("Purchase price per unit.", "money / unit", ge=0, le=MAX_UNIT_MONEY)
    order_cost: float = field("Fixed cost of each order placed (per supplier, product and period).", "money / order", ge=0, le=MAX_MONEY, default=0.0)
    moq: float = field("Minimum order quantity (0 = none).", "unit", ge=0, le=MAX_UNITS, default=0.0)
    capacity_use: float = field("Supplier capacity consumed per unit ordered.", "capacity unit / unit", ge=0, le=MAX_RATE, default=1.0)
    order_capacity_use: float = field("Supplier capacity consumed by each order placed (changeover).", "capacity unit / order", ge=0, le=MAX_RATE, default=0.0)


class InstanceSettings(Row):
    warehouse_capacity: float | None = field("Warehouse space for end-of-period inventory; blank = unlimited.", "volume", ge=0, le=MAX_CAPACITY, default=None)
    budget: float | None = field("Cap on procurement spend (purchase + order costs) per period; blank = none.", "money / period", ge=0, le=MAX_MONEY, default=None)
    period_days: float = field("Days in one period (7: the periods are weeks), for the figures the business reads in days: days of supply, order cycle time.",
                               "day / period", ge=1, le=366, default=7.0)


class SupplierCapacity(Row):
    supplier: Label = field("Supplier.")
    period: Label = field("Period the override applies to.")
    capacity: float = field("Capacity in this period, replacing the supplier's default (0 = unavailable).", "capacity unit / period", ge=0, le=MAX_CAPACITY)


class OpenOrder(Row):
    supplier: Label = field("Supplier the order was placed with.")
    product: Label = field("Product ordered.")
    arrival_period: Label = field("Period the order arrives (a period of the horizon).")
    quantity: float = field("Quantity in transit.", "unit", ge=0, le=MAX_UNITS)


class Customer(Row):
    customer: Label = field("Customer (CRM account).")
    segment: Label = field("Segment the customer belongs to.")
    share: float = field("Customer's share of its segment's demand (used to report profitability per customer).", "fraction 0..1", gt=0, le=1)
    cost_to_serve: float | None = field("The customer's own cost of being served per unit it buys, from its order history (orders, lines, deliveries, "
                                        "returns); its profitability is charged by it (blank: the segment's).", "money / unit", ge=0, le=MAX_UNIT_MONEY, default=None)


class CustomerProduct(Row):
    customer: Label = field("Customer (a customer of the customers table).")
    product: Label = field("Product the customer buys.")
    share: float = field("Customer's share of its segment's units of this product, from its order history.", "fraction 0..1", gt=0, le=1)
    price: float | None = field("The customer's own net price of the product (blank: the segment's).", "money / unit", ge=0, le=MAX_UNIT_MONEY, default=None)


class Period(Row):
    period: Label = field("Period label.")
    order: int = field("Position of the period in the horizon (ascending).", ge=-10**9, le=10**9)


class TableSpec(BaseModel):
    """How one table of the contract is read."""

    name: str
    row: type[Row]
    key: tuple[str, ...]
    required: bool
    description: str


TABLES: dict[str, TableSpec] = {
    spec.name: spec
    for spec in [
        TableSpec(name="products", row=Product, key=("product",), required=True, description="Products (items) planned."),
        TableSpec(name="segments", row=Segment, key=("segment",), required=True, description="Customer segments (CRM)."),
        TableSpec(name="service_tiers", row=ServiceTier, key=("segment", "tier"), required=True, description="Service tiers each segment may be given (CRM)."),
        TableSpec(name="demand", row=Demand, key=("segment", "product", "period"), required=True, description="Forecast demand and price per segment, product and period (CRM)."),
        TableSpec(name="suppliers", row=Supplier, key=("supplier",), required=True, description="Suppliers (SCM)."),
        TableSpec(name="supplier_products", row=SupplierProduct, key=("supplier", "product"), required=True, description="Which supplier delivers which product, at what terms (SCM)."),
        TableSpec(name="settings", row=InstanceSettings, key=(), required=False, description="One row of instance-wide limits."),
        TableSpec(name="supplier_capacity", row=SupplierCapacity, key=("supplier", "period"), required=False, description="Per-period overrides of supplier capacity."),
        TableSpec(name="open_orders", row=OpenOrder, key=("supplier", "product", "arrival_period"), required=False, description="Orders already in transit."),
        TableSpec(name="periods", row=Period, key=("period",), required=False, description="Explicit order of the periods (else labels are sorted)."),
        TableSpec(name="customers", row=Customer, key=("customer",), required=False, description="Customers mapped to segments, for profitability per customer."),
        TableSpec(name="customer_products", row=CustomerProduct, key=("customer", "product"), required=False,
                  description="What each customer buys of its segment's demand, and at what price: profitability per customer from its own history."),
    ]
}


def columns(table: str) -> dict[str, Any]:
    """Column name -> pydantic FieldInfo for one table, in contract order."""
    return dict(TABLES[table].row.model_fields)


def required_columns(table: str) -> list[str]:
    return [name for name, f in columns(table).items() if f.is_required()]
