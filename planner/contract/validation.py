"""Validation: raw tables -> :class:`Instance`, or every problem at once.

Row checks come from the pydantic declarations in :mod:`planner.schema`;
cross-table checks are small ``check_*`` functions that each append what they
find to the report (they never stop at the first problem).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import pandas as pd
from pydantic import ValidationError

from planner.contract.inputs import TABLES, columns, required_columns
from planner.contract.instance import Instance
from planner.contract.loading import RawTables, read_tables, tables_from_mapping
from planner.contract.problems import Problem, ProblemsError


@dataclass
class ValidationReport:
    problems: list[Problem] = field(default_factory=list)
    instance: Instance | None = None

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def ok(self) -> bool:
        return not self.errors and self.instance is not None

    def to_dict(self) -> dict:
        return {
            "valid": self.ok,
            "errors": [p.to_dict() for p in self.errors],
            "warnings": [p.to_dict() for p in self.warnings],
        }


class InvalidInstance(ProblemsError):
    """The data has errors: ``problems`` lists them (and the warnings), ``report`` is the whole report."""

    def __init__(self, report: ValidationReport):
        super().__init__(report.problems)
        self.report = report


# ---------------------------------------------------------------------------------
# Row level
# ---------------------------------------------------------------------------------

def _pydantic_message(err: dict) -> str:
    msg = err["msg"]
    if err["type"] == "missing":
        return "missing value (required)"
    if err["type"] == "extra_forbidden":
        return "unknown column"
    value = err.get("input")
    return f"{msg} (got {value!r})" if value is not None and not isinstance(value, dict) else msg


def _validate_rows(name: str, rows: list[dict[str, Any]], report: ValidationReport) -> pd.DataFrame | None:
    spec = TABLES[name]
    known = set(columns(name))
    present = set().union(*(r.keys() for r in rows)) if rows else set()
    for col in required_columns(name):
        if col not in present and rows:
            report.problems.append(Problem("error", name, None, col, "required column is missing"))
    for col in sorted(present - known):
        report.problems.append(Problem("warning", name, None, col, "unknown column, ignored"))
    if any(col not in present for col in required_columns(name)):
        return None
    good: list[dict] = []
    numbers: list[int] = []
    failed = False
    for i, raw in enumerate(rows, start=1):
        if all(v is None for v in raw.values()):
            continue  # a blank line (spreadsheet exports often end with some)
        data = {k: v for k, v in raw.items() if k in known and v is not None}
        try:
            good.append(spec.row.model_validate(data).model_dump())
            numbers.append(i)
        except ValidationError as exc:
            failed = True
            for err in exc.errors():
                col = ".".join(str(x) for x in err["loc"]) or None
                report.problems.append(Problem("error", name, i, col, _pydantic_message(err)))
    if failed or not good:
        return None
    # The index is the row's number in its table, so later checks can name it.
    return pd.DataFrame(good, columns=list(columns(name)), index=numbers)


def _check_duplicate_keys(name: str, df: pd.DataFrame, report: ValidationReport) -> None:
    key = list(TABLES[name].key)
    if not key:
        return
    dup = df.duplicated(subset=key, keep="first")
    for i in df.index[dup]:
        values = ", ".join(f"{k}={df.at[i, k]!r}" for k in key)
        report.problems.append(Problem("error", name, int(i), key[-1], f"duplicate key ({values}): each key may appear once"))


# ---------------------------------------------------------------------------------
# Cross-table checks
# ---------------------------------------------------------------------------------

Tables = dict[str, pd.DataFrame]


def _refs(t: Tables, report: ValidationReport, table: str, column: str, target: str, target_col: str) -> None:
    if table not in t or target not in t:
        return
    known = set(t[target][target_col])
    for i, v in zip(t[table].index, t[table][column]):
        if v not in known:
            report.problems.append(Problem("error", table, int(i), column, f"unknown {target_col} {v!r} (not in {target})"))


def check_references(t: Tables, report: ValidationReport) -> None:
    """Every label used in one table is declared in the table that owns it."""
    _refs(t, report, "demand", "segment", "segments", "segment")
    _refs(t, report, "demand", "product", "products", "product")
    _refs(t, report, "service_tiers", "segment", "segments", "segment")
    _refs(t, report, "supplier_products", "supplier", "suppliers", "supplier")
    _refs(t, report, "supplier_products", "product", "products", "product")
    _refs(t, report, "supplier_capacity", "supplier", "suppliers", "supplier")
    _refs(t, report, "open_orders", "supplier", "suppliers", "supplier")
    _refs(t, report, "open_orders", "product", "products", "product")
    _refs(t, report, "customers", "segment", "segments", "segment")
    if "customers" in t:
        total = t["customers"].groupby("segment")["share"].sum()
        for s, v in total.items():
            if v > 1 + 1e-9:
                i = int(t["customers"].index[t["customers"]["segment"] == s][-1])
                report.problems.append(Problem("error", "customers", i, "share", f"shares of segment {s!r} add up to {v:g}, more than 1"))
    if "customer_products" in t and "customers" not in t:
        report.problems.append(Problem("error", "customer_products", None, None, "needs the customers table (each customer's segment)"))
    _refs(t, report, "customer_products", "customer", "customers", "customer")
    _refs(t, report, "customer_products", "product", "products", "product")
    if "customer_products" in t and "customers" in t:
        cp = t["customer_products"]
        segment = cp["customer"].map(t["customers"].set_index("customer")["segment"])
        total = cp["share"].groupby([segment, cp["product"]]).sum()
        for (s, p), v in total.items():
            if v > 1 + 1e-9:
                i = int(cp.index[(segment == s) & (cp["product"] == p)][-1])
                report.problems.append(Problem("error", "customer_products", i, "share", f"shares of segment {s!r} in product {p!r} add up to {v:g}, more than 1"))


def check_tiers(t: Tables, report: ValidationReport) -> None:
    """Each segment has at least one tier; a min_tier names one of its tiers."""
    if "segments" not in t or "service_tiers" not in t:
        return
    tiers = t["service_tiers"]
    by_segment = tiers.groupby("segment")["tier"].apply(set).to_dict()
    for i, s, mt in zip(t["segments"].index, t["segments"]["segment"], t["segments"]["min_tier"]):
        if s not in by_segment:
            report.problems.append(Problem("error", "segments", int(i), "segment", f"segment {s!r} has no service tier (add rows to service_tiers)"))
        elif isinstance(mt, str) and mt and mt not in by_segment[s]:
            report.problems.append(
                Problem("error", "segments", int(i), "min_tier", f"min_tier {mt!r} is not a tier of segment {s!r} (tiers: {', '.join(sorted(by_segment[s]))})")
            )


def check_settings(t: Tables, report: ValidationReport) -> None:
    if "settings" in t and len(t["settings"]) > 1:
        report.problems.append(Problem("error", "settings", 2, None, f"settings must have exactly one row (found {len(t['settings'])})"))


def _period_sort_key(labels: list[str]) -> Callable[[str], Any]:
    if all(lbl.lstrip("-").isdigit() for lbl in labels):
        return int
    return str


def derive_periods(t: Tables, report: ValidationReport) -> list[str]:
    """The horizon: the periods table's order when given, else the demand periods as they sort."""
    if "periods" in t and len(t["periods"]):
        p = t["periods"]
        for i in p.index[p.duplicated(subset=["order"])]:
            report.problems.append(Problem("error", "periods", int(i), "order", f"order {p.at[i, 'order']} is used by more than one period"))
        periods = list(p.sort_values("order", kind="stable")["period"])
        known = set(periods)
        for i, v in zip(t["demand"].index, t["demand"]["period"]) if "demand" in t else []:
            if v not in known:
                report.problems.append(Problem("error", "demand", int(i), "period", f"period {v!r} is not in the periods table"))
        return periods
    if "demand" not in t:
        return []
    labels = sorted(set(t["demand"]["period"]))
    return sorted(labels, key=_period_sort_key(labels))


