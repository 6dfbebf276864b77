"""The CRM side as companies export it: order lines and a customer master, declared once.

Exports name their fields their own way (SAP's VBAP, Salesforce's OrderItem, the public
"Online Retail" data set); a column mapping renames them onto these tables. Presets for
common shapes are in :data:`PRESETS`; a mapping file (JSON) gives any other:
``{"order_lines": {"order_id": "InvoiceNo", ...}, "customers": {...}}``.

Quantities may be negative: a cancellation or a return (the "Online Retail" layout books a
cancelled invoice as ``C536379`` with a negative quantity). They stay in the table as
returns; :mod:`planner.analysis.customers` charges them.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator

from planner.contract.bulk import validate_rows
from planner.contract.fields import field
from planner.contract.inputs import MAX_LABEL, MAX_UNIT_MONEY, MAX_UNITS, PRINTABLE, Label, Row
from planner.contract.loading import parse_json, read_csv_frame, read_workbook, records
from planner.contract.problems import LoadError, Problem
from planner.contract.validation import validate


class OrderLine(Row):
    order_id: Label = field("Sales order (invoice) the line belongs to.")
    customer: Label = field("Customer (CRM account) who ordered.")
    product: Label = field("Product ordered: a product of the planning instance.")
    order_date: dt.date = field("Day the order was placed: 2026-03-01 (a time after it is ignored), or 12/1/2010 8:26 (month/day/year, as US exports write it), or 1.12.2010.")
    quantity: float = field("Units ordered; negative for a cancellation or a return.", "unit", ge=-MAX_UNITS, le=MAX_UNITS)
    net_unit_price: float = field("Price per unit after discounts.", "money / unit", ge=0, le=MAX_UNIT_MONEY)
    requested_date: dt.date | None = field("Day the customer asked to receive it.", default=None)
    delivered_quantity: float | None = field("Units delivered (blank = as ordered).", "unit", ge=0, le=MAX_UNITS, default=None)
    returned_quantity: float = field("Units of this line sent back later.", "unit", ge=0, le=MAX_UNITS, default=0.0)
    ship_to: Label | None = field("Delivery address or site: one order to two sites is two deliveries.", default=None)

    @field_validator("order_date", "requested_date", mode="before")
    @classmethod
    def _day(cls, value: Any) -> Any:
        # exports write a date with a time ("12/1/2010 8:26", "2010-12-01 08:26:00"); the day is what counts
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, str):
            value = value.strip()
            for fmt in ("%Y-%m-%d", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%m/%d/%Y %H:%M", "%m/%d/%Y", "%d.%m.%Y", "%d.%m.%Y %H:%M"):
                try:
                    return dt.datetime.strptime(value, fmt).date()
                except ValueError:
                    continue
            raise ValueError(f"not a date: {value!r} (write 2026-03-01)")
        return value


class CustomerRecord(Row):
    customer: Label = field("Customer (CRM account).")
    name: str | None = field("Customer's name.", default=None, max_length=200)
    customer_class: Label | None = field("A class the CRM already keeps (A, B, key account...).", default=None)
    region: Label | None = field("Region.", default=None)
    channel: Label | None = field("Sales channel.", default=None)


class ServeRates(BaseModel):
    """Activity-based cost to serve: what each activity costs the company."""

    model_config = ConfigDict(extra="forbid", strict=True)
    per_order: float = Field(0.0, ge=0, le=MAX_UNIT_MONEY, description="Cost of taking and processing one order.", json_schema_extra={"unit": "money / order"})
    per_line: float = Field(0.0, ge=0, le=MAX_UNIT_MONEY, description="Cost of picking one order line.", json_schema_extra={"unit": "money / line"})
    per_delivery: float = Field(0.0, ge=0, le=MAX_UNIT_MONEY, description="Cost of one delivery (an order to one site).", json_schema_extra={"unit": "money / delivery"})
    per_return: float = Field(0.0, ge=0, le=MAX_UNIT_MONEY, description="Cost of handling one return or cancellation line.", json_schema_extra={"unit": "money / return"})


class CustomerProfit(BaseModel):
    """One row of customer_profitability.csv (formulas in planner.analysis.customers)."""

    customer: str = field("Customer.")
    orders: int = field("Orders with a line of positive quantity.", "orders")
    lines: int = field("Lines of positive quantity.", "lines")
    deliveries: int = field("Distinct (order, ship-to) among them.", "deliveries")
    return_lines: int = field("Lines with a negative or a returned quantity.", "lines")
    units: float = field("Units sold less units returned.", "unit")
    revenue: float = field("Quantity x net unit price over lines of positive quantity.", "money")
    returns: float = field("Value of what was cancelled or sent back, at its own price.", "money")
    cost_of_goods: float = field("Net units x the product's lowest supplier unit cost.", "money")
    cost_to_serve: float = field("per_order x orders + per_line x lines + per_delivery x deliveries + per_return x return lines.", "money")
    profit: float = field("revenue - returns - cost_of_goods - cost_to_serve.", "money")
    margin: float | None = field("profit / (revenue - returns); blank without sales.", "fraction")
    rank: int = field("1 = the most profitable customer.")


class WhalePoint(BaseModel):
    """One row of whale_curve.csv."""

    rank: int = field("Customer's rank by profit.")
    customer: str = field("Customer.")
    customer_share: float = field("Share of the customers up to this one.", "fraction 0..1")
    cumulative_profit: float = field("Profit of the customers up to this one.", "money")
    cumulative_share_of_total: float | None = field("cumulative_profit / total profit (blank when the total is 0).", "fraction")


CRM_TABLES: dict[str, type[Row]] = {"order_lines": OrderLine, "customers": CustomerRecord}
CRM_OUTPUTS: dict[str, type[BaseModel]] = {"customer_profitability": CustomerProfit, "whale_curve": WhalePoint}

#: Column mappings of common export shapes: contract column -> the export's field.
PRESETS: dict[str, dict[str, dict[str, str]]] = {
    "online_retail": {  # the public UCI "Online Retail" transactions
        "order_lines": {"order_id": "InvoiceNo", "product": "StockCode", "quantity": "Quantity", "order_date": "InvoiceDate",
                        "net_unit_price": "UnitPrice", "customer": "CustomerID", "ship_to": "Country"},
        "customers": {"customer": "CustomerID", "region": "Country"},
    },
    "sap_sales_items": {  # SAP SD: VBAK (header) joined to VBAP (items)
        "order_lines": {"order_id": "VBELN", "customer": "KUNNR", "product": "MATNR", "order_date": "ERDAT", "quantity": "KWMENG",
                        "net_unit_price": "NETPR", "requested_date": "VDATU"},
        "customers": {"customer": "KUNNR", "name": "NAME1", "region": "REGIO", "channel": "VTWEG", "customer_class": "KLABC"},
    },
    "salesforce_order_item": {
        "order_lines": {"order_id": "OrderId", "customer": "AccountId", "product": "Product2Id", "order_date": "EffectiveDate",
                        "quantity": "Quantity", "net_unit_price": "UnitPrice"},
        "customers": {"customer": "Id", "name": "Name", "region": "BillingState", "channel": "Type"},
    },
    "odoo_sale_order_line": {
        "order_lines": {"order_id": "order_id", "customer": "order_partner_id", "product": "product_id", "order_date": "create_date",
                        "quantity": "product_uom_qty", "net_unit_price": "price_reduce", "delivered_quantity": "qty_delivered"},
        "customers": {"customer": "id", "name": "name", "region": "country_id", "customer_class": "category_id"},
    },
    "dynamics365_sales_order_lines": {
        "order_lines": {"order_id": "SalesOrderNumber", "customer": "OrderingCustomerAccountNumber", "product": "ItemNumber",
                        "order_date": "OrderCreationDateTime", "quantity": "OrderedSalesQuantity", "net_unit_price": "SalesPrice",
                        "requested_date": "RequestedShippingDate", "ship_to": "DeliveryAddressLocationId"},
        "customers": {"customer": "CustomerAccount", "name": "OrganizationName", "region": "AddressCountryRegionId",
                      "channel": "SalesDistrict", "customer_class": "CustomerGroupId"},
    },
}


@dataclass
class CrmData:
    """Validated order lines and customer master, one row per line / customer."""

    order_lines: pd.DataFrame
    customers: pd.DataFrame


def load_mapping(mapping: str | Path | dict | None) -> dict[str, dict[str, str]]:
    """A preset's name, a JSON mapping file, a mapping itself, or None (the export already uses
    the contract's names)."""
    if mapping is None:
        return {}
    if isinstance(mapping, dict):
        doc = mapping
    elif str(mapping) in PRESETS:
        return PRESETS[str(mapping)]
    else:
        path = Path(mapping)
        if not path.is_file():
            raise LoadError([Problem("error", "mapping", None, None, f"{mapping} is neither a preset ({', '.join(PRESETS)}) nor a mapping file")])
        doc = parse_json(path.read_bytes(), path.name)
    problems = []
    if not isinstance(doc, dict):
        doc = {}
        problems.append(Problem("error", "mapping", None, None, 'must be an object {"order_lines": {contract column: export field}, "customers": {...}}'))
    for table, columns in doc.items():
        if table not in CRM_TABLES:
            problems.append(Problem("error", "mapping", None, table, f"unknown table (known: {', '.join(CRM_TABLES)})"))
        elif not isinstance(columns, dict) or not all(isinstance(v, str) for v in columns.values()):
            problems.append(Problem("error", "mapping", None, table, "must map contract columns to the export's field names"))
        else:
            for column in columns:
                if column not in CRM_TABLES[table].model_fields:
                    problems.append(Problem("error", "mapping", None, f"{table}.{column}", f"not a column of {table} (columns: {', '.join(CRM_TABLES[table].model_fields)})"))
    if problems:
        raise LoadError(problems)
    return doc


