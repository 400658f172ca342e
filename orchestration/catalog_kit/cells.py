"""Reading one cell (or one JSON value) of a catalog row: each reader returns the value, or
appends the problem (file, row, rule) and returns None or the default."""
from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from orchestration.catalog_kit.files import Row
from orchestration.lago_optional import is_unset

# What dbt parses on DuckDB and Spark alike: a date, or a date and time (seconds and an offset
# optional; none means UTC). Python's fromisoformat alone would also let "20261001" through,
# which SQL would read as Unix seconds.
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
ISO_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})?", re.ASCII)
# The catalog's MONEY columns are decimal(38,10): 28 digits before the point.
MAX_DECIMAL = Decimal(10) ** 28

_CELL = object()  # dec's value when it reads the row's own cell (a JSON value may be None = null)


def dec(row: Row, col: str, problems: list[str], *, required: bool = True, allow_negative: bool = False,
        value: Any = _CELL) -> Decimal | None:
    """A decimal cell, or `value` (a JSON value) named `col` in the problems."""
    raw = row.data.get(col, "") if value is _CELL else value
    if is_unset(raw):
        if required:
            problems.append(f"{row.where()}: {col} is required")
        return None
    try:
        d = Decimal(str(raw).strip())
    except InvalidOperation:
        problems.append(f"{row.where()}: {col}={raw!r} is not a decimal number")
        return None
    if not d.is_finite():
        problems.append(f"{row.where()}: {col}={raw!r} is not a finite number")
        return None
    if d < 0 and not allow_negative:
        problems.append(f"{row.where()}: {col}={raw!r} is negative (rule: prices and amounts are >= 0)")
        return None
    if abs(d) >= MAX_DECIMAL:
        problems.append(f"{row.where()}: {col}={raw!r} is too large (rule: at most 28 digits before the point)")
        return None
    return d


def boolean(row: Row, col: str, problems: list[str], default: bool = False) -> bool:
    raw = row.data.get(col, "").lower()
    if raw == "":
        return default
    if raw in ("true", "t", "1", "yes"):
        return True
    if raw in ("false", "f", "0", "no"):
        return False
    problems.append(f"{row.where()}: {col}={raw!r} is not true/false")
    return default


def json_cell(row: Row, col: str, problems: list[str], kind: type, convert=None) -> Any:
    """A JSON cell of type `kind`; empty, `null` or JSON null are `kind()` (absent). `convert`
    maps the parsed value first (another accepted shape into `kind`)."""
    raw = row.data.get(col, "")
    if raw == "":
        return kind()
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        problems.append(f"{row.where()}: {col} is not valid JSON ({exc.msg})")
        return kind()
    value = convert(value) if convert else value
    if value is None:
        return kind()
    if not isinstance(value, kind):
        problems.append(f"{row.where()}: {col} must be a JSON {kind.__name__}")
        return kind()
    return value


def date_or_datetime(row: Row, col: str, problems: list[str], required: bool,
                     date_only: bool = False) -> str | None:
    """An ISO date (YYYY-MM-DD) or, unless date_only, date and time (YYYY-MM-DDTHH:MM[:SS[.f]][Z|±HH:MM])."""
    raw = row.data.get(col, "")
    if raw == "":
        if required:
            problems.append(f"{row.where()}: {col} is required")
        return None
    try:
        if ISO_DATE.fullmatch(raw):
            date.fromisoformat(raw)
        elif ISO_DATETIME.fullmatch(raw) and not date_only:
            datetime.fromisoformat(raw)
        else:
            raise ValueError
    except ValueError:
        kind = "an ISO date (YYYY-MM-DD)" if date_only else "an ISO date or datetime"
        problems.append(f"{row.where()}: {col}={raw!r} is not {kind}")
        return None
    return raw


def instant(raw: str) -> datetime:
    """A validated date or datetime as a UTC instant: no offset means UTC, a bare date its 00:00 UTC."""
    value = datetime.fromisoformat(raw)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def codes(row: Row, col: str, known: dict[str, Row], problems: list[str]) -> list[str]:
    """A `;`-separated list of tax codes: blanks trimmed, each known to taxes.csv, none twice."""
    found: list[str] = []
    for code in (c.strip() for c in row.data.get(col, "").split(";")):
        if code == "":
            continue
        if code in found:
            problems.append(f"{row.where()}: {col} lists {code!r} twice (rule: no duplicate codes within a row)")
            continue
        if code not in known:
            problems.append(f"{row.where()}: {col} code {code!r} does not exist in taxes.csv")
        found.append(code)
    return found


def whole(row: Row, col: str, problems: list[str], low: int, high: int | None, rule: str) -> int | None:
    """A whole number (plain digits) in [low, high]; high None = no upper bound."""
    raw = row.data.get(col, "")
    if re.fullmatch(r"[0-9]+", raw, re.ASCII) and low <= int(raw) and (high is None or int(raw) <= high):
        return int(raw)
    bound = f"from {low} to {high}" if high is not None else f"of at least {low}"
    problems.append(f"{row.where()}: {col}={raw!r} must be a whole number {bound} (rule: {rule})")
    return None