def check_periods(t: Tables, periods: list[str], report: ValidationReport) -> None:
    """Capacity overrides and open orders refer to periods of the horizon."""
    known = set(periods)
    if "supplier_capacity" in t:
        for i, v in zip(t["supplier_capacity"].index, t["supplier_capacity"]["period"]):
            if v not in known:
                report.problems.append(Problem("warning", "supplier_capacity", int(i), "period", f"period {v!r} is outside the horizon; row ignored"))
    if "open_orders" in t:
        for i, v in zip(t["open_orders"].index, t["open_orders"]["arrival_period"]):
            if v not in known:
                report.problems.append(
                    Problem("error", "open_orders", int(i), "arrival_period", f"arrival_period {v!r} is not a period of the horizon ({periods[0]}..{periods[-1]})" if periods else f"arrival_period {v!r}: the horizon is empty")
                )


def check_supply(t: Tables, periods: list[str], report: ValidationReport) -> None:
    """Warn about products nobody can supply and suppliers that can never deliver in time."""
    if "suppliers" in t:
        for i, k, L in zip(t["suppliers"].index, t["suppliers"]["supplier"], t["suppliers"]["lead_time"]):
            if periods and L >= len(periods):
                report.problems.append(
                    Problem("warning", "suppliers", int(i), "lead_time", f"supplier {k!r}: lead time {L} is not shorter than the horizon ({len(periods)} periods); it can deliver nothing")
                )
    if "products" in t and "supplier_products" in t and "demand" in t:
        supplied = set(t["supplier_products"]["product"])
        demanded = set(t["demand"].loc[t["demand"]["quantity"] > 0, "product"])
        for i, p in zip(t["products"].index, t["products"]["product"]):
            if p not in supplied and p in demanded:
                report.problems.append(Problem("warning", "products", int(i), "product", f"product {p!r} has demand but no supplier: only its initial inventory and open orders can serve it"))


