"""How a column of the contract is declared: a pydantic field with a description and a unit.

Inputs (:mod:`planner.contract.inputs`) and outputs (:mod:`planner.contract.outputs`)
declare their columns with :func:`field`; the documentation, the validator's
messages and the service's schemas read them back with :func:`unit_of` and :func:`kind`.
"""

from __future__ import annotations

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
    names = {bool: "true/false", float: "number", int: "integer", str: "text"}
    args = getattr(annotation, "__args__", None)
    if args:  # X | None, or Annotated[X, ...] (whose first argument is X)
        base = [a for a in args if a is not type(None)]
        inner = kind(base[0]) if base else "text"
        return f"{inner} or blank" if type(None) in args else inner
    return names.get(annotation, "text")
