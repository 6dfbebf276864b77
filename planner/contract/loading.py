"""Reading an instance: a folder of CSV files, one XLSX workbook, or one JSON document.

All three become the same thing, :class:`RawTables` (table name -> list of row
dicts), which :func:`planner.contract.validation.validate` turns into an
:class:`~planner.contract.instance.Instance`. Files uploaded to the service are
read by the same functions (:func:`read_upload`). Reading never judges the
data; it only reports what it could not read at all (a missing file, a corrupt
workbook).
"""

from __future__ import annotations

import io
import json
import math
from pathlib import Path
from typing import IO, Any

import pandas as pd

from planner.contract.problems import LoadError, Problem

RawTables = dict[str, list[dict[str, Any]]]


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


def records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """A table as it was read -> row dicts: lower-case column names, cleaned cells."""
    df = df.rename(columns=lambda c: str(c).strip().lower())
    rows = []
    for record in df.to_dict(orient="records"):
        rows.append({k: _clean_cell(v) for k, v in record.items() if not k.startswith("unnamed:")})
    return rows


def _table_name(name: str) -> str:
    return name.strip().lower()


def read_csv(source: str | Path | IO[bytes], name: str) -> list[dict[str, Any]]:
    """One table from a CSV file (every cell as text; the validator converts)."""
    try:
        df = pd.read_csv(source, dtype=str, keep_default_na=False, skipinitialspace=True)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise LoadError([Problem("error", _table_name(Path(name).stem), None, None, f"cannot read {name}: {exc}")]) from exc
    return records(df)


def read_workbook(source: str | Path | IO[bytes], name: str) -> RawTables:
    """Every sheet of an .xlsx workbook as a table named after the sheet."""
    try:
        sheets = pd.read_excel(source, sheet_name=None, dtype=object, engine="openpyxl")
    except Exception as exc:  # openpyxl raises many kinds for a corrupt file
        raise LoadError([Problem("error", None, None, None, f"cannot read workbook {name}: {exc}")]) from exc
    return {_table_name(sheet): records(df) for sheet, df in sheets.items()}


def read_csv_folder(folder: Path) -> RawTables:
    tables: RawTables = {_table_name(file.stem): read_csv(file, file.name) for file in sorted(folder.glob("*.csv"))}
    if not tables:
        raise LoadError([Problem("error", None, None, None, f"no CSV files in folder {folder}")])
    return tables


def read_orders(path: str | Path) -> list[dict[str, Any]]:
    """A plan's orders from disk: an orders.csv, or a plan folder that holds one. For the command
    line only (``frozen_periods``' previous orders given as a path): the service reads no files."""
    path = Path(path)
    if path.is_dir():
        path = path / "orders.csv"
    if not path.is_file():
        raise LoadError([Problem("error", "options", None, "constraints.frozen_periods.previous_orders",
                                 f"{path} is not an orders.csv file or a plan folder that holds one")])
    try:
        return read_csv(path, "orders.csv")
    except OSError as exc:  # unreadable (permissions, a FIFO's error): a message, not a traceback
        raise LoadError([Problem("error", "options", None, "constraints.frozen_periods.previous_orders", f"cannot read {path}: {exc}")]) from exc


def read_upload(filename: str, data: bytes) -> RawTables:
    """One uploaded file: a CSV file named after its table, or a workbook of tables."""
    name = filename.rsplit("/", 1)[-1]
    stem, _, ext = name.rpartition(".")
    if ext.lower() in ("xlsx", "xlsm"):
        return read_workbook(io.BytesIO(data), name)
    if ext.lower() == "csv":
        return {_table_name(stem): read_csv(io.BytesIO(data), name)}
    raise LoadError([Problem("error", None, None, None, f"{name}: expected .csv files or one .xlsx workbook")])


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
        tables[_table_name(str(name))] = [
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
        return read_workbook(path, path.name)
    if suffix == ".json":
        return read_json(path)
    raise LoadError(
        [Problem("error", None, None, None, f"{path.name}: expected a folder of CSV files, an .xlsx workbook or a .json file")]
    )