def _export_name(mapping: dict[str, str], column: str) -> str:
    """The export's field for a contract column, as the readers give it (lower case)."""
    return mapping.get(column, column).strip().lower()


def _read_frame(path: Path) -> pd.DataFrame:
    """An export as a frame of cells (column names in lower case, blanks None, rows numbered from 1)."""
    suffix = path.suffix.lower()
    if suffix not in (".xlsx", ".xlsm", ".json"):
        return read_csv_frame(path, path.name)
    if suffix == ".json":
        doc = parse_json(path.read_bytes(), path.name)
        if not isinstance(doc, list):
            raise LoadError([Problem("error", path.name, None, None, "must be an array of row objects")])
        rows = records(pd.DataFrame(doc))
    else:
        rows = next(iter(read_workbook(path, path.name).values()), [])
    return _frame(rows)


def _frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, dtype=object, columns=sorted(set().union(*(r.keys() for r in rows))) if rows else [])
    frame.index = range(1, len(frame) + 1)  # 1 = the first line after the header
    return frame


def _rows(table: str, frame: pd.DataFrame, source: str, mapping: dict[str, str]) -> tuple[pd.DataFrame | None, list[Problem]]:
    """One table as read from an export, renamed by its mapping and validated (column by column
    where plain, row by row where not: :mod:`planner.contract.bulk`); problems name the
    ``source``, its row (1 = the first line after the header) and the export's own column."""
    model = CRM_TABLES[table]
    to_export = {c: _export_name(mapping, c) for c in model.model_fields}
    from_export = {e: c for c, e in to_export.items()}
    problems = [Problem("error", source, None, to_export[c], f"column for {table}.{c} is missing (map it, or name it {c})")
                for c, f in model.model_fields.items() if f.is_required() and to_export[c] not in frame.columns]
    if problems:
        return None, problems
    frame = frame[[e for e in frame.columns if e in from_export]].rename(columns=from_export)
    good, errors = validate_rows(model, frame)
    for position, exc in errors:
        for e in exc.errors():
            column = to_export.get(str(e["loc"][0]), str(e["loc"][0])) if e["loc"] else None
            problems.append(Problem("error", source, int(frame.index[position]), column, e["msg"].removeprefix("Value error, ")))
    return good[list(model.model_fields)], problems


