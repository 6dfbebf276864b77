"""Checking a million rows: column by column where rows are plainly valid, row by row where not.

A CRM export of a year holds a million order lines; validating each through its pydantic model
costs about 10 microseconds a row. Most rows are plain — text labels, decimal numbers in range,
dates in one of the formats the contract reads — and those can be recognised and converted a
whole column at a time. :func:`validate_rows` does that, and sends every row it cannot vouch
for (a number written oddly, a date in another format, a value out of range, a missing cell)
through the model, which gives the value or the located error exactly as before.

The column rules are deliberately narrower than the model: a row they accept, the model
accepts with the same values (tests/contract/test_bulk.py checks this on generated rows); a row
they refuse costs only the model's time. A field with a constraint the rules do not know goes
to the model whole. The rules mirror what the rows' own validators do (``Row`` refuses
true/false, ``OrderLine`` reads these date layouts): a model with other validators needs rules
of its own before its rows may take this path.
"""

from __future__ import annotations

import datetime as dt
import re
import types
import typing
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pacompute
from pydantic import BaseModel, ValidationError

from planner.contract.inputs import MAX_LABEL, PRINTABLE

NUMBER = r"-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?"
CONTROL = r"[\x00-\x1f\x7f]"
TIME = r"(?:[01]?\d|2[0-3]):[0-5]\d"
#: The date layouts :class:`planner.contract.crm.OrderLine` reads, as (regex, group of year, month, day).
DATES = [
    (re.compile(rf"(\d{{4}})-(\d{{1,2}})-(\d{{1,2}})(?:[ T]{TIME}:[0-5]\d)?"), (1, 2, 3)),
    (re.compile(rf"(\d{{1,2}})/(\d{{1,2}})/(\d{{4}})(?: {TIME})?"), (3, 1, 2)),
    (re.compile(rf"(\d{{1,2}})\.(\d{{1,2}})\.(\d{{4}})(?: {TIME})?"), (3, 2, 1)),
]


def _kind(info: Any) -> str:
    """number, date or text when the column rules below imply every constraint the field has;
    other (the row model decides every row) when it has one they do not know."""
    annotation = info.annotation
    args = [a for a in typing.get_args(annotation) if a is not type(None)] if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union else [annotation]
    inner = typing.get_args(args[0]) if typing.get_origin(args[0]) is typing.Annotated else (args[0],)
    base = inner[0]
    constraints = [*info.metadata, *(m for extra in inner[1:] for m in getattr(extra, "metadata", [extra]))]
    kind = {float: "number", dt.date: "date", str: "text"}.get(base, "other")
    known = {"number": lambda m: any(getattr(m, a, None) is not None for a in ("ge", "le", "gt", "lt")),
             "text": lambda m: getattr(m, "min_length", 2) <= 1 or getattr(m, "max_length", 0) >= MAX_LABEL or getattr(m, "pattern", None) == PRINTABLE,
             "date": lambda m: False}
    return kind if kind == "other" or all(known[kind](m) for m in constraints) else "other"


TEXT = pd.ArrowDtype(pa.string())


def _cells(values: pd.Series) -> tuple[np.ndarray, np.ndarray | None, pd.Series]:
    """The cells' types (None when every cell given is text, as a CSV reader gives them), the
    positions of the text cells, and those cells as Arrow strings (regex and trimming in C++)."""
    raw = values.to_numpy(dtype=object, na_value=None)
    if isinstance(values.dtype, (pd.ArrowDtype, pd.StringDtype)) or pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty"):
        kinds, text = None, np.flatnonzero(values.notna().to_numpy(bool))
    else:
        kinds = values.map(type).to_numpy()
        text = np.flatnonzero(kinds == str)
    return kinds, text, pd.Series(raw[text], dtype=object).astype(TEXT)


def _number(values: pd.Series, info: Any) -> tuple[np.ndarray, np.ndarray]:
    kinds, text, s = _cells(values)
    raw = values.to_numpy(dtype=object, na_value=None)
    out = np.full(len(raw), np.nan)
    ok = np.zeros(len(raw), bool)
    if kinds is not None:
        numeric = (kinds == int) | (kinds == float)  # bool is its own type: refused by the model
        out[numeric] = raw[numeric].astype(float)
        ok |= numeric
    plain = s.str.fullmatch(NUMBER).fillna(False).to_numpy(bool)
    out[text[plain]] = s[plain].astype(float).to_numpy()
    ok[text[plain]] = True
    ok &= np.isfinite(out)
    with np.errstate(invalid="ignore"):
        for m in info.metadata:  # the field's own bounds (Ge, Le, Gt, Lt)
            for attr, cmp in (("ge", np.greater_equal), ("le", np.less_equal), ("gt", np.greater), ("lt", np.less)):
                if getattr(m, attr, None) is not None:
                    ok &= cmp(out, float(getattr(m, attr)))
    return out.astype(object), ok


