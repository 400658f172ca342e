"""The DuckDB warehouse file: one writer process at a time, and the connection settings the
Python steps share with dbt's profile (dbt_project/profiles.yml)."""
from __future__ import annotations

import fcntl
import os
from contextlib import contextmanager
from pathlib import Path

import duckdb

# the same variable and default as dbt's profile, so landing and dbt spill at the same bound
MEMORY_LIMIT_ENV = "TALLY_MEMORY_LIMIT"
DEFAULT_MEMORY_LIMIT = "2.5GB"


class WarehouseInUse(Exception):
    """Another process holds the warehouse; the message says which file, for people."""


# the locks this process holds (path -> depth): `tally run` holds the lock around the Dagster
# run it executes in process, whose assets take it again; another process is refused
_held: dict[str, int] = {}


@contextmanager
def warehouse_lock(warehouse: Path):
    """DuckDB has one writer process: a second writer on the same file fails fast, clearly.
    Re-entrant within a process; every step that writes the warehouse takes it."""
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    lock_path = warehouse.with_name(warehouse.name + ".lock")
    key = str(lock_path.resolve())
    if _held.get(key):
        _held[key] += 1
        try:
            yield
        finally:
            _held[key] -= 1
        return
    with lock_path.open("w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise WarehouseInUse(f"another tally run is using {warehouse}; wait for it to finish and run again") \
                from None
        _held[key] = 1
        try:
            yield
        finally:
            _held.pop(key, None)
            fcntl.flock(fh, fcntl.LOCK_UN)


def memory_limit() -> str:
    return os.environ.get(MEMORY_LIMIT_ENV, DEFAULT_MEMORY_LIMIT)


def connect(warehouse: Path, *, bounded_memory: bool = False) -> duckdb.DuckDBPyConnection:
    """A read-write connection; `bounded_memory` for steps that scan all events (landing), which
    then spill to <warehouse>.tmp instead of taking the machine."""
    config = {"memory_limit": memory_limit()} if bounded_memory else {}
    return duckdb.connect(str(warehouse), config=config)


def table_exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    """Whether schema.table (a table or a view) exists: steps that read what an earlier step or an
    earlier version may not have written yet ask first."""
    return con.execute("select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
                       [schema, table]).fetchone()[0] > 0