def read_crm(order_lines: str | Path, customers: str | Path, mapping: str | Path | dict | None = None) -> CrmData:
    """Order lines and the customer master from their exports (CSV, XLSX or a JSON array),
    checked: every problem at once, located by file, row and the export's column. Every
    customer of an order line must be in the master."""
    paths = [Path(order_lines), Path(customers)]
    missing = [Problem("error", p.name, None, None, "no such file") for p in paths if not p.is_file()]
    if missing:
        load_mapping(mapping)
        raise LoadError(missing)
    return _crm(_read_frame(paths[0]), _read_frame(paths[1]), mapping, (paths[0].name, paths[1].name))


def crm_from_rows(order_lines: list[dict[str, Any]], customers: list[dict[str, Any]], mapping: str | Path | dict | None = None,
                  sources: tuple[str, str] = ("order_lines", "customers")) -> CrmData:
    """Order lines and the customer master from rows as read (column names in lower case, blank
    cells None), checked as :func:`read_crm` says; ``sources`` name them in problems."""
    return _crm(_frame(order_lines), _frame(customers), mapping, sources)


def _crm(order_lines: pd.DataFrame, customers: pd.DataFrame, mapping: str | Path | dict | None, sources: tuple[str, str]) -> CrmData:
    cols = load_mapping(mapping)
    lines, problems = _rows("order_lines", order_lines, sources[0], cols.get("order_lines", {}))
    master, more = _rows("customers", customers, sources[1], cols.get("customers", {}))
    problems += more
    if master is not None:
        for i in master.index[master.duplicated("customer")]:
            problems.append(Problem("error", sources[1], int(i), _export_name(cols.get("customers", {}), "customer"),
                                    f"customer {master.at[i, 'customer']!r} appears twice"))
    if lines is not None and master is not None:
        column = _export_name(cols.get("order_lines", {}), "customer")
        unknown = ~lines["customer"].isin(set(master["customer"]))
        for i, c in zip(lines.index[unknown], lines["customer"][unknown]):
            problems.append(Problem("error", sources[0], int(i), column, f"customer {c!r} is not in the customer master"))
    if problems:
        raise LoadError(problems)
    return CrmData(order_lines=lines, customers=master)


