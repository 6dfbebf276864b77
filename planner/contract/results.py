"""What a run gives back: a :class:`Plan` (tables and KPIs), and a job's :class:`Result`.

A plan's tables are the ones declared in :mod:`planner.contract.outputs`; this
module writes them (CSV, one workbook, JSON, a manifest) and reads a written
plan back, with a located error for a file, column or cell it cannot use.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import pandas as pd
import xlsxwriter

from planner.contract.outputs import PLAN_TABLES, kpi_order, kpi_unit
from planner.contract.problems import LoadError, Problem

#: Plan statuses that come with a plan.
WITH_PLAN = ("optimal", "feasible")


def plain(v: Any) -> Any:
    """A value as JSON has it: numpy scalars as Python numbers, inf and nan as None."""
    if hasattr(v, "item"):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """A table as JSON rows (10 significant decimals, NaN as null)."""
    return json.loads(df.to_json(orient="records", double_precision=10))


@dataclass
class Plan:
    """One plan: its status, KPIs and the tables of :data:`PLAN_TABLES` (none without a plan)."""

    status: str
    kpis: dict[str, Any]
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    messages: list[str] = field(default_factory=list)
    options: dict[str, Any] = field(default_factory=dict)
    #: For an infeasible run: which requirements had to give (``planner.solve.diagnose``).
    explanation: dict[str, Any] | None = None

    @property
    def has_plan(self) -> bool:
        return self.status in WITH_PLAN and bool(self.tables)

    @property
    def profit(self) -> float | None:
        return self.kpis.get("profit")

    def kpi_table(self) -> pd.DataFrame:
        names = kpi_order(list(self.kpis))
        return pd.DataFrame({"kpi": names, "value": [plain(self.kpis[n]) for n in names], "unit": [kpi_unit(n) for n in names]})

    def all_tables(self) -> dict[str, pd.DataFrame]:
        return {**self.tables, "kpis": self.kpi_table()}

    def to_json_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "status": self.status,
            "kpis": {k: plain(v) for k, v in self.kpis.items()},
            "messages": self.messages,
            "options": self.options,
            "manifest": self.manifest(),
        }
        if self.explanation is not None:
            out["explanation"] = self.explanation
        for name, df in self.tables.items():
            out[name] = records(df)
        return out

    @classmethod
    def from_json_dict(cls, doc: dict[str, Any]) -> Plan:
        """The inverse of :meth:`to_json_dict` (a stored plan, e.g. from the service's database)."""
        tables = {name: spec.frame(doc[name]) for name, spec in PLAN_TABLES.items() if name in doc}
        return cls(status=doc["status"], kpis=dict(doc.get("kpis", {})), tables=tables, messages=list(doc.get("messages", [])),
                   options=dict(doc.get("options", {})), explanation=doc.get("explanation"))

    def manifest(self) -> dict[str, Any]:
        """What it takes to re-run and compare this plan: input hash, versions, options, outcome, timings."""
        k = self.kpis
        return {
            "input_hash": k.get("input_hash"),
            "versions": {key[len("version_"):]: v for key, v in k.items() if key.startswith("version_")},
            "options": self.options,
            "status": self.status,
            "profit": plain(k.get("profit")),
            "mip_gap": plain(k.get("mip_gap")),
            "best_bound": plain(k.get("best_bound")),
            "timings": {key: plain(v) for key, v in k.items() if key.endswith("_seconds")},
            "model_size": {key[len("model_"):]: v for key, v in k.items() if key.startswith("model_")},
        }

    def write(self, out_dir: str | Path) -> Path:
        """Every table as CSV, all of them in plan.xlsx, plan.json and manifest.json; without a
        plan, kpis.csv and plan.json (the outcome, and for an infeasible run what had to give).
        A plan rejected by the verifier or the self-checks (status ``error``) is no plan to act
        on: its tables go to ``rejected/``, for diagnosis, never where a plan's orders.csv goes."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        tables = self.all_tables()
        where = out
        if self.status == "error" and self.tables:
            where = out / "rejected"
            where.mkdir(exist_ok=True)
            self.kpi_table().to_csv(out / "kpis.csv", index=False)
        for name, df in tables.items():
            df.to_csv(where / f"{name}.csv", index=False)
        (out / "plan.json").write_text(json.dumps(self.to_json_dict(), indent=1), encoding="utf-8")
        if self.tables:
            write_workbook(where / "plan.xlsx", tables)
            (out / "manifest.json").write_text(json.dumps(self.manifest(), indent=1), encoding="utf-8")
        return out


def write_workbook(target: str | Path | IO[bytes], tables: dict[str, pd.DataFrame]) -> None:
    """Tables as the sheets of one .xlsx workbook (sheet names cut to Excel's 31 characters),
    written a column at a time with xlsxwriter (pandas' writers format every cell one by one
    in Python, which on a 1,000-product plan is seconds per workbook). Blank and NaN cells
    stay empty."""
    book = xlsxwriter.Workbook(target if not isinstance(target, Path) else str(target), {"constant_memory": False, "nan_inf_to_errors": True})
    bold = book.add_format({"bold": True})
    for name, df in tables.items():
        sheet = book.add_worksheet(name[:31])
        sheet.write_row(0, 0, [str(c) for c in df.columns], bold)
        for j, column in enumerate(df.columns):
            values = df[column]
            if pd.api.types.is_bool_dtype(values):
                sheet.write_column(1, j, [bool(v) for v in values])
            elif pd.api.types.is_numeric_dtype(values):
                sheet.write_column(1, j, [None if v != v else v for v in values.astype(float).tolist()])
            else:
                sheet.write_column(1, j, [None if v is None or (isinstance(v, float) and v != v) else v if isinstance(v, (int, float, str, bool)) else str(v)
                                          for v in values.tolist()])
    book.close()


def read_plan(plan_dir: str | Path) -> Plan:
    """A plan as written by :meth:`Plan.write` (its CSV files, and plan.json's options when there).

    Every declared column must be there and every number a number: otherwise a
    :class:`LoadError` names the table, row and column (rows counted from 1 after the header).
    """
    plan_dir = Path(plan_dir)
    problems: list[Problem] = []
    tables = {}
    for name, spec in PLAN_TABLES.items():
        path = plan_dir / f"{name}.csv"
        if not path.exists():
            problems.append(Problem("error", name, None, None, f"{name}.csv is missing from the plan folder"))
            continue
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
        missing = [c for c in spec.columns if c not in df.columns]
        if missing:
            problems.extend(Problem("error", name, None, c, "column is missing") for c in missing)
            continue
        for c in spec.numeric:
            number = pd.to_numeric(df[c].where(df[c].str.strip() != ""), errors="coerce")
            for i in number.index[number.isna()][:5]:
                cell = df[c].iloc[i]
                what = "is empty" if not cell.strip() else f"{cell!r} is not a number"
                problems.append(Problem("error", name, int(i) + 1, c, what))
            df[c] = number
        for c in spec.flags:
            df[c] = df[c].str.strip().str.lower().isin(["true", "1"])
        for c in spec.text:
            df[c] = df[c].where(df[c] != "", None)
        tables[name] = spec.frame(df)
    kpis: dict[str, Any] = {}
    path = plan_dir / "kpis.csv"
    if path.exists():
        k = pd.read_csv(path, dtype=str, keep_default_na=False)
        for name, value in zip(k.get("kpi", []), k.get("value", [])):
            try:
                kpis[name] = float(value)
            except ValueError:
                kpis[name] = value
    else:
        problems.append(Problem("error", "kpis", None, None, "kpis.csv is missing from the plan folder"))
    if problems:
        raise LoadError(problems)
    options: dict[str, Any] = {}
    if (plan_dir / "plan.json").exists():
        try:
            options = json.loads((plan_dir / "plan.json").read_text(encoding="utf-8")).get("options", {}) or {}
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise LoadError([Problem("error", "plan.json", None, None, f"not valid JSON: {exc}")]) from exc
    return Plan(status=str(kpis.get("status", "feasible")), kpis=kpis, tables=tables, options=options)


@dataclass
class Result:
    """What a job gives back (``planner.jobs.run``).

    ``plan`` is the plan the job is about (the integrated plan, the scenario's plan,
    the plan explained); ``plans`` the others it compares with (``crm_led`` and
    ``scm_led``; ``base``); ``tables`` the analysis (value of integration, frontier,
    shadow prices, tier reasons, plan differences), each a tidy table.
    """

    kind: str
    plan: Plan | None = None
    plans: dict[str, Plan] = field(default_factory=dict)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)

    def to_json_dict(self) -> dict[str, Any]:
        """The plan's document with the analysis beside it (``analysis``: kind, tables, and the
        status and KPIs of the other plans); what the service stores and serves."""
        doc = self.plan.to_json_dict() if self.plan is not None else {"status": "error", "kpis": {}, "messages": []}
        if self.kind != "solve" or self.tables or self.plans:
            doc["analysis"] = {
                "kind": self.kind,
                "tables": {name: records(df) for name, df in self.tables.items()},
                "plans": {name: {"status": p.status, "kpis": {k: plain(v) for k, v in p.kpis.items()}} for name, p in self.plans.items()},
            }
        return doc

    @classmethod
    def from_json_dict(cls, doc: dict[str, Any]) -> Result:
        analysis = doc.get("analysis") or {}
        plans = {name: Plan(status=p["status"], kpis=dict(p.get("kpis", {}))) for name, p in (analysis.get("plans") or {}).items()}
        tables = {name: pd.DataFrame(rows) for name, rows in (analysis.get("tables") or {}).items()}
        return cls(kind=analysis.get("kind", "solve"), plan=Plan.from_json_dict(doc), plans=plans, tables=tables)
