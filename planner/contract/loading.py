"""Reading an instance: a folder of CSV files, one XLSX workbook, or one JSON document.

All three become the same thing, :class:`RawTables` (table name -> list of row
dicts), which :func:`planner.contract.validation.validate` turns into an
:class:`~planner.contract.instance.Instance`. Files uploaded to the service are
read by the same functions (:func:`read_upload`). Reading never judges the
data; it only reports what it could not read at all (a missing file, a corrupt
workbook).
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pacompute
import pyarrow.csv as pacsv

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
    """One table from a CSV file (UTF-8, a first line of column names; every cell as text, the
    validator converts). A line with more or fewer fields than the header is an error naming
    its row: read on, it would shift every value after the gap into the wrong column."""
    table = _table_name(Path(name).stem)

    def fail(message: str, row: int | None = None) -> LoadError:
        return LoadError([Problem("error", table, row, None, f"{name}: {message}")])

    try:
        data = source.read() if hasattr(source, "read") else Path(source).read_bytes()
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise fail(f"not UTF-8 text (byte {exc.start}); save the file as CSV UTF-8") from exc
    if "\x00" in text:
        raise fail("holds a NUL character: not a text file")
    try:
        lines = [row for row in csv.reader(io.StringIO(text, newline=""), skipinitialspace=True)]
    except csv.Error as exc:
        raise fail(f"not valid CSV: {exc}") from exc
    lines = [row for row in lines if any(cell.strip() for cell in row)]  # blank lines (spreadsheet exports end with some)
    if not lines:  # an empty file: a table with no rows (the validator says if it needs some)
        return []
    header = [h.strip().lower() for h in lines[0]]
    while header and not header[-1]:  # trailing separators after the last name
        header.pop()
    if any(not h for h in header):
        raise fail(f"column {header.index('') + 1} of the first line has no name")
    seen = [h for i, h in enumerate(header) if h in header[:i]]
    if seen:
        raise fail(f"column {seen[0]!r} appears twice in the first line")
    rows, problems = [], []
    for number, cells in enumerate(lines[1:], start=1):
        while len(cells) > len(header) and not cells[-1].strip():
            cells = cells[:-1]
        if len(cells) != len(header):
            problems.append(Problem("error", table, number, None,
                                    f"{len(cells)} fields where the first line names {len(header)} columns ({', '.join(header)})"))
            continue
        rows.append({h: _clean_cell(c) for h, c in zip(header, cells)})
    if problems:
        raise LoadError(problems)
    return rows


#: A space before a quote: csv's skipinitialspace reads the quote as quoting, Arrow as text.
_SPACE_QUOTE = re.compile(rb'(?:^|[,\n])[ \t]+"')


def read_csv_frame(source: str | Path, name: str) -> pd.DataFrame:
    """The table :func:`read_csv` reads, as columns: text cells stripped (None when blank), an
    index numbering the rows as read_csv does (1 = the first non-blank line after the header).

    A million-line export is parsed by Arrow's CSV reader, in C++, when it is regular: UTF-8,
    no NUL, as many fields on every line as in the header, names that are neither blank nor
    repeated. Anything else is read by :func:`read_csv`, whose errors say what and where."""
    data = Path(source).read_bytes().removeprefix(b"\xef\xbb\xbf")
    spaced = (b' "' in data or b'\t"' in data) and _SPACE_QUOTE.search(data)  # the regex only when the bytes make it possible
    if b"\x00" not in data and not spaced:
        try:
            header = next(csv.reader(io.StringIO(data[: data.find(b"\n") if b"\n" in data else len(data)].decode("utf-8"))), [])
            names = [h.strip().lower() for h in header]
            if names and all(names) and len(set(names)) == len(names):
                types = {h: pa.string() for h in header}
                table = pacsv.read_csv(io.BytesIO(data), convert_options=pacsv.ConvertOptions(
                    column_types=types, strings_can_be_null=False, quoted_strings_can_be_null=False))
                cells = [pacompute.utf8_trim_whitespace(table.column(h)) for h in header]
                cells = [pacompute.if_else(pacompute.equal(c, ""), pa.scalar(None, pa.string()), c) for c in cells]
                frame = pd.DataFrame({n: pd.Series(c, dtype=pd.ArrowDtype(pa.string())) for n, c in zip(names, cells)})
                frame = frame[frame.notna().any(axis=1)] if len(frame.columns) else frame
                frame.index = range(1, len(frame) + 1)
                return frame
        except (pa.ArrowInvalid, UnicodeDecodeError, csv.Error):
            pass  # irregular: the row reader says where
    frame = pd.DataFrame(read_csv(io.BytesIO(data), name), dtype=object)
    frame.index = range(1, len(frame) + 1)
    return frame


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
        table = _table_name(str(name))
        if isinstance(rows, dict) and table == "settings":
            rows = [rows]  # settings may be given as a single object
        if table in tables:
            problems.append(Problem("error", table, None, None, f"table given twice (as {name!r} and another spelling)"))
            continue
        if not isinstance(rows, list):
            problems.append(Problem("error", table, None, None, "must be an array of row objects"))
            continue
        tables[table] = []
        for number, r in enumerate(rows, start=1):
            if not isinstance(r, dict):
                problems.append(Problem("error", table, number, None, f"must be an object of column: value (got {type(r).__name__})"))
                continue
            row = {}
            for k, v in r.items():
                column = str(k).strip().lower()
                if column in row:
                    problems.append(Problem("error", table, number, column, "column given twice (in another spelling)"))
                row[column] = _clean_cell(v)
            tables[table].append(row)
    if problems:
        raise LoadError(problems)
    return tables


MAX_JSON_DEPTH = 32  # a request or an instance file is 6 deep; options a few more

_STRUCTURE = bytes(b for b in range(256) if b not in b'[]{}"\\')
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')
_DEPTH_STEP = np.zeros(256, dtype=np.int8)
_DEPTH_STEP[list(b"[{")] = 1
_DEPTH_STEP[list(b"]}")] = -1


def json_depth(data: bytes) -> int:
    """How deep arrays and objects nest in a JSON text, found without decoding it (the decoder
    recurses: 100,000 levels would exhaust its stack). Everything but brackets, quotes and
    backslashes is dropped, then the strings, then the brackets are counted: C-speed passes,
    about as fast as decoding."""
    skeleton = _STRING.sub(b"", data.translate(None, _STRUCTURE))
    if not skeleton:
        return 0
    return int(np.cumsum(_DEPTH_STEP[np.frombuffer(skeleton, dtype=np.uint8)], dtype=np.int64).max())


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is too large a number")
    return value


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    doc = dict(pairs)
    if len(doc) != len(pairs):
        seen: set[str] = set()
        twice = next(k for k, _ in pairs if k in seen or seen.add(k))
        raise ValueError(f"key {twice!r} appears twice in one object")
    return doc


def parse_json(data: bytes | str, source: str = "the document") -> Any:
    """A JSON text, strictly: UTF-8, nesting at most ``MAX_JSON_DEPTH`` deep, no key twice in
    one object (a decoder would keep the last silently), no NaN or Infinity and no number
    too large for a float. Anything else is a :class:`LoadError` saying where."""
    raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    depth = json_depth(raw)
    if depth > MAX_JSON_DEPTH:
        raise LoadError([Problem("error", None, None, None, f"{source} nests {depth} levels deep; at most {MAX_JSON_DEPTH} are allowed")])
    try:
        return json.loads(raw.decode("utf-8"), object_pairs_hook=_unique_keys, parse_constant=_no_constant, parse_float=_finite)
    except UnicodeDecodeError as exc:
        raise LoadError([Problem("error", None, None, None, f"{source} is not UTF-8 text (byte {exc.start})")]) from exc
    except ValueError as exc:  # JSONDecodeError is one; the hooks' own and int's digit limit are the others
        raise LoadError([Problem("error", None, None, None, f"{source} is not valid JSON: {exc}")]) from exc


def read_json(path: Path) -> RawTables:
    return tables_from_mapping(parse_json(path.read_bytes(), path.name), path.name)


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