CHECKS = [check_references, check_tiers, check_settings]


# ---------------------------------------------------------------------------------

def validate(raw: RawTables) -> ValidationReport:
    """Check every table and every cross-reference; build the Instance when there is no error."""
    report = ValidationReport()
    for name in raw:
        if name not in TABLES:
            report.problems.append(Problem("warning", name, None, None, f"unknown table, ignored (known: {', '.join(TABLES)})"))
    t: Tables = {}
    for name, spec in TABLES.items():
        rows = raw.get(name)
        if rows is None or len(rows) == 0:
            if spec.required:
                what = "is missing" if rows is None else "has no rows"
                report.problems.append(Problem("error", name, None, None, f"required table {what}"))
            continue
        df = _validate_rows(name, rows, report)
        if df is None and spec.required and not any(p.table == name for p in report.errors):
            report.problems.append(Problem("error", name, None, None, "required table has no rows"))
        if df is not None:
            _check_duplicate_keys(name, df, report)
            t[name] = df
    for check in CHECKS:
        check(t, report)
    periods = derive_periods(t, report)
    check_periods(t, periods, report)
    check_supply(t, periods, report)
    if report.errors:
        return report
    empty = {name: pd.DataFrame(columns=list(columns(name))) for name in TABLES}
    get = lambda n: t.get(n, empty[n]).reset_index(drop=True)  # noqa: E731
    report.instance = Instance(
        products=get("products"),
        segments=get("segments"),
        service_tiers=get("service_tiers"),
        demand=get("demand"),
        suppliers=get("suppliers"),
        supplier_products=get("supplier_products"),
        settings=get("settings"),
        supplier_capacity=get("supplier_capacity"),
        open_orders=get("open_orders"),
        periods_table=get("periods") if "periods" in t else pd.DataFrame({"period": periods, "order": range(1, len(periods) + 1)}),
        periods=periods,
        customers=get("customers"),
        customer_products=get("customer_products"),
    )
    return report


def load_report(source: Any) -> ValidationReport:
    """Read (a path, or a mapping of tables as in the JSON format) and validate; a source that
    cannot be read at all raises :class:`~planner.contract.problems.LoadError`."""
    return validate(tables_from_mapping(source) if isinstance(source, dict) else read_tables(source))


def load_instance(source: Any) -> Instance:
    """Read and validate; raise :class:`InvalidInstance` with the full report on any error."""
    report = load_report(source)
    if not report.ok:
        raise InvalidInstance(report)
    return report.instance  # type: ignore[return-value]
