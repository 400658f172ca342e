"""Collecting the problems: every rule appends one (file, row and rule) and carries on, so that a
broken catalog is refused once, with all of them. Warnings name what loads but is ignored."""
from __future__ import annotations

from dataclasses import dataclass, field

from orchestration.catalog_kit.files import Row


class CatalogError(Exception):
    """A catalog that breaks its own rules; `problems` names file, row and rule for each."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("pricing catalog refused:\n  " + "\n  ".join(problems))


@dataclass
class Check:
    """What the checks of the files share: their rows, the problems found so far (in file order)
    and the typed rows of each table, in the order they were added."""
    rows: dict[str, list[Row]]
    problems: list[str]
    tables: dict[str, list[tuple]]
    warnings: list[str] = field(default_factory=list)  # what loads but is ignored (run summary)

    def add(self, row: tuple) -> None:
        """A validated row, to the table its type names (tables.TableRow.table)."""
        self.tables[row.table].append(row)

    def unique(self, name: str, col: str) -> dict[str, Row]:
        """The rows of a file by key; an empty or repeated key is a problem, the first row wins."""
        seen: dict[str, Row] = {}
        for r in self.rows[name]:
            key = r.data[col]
            if key == "":
                self.problems.append(f"{r.where()}: {col} is required")
            elif key in seen:
                self.problems.append(f"{r.where()}: duplicate {col} {key!r} (first at row {seen[key].line})")
            else:
                seen[key] = r
        return seen