def _text(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    kinds, text, s = _cells(values)
    raw = values.to_numpy(dtype=object, na_value=None)
    if kinds is not None:  # a whole number in a label column is read as its digits
        ints = np.flatnonzero(kinds == int)
        text = np.concatenate([text, ints])
        s = pd.concat([s, pd.Series([str(v) for v in raw[ints]], dtype=object).astype(TEXT)], ignore_index=True)
    stripped = s.str.strip()
    good = (stripped.str.len().between(1, MAX_LABEL) & ~stripped.str.contains(CONTROL)).fillna(False).to_numpy(bool)
    out = np.full(len(raw), None, dtype=object)
    out[text[good]] = stripped[good].to_numpy(dtype=object)
    ok = np.zeros(len(raw), bool)
    ok[text[good]] = True
    return out, ok


def _date(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    kinds, text, s = _cells(values)
    raw = values.to_numpy(dtype=object, na_value=None)
    out = np.full(len(raw), None, dtype=object)
    ok = np.zeros(len(raw), bool)
    if kinds is not None:
        day = kinds == dt.date
        out[day] = raw[day]
        moment = np.array([issubclass(k, dt.datetime) for k in kinds], bool)
        out[moment] = [v.date() for v in raw[moment]]
        ok |= day | moment
    s = s.str.strip().reset_index(drop=True)
    for pattern, (y, m, d) in DATES:  # the first layout a value fits, as the model tries them in turn
        hit = s.str.fullmatch(pattern.pattern).fillna(False).to_numpy(bool)
        if hit.any():
            iso = pacompute.replace_substring_regex(pa.array(s[hit]), f"^{pattern.pattern}$", rf"\{y}-\{m}-\{d}")
            day = pd.to_datetime(pd.Series(iso.to_numpy(zero_copy_only=False), dtype=object), format="%Y-%m-%d", errors="coerce")
            valid = day.notna().to_numpy(bool)
            where = text[hit][valid]
            out[where] = day[valid].dt.date.to_numpy()
            ok[where] = True
        text, s = text[~hit], s[~hit].reset_index(drop=True)
    return out, ok


def validate_rows(model: type[BaseModel], frame: pd.DataFrame) -> tuple[pd.DataFrame, list[tuple[int, ValidationError]]]:
    """Rows (``frame``: one column per field given, cells as read, None when blank) checked
    against ``model``: the valid rows as ``model_dump`` would give them (index kept) and, for the
    others, their position and the model's error."""
    columns: dict[str, pd.Series] = {}
    plain = np.ones(len(frame), bool)
    for name, info in model.model_fields.items():
        if name not in frame.columns:
            if info.is_required():
                plain[:] = False
            columns[name] = pd.Series([info.default] * len(frame), index=frame.index, dtype=object)
            continue
        values = frame[name]
        blank = values.isna().to_numpy(bool)
        kind = _kind(info)
        if kind == "other":
            plain[:] = False
            columns[name] = values
            continue
        out, ok = {"number": lambda v: _number(v, info), "text": _text, "date": _date}[kind](values)
        if info.is_required():
            ok &= ~blank
        else:
            ok |= blank
            out[blank] = info.default
        plain &= ok
        columns[name] = pd.Series(out, index=frame.index, dtype=object)
    good = pd.DataFrame(columns, index=frame.index)[plain]
    errors: list[tuple[int, ValidationError]] = []
    fixed, labels = [], []
    records = frame.iloc[np.flatnonzero(~plain)].to_dict("records")
    for position, row in zip(np.flatnonzero(~plain), records):
        data = {k: v for k, v in row.items() if k in model.model_fields and v is not None and v is not pd.NA and not (isinstance(v, float) and np.isnan(v))}
        try:
            fixed.append(model.model_validate(data).model_dump())
            labels.append(frame.index[position])
        except ValidationError as exc:
            errors.append((int(position), exc))
    if fixed:
        good = pd.concat([good, pd.DataFrame(fixed, index=labels, columns=good.columns)]).loc[lambda d: frame.index[frame.index.isin(d.index)]]
    for name, info in model.model_fields.items():  # as model_dump gives them: floats, None where blank
        if _kind(info) == "number":
            good[name] = good[name].astype(float) if info.default is not None or info.is_required() else good[name].astype(object)
    return good, errors
