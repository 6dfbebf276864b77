"""One data problem, located by table, row and column; and the errors that carry them."""

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


def error(table: str | None, message: str, row: int | None = None, column: str | None = None) -> Problem:
    return Problem("error", table, row, column, message)


class ProblemsError(Exception):
    """Input that cannot be used: ``problems`` says where and why, every one of them.

    Every face catches this one type and shows the problems (the CLI as lines, the
    service as a 422 with one entry per problem); nothing below the faces prints.
    """

    def __init__(self, problems: list[Problem]):
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


class LoadError(ProblemsError):
    """The input could not be read at all (not a data problem inside a table)."""


class OptionsError(ProblemsError):
    """Run options or a family file are wrong."""
