"""The contract as Markdown: the README's data contract and "How to read the plan" sections.

Generated from the declarations (``planner schema`` prints them); tests keep the
README equal to what these functions return.
"""

from __future__ import annotations

from pydantic import BaseModel

from planner.contract.crm import CRM_OUTPUTS, CRM_TABLES, ServeRates
from planner.contract.fields import kind, limits, unit_of
from planner.contract.inputs import TABLES
from planner.contract.outputs import KPIS, PLAN_TABLES


def inputs_markdown() -> str:
    """Every input table with its columns: type, unit, whether required, description."""
    out: list[str] = []
    for spec in TABLES.values():
        out.append(f"### `{spec.name}`{'' if spec.required else ' (optional)'}\n\n{spec.description}\n")
        out += _columns(spec.row)
    return "\n".join(out)


def _columns(row: type[BaseModel]) -> list[str]:
    """A table's columns as Markdown rows: type, unit, range, whether required, description."""
    out = ["| column | type | unit | range | required | description |\n|---|---|---|---|---|---|"]
    for name, f in row.model_fields.items():
        req = "yes" if f.is_required() else f"no (default {f.default})" if f.default is not None else "no"
        out.append(f"| {name} | {kind(f.annotation)} | {unit_of(f)} | {limits(f)} | {req} | {f.description} |")
    return out + [""]


def outputs_markdown() -> str:
    """Every plan table with its columns, then the KPIs of kpis.csv by group."""
    out: list[str] = []
    for t in PLAN_TABLES.values():
        out.append(f"### `{t.name}.csv` — one row per {t.one_row_per}\n\n{t.description}\n")
        out.append("| column | type | unit | description |\n|---|---|---|---|")
        for name, f in t.row.model_fields.items():
            out.append(f"| {name} | {kind(f.annotation)} | {unit_of(f)} | {f.description} |")
        out.append("")
    out.append("### `kpis.csv` — one row per figure (kpi, value, unit)\n")
    out.append("| kpi | unit | description |\n|---|---|---|")
    group = None
    for k in KPIS:
        if k.group != group:
            group = k.group
            out.append(f"| **{group}** | | |")
        out.append(f"| {k.name} | {k.unit} | {k.description} |")
    out.append("")
    out.append("A family of your own that registers a profit term adds a row under the term's name, in money.\n")
    return "\n".join(out)


def crm_markdown() -> str:
    """The CRM exports' tables (what a column mapping maps onto), the cost-to-serve rates and
    the customer tables written from them."""
    out: list[str] = []
    for name, row in {**CRM_TABLES, "rates": ServeRates, **CRM_OUTPUTS}.items():
        out.append(f"#### `{name}`\n")
        out += _columns(row)
    return "\n".join(out)