def read_assignment(path: Path, known: set[str]) -> pd.Series:
    """An edited customer_segments.csv given back: customer -> segment, every customer once."""
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    return assignment_from_rows(df.to_dict("records"), known, path.name)


def assignment_from_rows(rows: list[dict[str, Any]], known: set[str], source: str = "segments") -> pd.Series:
    """customer -> segment from rows {customer, segment}: every customer of the master once."""
    df = pd.DataFrame(rows, dtype=object)
    problems = [Problem("error", source, None, c, "column is missing") for c in ("customer", "segment") if c not in df.columns]
    if problems:
        raise LoadError(problems)
    df = df[["customer", "segment"]].fillna("").astype(str)
    for i, (c, s) in enumerate(zip(df["customer"], df["segment"]), start=1):
        if c not in known:
            problems.append(Problem("error", source, i, "customer", f"customer {c!r} is not in the customer master"))
        elif not s.strip() or len(s.strip()) > MAX_LABEL or not re.fullmatch(PRINTABLE, s):
            problems.append(Problem("error", source, i, "segment", f"a segment label of 1 to {MAX_LABEL} printable characters"))
    for i in df.index[df.duplicated("customer")]:
        problems.append(Problem("error", source, int(i) + 1, "customer", f"customer {df.at[i, 'customer']!r} appears twice"))
    missing = sorted(known - set(df["customer"]))
    if missing:
        problems.append(Problem("error", source, None, "customer", f"{len(missing)} customer(s) of the master have no segment, e.g. {missing[0]!r}"))
    if problems:
        raise LoadError(problems)
    return pd.Series(df["segment"].str.strip().to_numpy(), index=df["customer"].to_numpy(), name="segment")


#: The supply side's tables of the planning contract (what ``planner prepare --scm`` reads).
SCM_TABLES = ("products", "suppliers", "supplier_products", "settings", "supplier_capacity", "open_orders")
ISO_WEEK = re.compile(r"(\d{4})-W(\d{2})")


def iso_week(day) -> str:
    """The ISO week label of a day: 2026-W48."""
    year, week, _ = pd.Timestamp(day).isocalendar()
    return f"{year}-W{week:02d}"


def planning_weeks(start: str, weeks: int) -> list[str]:
    """``weeks`` ISO week labels from ``start`` on."""
    year, week = (int(x) for x in ISO_WEEK.fullmatch(start).groups())
    monday = dt.date.fromisocalendar(year, week, 1)
    return [iso_week(monday + dt.timedelta(weeks=i)) for i in range(weeks)]


def scm_problems(scm: dict[str, list[dict[str, Any]]]) -> list[Problem]:
    """What is wrong in the supply side's own tables (the periods they name are checked later,
    against the planning weeks)."""
    report = validate({name: rows for name, rows in scm.items() if name in SCM_TABLES})
    return [p for p in report.errors if p.table in SCM_TABLES and p.column not in ("period", "arrival_period")]


def scm_terms(scm: dict[str, list[dict[str, Any]]]) -> tuple[dict[str, float], dict[str, int]]:
    """From checked supply-side tables: each product's lowest unit cost, and its shortest
    supplier lead time (weeks)."""
    lead = {str(r["supplier"]): int(float(r["lead_time"])) for r in scm["suppliers"]}
    costs: dict[str, float] = {}
    fastest: dict[str, int] = {}
    for r in scm["supplier_products"]:
        p = str(r["product"])
        costs[p] = min(costs.get(p, float("inf")), float(r["unit_cost"]))
        fastest[p] = min(fastest.get(p, 10**9), lead[str(r["supplier"])])
    return costs, fastest


def mapping_json(name: str) -> str:
    """A preset as a mapping file would hold it (to start one's own from)."""
    return json.dumps(PRESETS[name], indent=2)
