"""Reading an instance: a folder of CSV files, one XLSX workbook, or one JSON document.

All three become the same thing, :class:`RawTables` (table name -> list of row
dicts), which :func:`planner.validation.validate` turns into an
:class:`~planner.instance.Instance`. Reading never judges the data; it only
reports what it could not read at all (a missing file, a corrupt workbook).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pandas as pd

from planner.problems import Problem

RawTables = dict[str, list[dict[str, Any]]]


class LoadError(Exception):
    """The input could not be read at all (not a data problem inside a table)."""

    def __init__(self, problems: list[Problem]):
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


def _clean_cell(value: Any) -> Any:
    """Blank cells become None (so defaults apply); integral floats become ints."""
    if value is None:
        return None
    if isinstance(value, str):
        value = value.strip()
        return value or None
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if value.is_integer() and abs(value) < 2**53:
            return int(value)
    if hasattr(value, "item"):  # numpy scalar
        return _clean_cell(value.item())
    return value


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    df = df.rename(columns=lambda c: str(c).strip().lower())
    rows = []
    for record in df.to_dict(orient="records"):
        rows.append({k: _clean_cell(v) for k, v in record.items() if not k.startswith("unnamed:")})
    return rows


def read_csv_folder(folder: Path) -> RawTables:
    tables: RawTables = {}
    for file in sorted(folder.glob("*.csv")):
        try:
            df = pd.read_csv(file, dtype=str, keep_default_na=False, skipinitialspace=True)
        except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
            raise LoadError([Problem("error", file.stem, None, None, f"cannot read {file.name}: {exc}")]) from exc
        tables[file.stem.strip().lower()] = _records(df)
    if not tables:
        raise LoadError([Problem("error", None, None, None, f"no CSV files in folder {folder}")])
    return tables


def read_xlsx(path: Path) -> RawTables:
    try:
        sheets = pd.read_excel(path, sheet_name=None, dtype=object, engine="openpyxl")
    except Exception as exc:  # openpyxl raises many kinds for a corrupt file
        raise LoadError([Problem("error", None, None, None, f"cannot read workbook {path.name}: {exc}")]) from exc
    return {name.strip().lower(): _records(df) for name, df in sheets.items()}


def tables_from_mapping(doc: Any, source: str = "document") -> RawTables:
    """A JSON-like mapping {table: [row, ...]} (the JSON file format and the API body)."""
    if not isinstance(doc, dict):
        raise LoadError([Problem("error", None, None, None, f"{source} must be an object with one array of rows per table")])
    tables: RawTables = {}
    problems: list[Problem] = []
    for name, rows in doc.items():
        if isinstance(rows, dict) and str(name).lower() == "settings":
            rows = [rows]  # settings may be given as a single object
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            problems.append(Problem("error", str(name), None, None, "must be an array of row objects"))
            continue
        tables[str(name).strip().lower()] = [
            {str(k).strip().lower(): _clean_cell(v) for k, v in r.items()} for r in rows
        ]
    if problems:
        raise LoadError(problems)
    return tables


def read_json(path: Path) -> RawTables:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise LoadError([Problem("error", None, None, None, f"{path.name} is not valid JSON: {exc}")]) from exc
    return tables_from_mapping(doc, path.name)


def read_tables(path: str | Path) -> RawTables:
    """Read an instance from a CSV folder, an .xlsx workbook or a .json document."""
    path = Path(path)
    if not path.exists():
        raise LoadError([Problem("error", None, None, None, f"{path} does not exist")])
    if path.is_dir():
        return read_csv_folder(path)
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return read_xlsx(path)
    if suffix == ".json":
        return read_json(path)
    raise LoadError(
        [Problem("error", None, None, None, f"{path.name}: expected a folder of CSV files, an .xlsx workbook or a .json file")]
    )
