"""The `catalog` schema in DuckDB: each table is a typed row (a NamedTuple naming its `table`,
each field's SQL type in its annotation), and `write` replaces them all in one transaction."""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Annotated, Any, get_type_hints

import duckdb

# The SQL type of a field is the metadata of its annotation.
MONEY = "decimal(38,10)"
Text = Annotated[str, "varchar"]
OptText = Annotated[str | None, "varchar"]
Money = Annotated[Decimal | None, MONEY]
Flag = Annotated[bool, "boolean"]
Int = Annotated[int | None, "integer"]
BigInt = Annotated[int | None, "bigint"]


def columns(row_type: type) -> list[tuple[str, str]]:
    """A typed row's table columns: (name, SQL type) in field order."""
    hints = get_type_hints(row_type, include_extras=True)
    return [(name, hints[name].__metadata__[0]) for name in row_type._fields]


@dataclass
class Catalog:
    """The validated, flattened catalog: table name -> (columns, rows); `warnings`: what loaded
    but is ignored (raw.catalog_warnings, printed in the run summary)."""
    tables: dict[str, tuple[list[tuple[str, str]], list[tuple]]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def write(con: duckdb.DuckDBPyConnection, cat: Catalog, prefix: str = "") -> dict[str, int]:
    """Replace the catalog schema, and the catalog's warnings (raw.catalog_warnings: outside the
    catalog schema, whose fingerprint decides the rating state), in one transaction: a run never
    sees half a catalog. `prefix`: a simulation's candidate, in simulation_catalog and
    simulation_raw."""
    counts = {}
    raw, schema = f"{prefix}raw", f"{prefix}catalog"
    con.execute("begin transaction")
    try:
        con.execute(f"create schema if not exists {raw}")
        con.execute(f"create or replace table {raw}.catalog_warnings (position integer, message varchar)")
        if cat.warnings:
            con.executemany(f"insert into {raw}.catalog_warnings values (?, ?)", list(enumerate(cat.warnings, start=1)))
        con.execute(f"create schema if not exists {schema}")
        for name, (cols, data) in cat.tables.items():
            ddl = ", ".join(f'"{c}" {t}' for c, t in cols)
            con.execute(f"create or replace table {schema}.{name} ({ddl})")
            if data:
                _insert(con, f"{schema}.{name}", cols, data)
            counts[name] = len(data)
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    return counts


def _insert(con: duckdb.DuckDBPyConnection, table: str, cols: list[tuple[str, str]], data: list[tuple]) -> None:
    # one bulk insert from Arrow (text, cast by DuckDB to each column's type):
    # executemany costs seconds for a catalog of 10,000 customers
    import pyarrow as pa
    columns = {f"c{i}": pa.array([None if row[i] is None else _text(row[i]) for row in data],
                                 type=pa.string()) for i in range(len(cols))}
    rows = pa.table(columns)  # noqa: F841 (read by DuckDB's replacement scan)
    casts = ", ".join(f"cast(c{i} as {t})" for i, (_, t) in enumerate(cols))
    con.execute(f"insert into {table} select {casts} from rows")


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
