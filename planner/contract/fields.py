"""How a column of the contract is declared: a pydantic field with a description and a unit.

Inputs (:mod:`planner.contract.inputs`) and outputs (:mod:`planner.contract.outputs`)
declare their columns with :func:`field`; the documentation, the validator's
messages and the service's schemas read them back with :func:`unit_of` and :func:`kind`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import Field


def field(description: str, unit: str | None = None, **kw: Any) -> Any:
    """A column: its description, its unit (``money / unit``, ``fraction 0..1``...) and pydantic limits."""
    extra = {"unit": unit} if unit else None
    return Field(description=description, json_schema_extra=extra, **kw)


def unit_of(info: Any) -> str:
    """The unit declared on a pydantic field ('' when it has none)."""
    extra = info.json_schema_extra
    return extra.get("unit", "") if isinstance(extra, dict) else ""


def kind(annotation: Any) -> str:
    """How a column reads to a person: text, number, integer or true/false, '... or blank' when optional."""
    names = {bool: "true/false", float: "number", int: "integer", str: "text", dt.date: "date"}
    args = getattr(annotation, "__args__", None)
    if args:  # X | None, or Annotated[X, ...] (whose first argument is X)
        base = [a for a in args if a is not type(None)]
        inner = kind(base[0]) if base else "text"
        return f"{inner} or blank" if type(None) in args else inner
    return names.get(annotation, "text")


def limits(info: Any) -> str:
    """The range a column's values must lie in, as a person reads it ('0 to 1e+09', 'below 1';
    '' when unbounded), from its pydantic constraints."""
    lo = hi = None
    lo_open = hi_open = False
    length = None
    for m in info.metadata:
        if getattr(m, "ge", None) is not None:
            lo = m.ge
        if getattr(m, "gt", None) is not None:
            lo, lo_open = m.gt, True
        if getattr(m, "le", None) is not None:
            hi = m.le
        if getattr(m, "lt", None) is not None:
            hi, hi_open = m.lt, True
        if getattr(m, "max_length", None) is not None:
            length = m.max_length
    for arg in getattr(info.annotation, "__args__", ()):  # a label type inside X | None
        for m in getattr(arg, "__metadata__", ()):
            for inner in getattr(m, "metadata", ()):
                if getattr(inner, "max_length", None) is not None:
                    length = inner.max_length
    if length is not None:
        return f"at most {length} characters"
    fmt = lambda v: f"{v:g}" if isinstance(v, float) else str(v)  # noqa: E731
    if lo is not None and hi is not None:
        return f"{'above ' if lo_open else ''}{fmt(lo)} to {'below ' if hi_open else ''}{fmt(hi)}"
    if lo is not None:
        return f"{'above' if lo_open else 'at least'} {fmt(lo)}"
    if hi is not None:
        return f"{'below' if hi_open else 'at most'} {fmt(hi)}"
    return ""
