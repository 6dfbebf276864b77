"""One data problem, located by table, row and column."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Problem:
    """A problem found in the input.

    ``row`` is the 1-based position of the data row in its table (the header is
    not counted: row 1 of a CSV file is its second line).
    """

    severity: Severity
    table: str | None
    row: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        where = [self.table or "instance"]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column {self.column}")
        return f"{self.severity}: {', '.join(where)}: {self.message}"

    def to_dict(self) -> dict:
        return asdict(self)
