"""Publish current usage: billing.current_usage replaced whole from its mart in one transaction,
then the usage alerts evaluated on it and, when asked, the pages rendered again. Shared by the
refresh job (orchestration/defs/current_usage.py) and by every billing run (publish.py)."""
from __future__ import annotations

import json
from pathlib import Path

import duckdb

from orchestration.lib.crash import crash_point

MART, TABLE = "marts.fct_current_usage", "billing.current_usage"
# events at or after a run's window end (UTC): a run of earlier months, whose open periods are not
# today's, leaves billing.current_usage as the last refresh or run left it
LATER_EVENTS = """
    select count(*) from (
        select 1 from intermediate.int_usage_daily where latest_event_at >= cast('{end}' as timestamp)
        union all
        select 1 from intermediate.int_unique_ids_daily where last_event_at >= cast('{end}' as timestamp)
    ) as later
"""
ORDER = "external_subscription_id, fee_type desc, charge_id, filter_index, group_key"


def replace_current_usage(con: duckdb.DuckDBPyConnection) -> int:
    """billing.current_usage := the mart, whole; returns its rows."""
    con.execute("begin transaction")
    try:
        con.execute("create schema if not exists billing")
        con.execute(f"create or replace table {TABLE} as select * from {MART} order by {ORDER}")
        crash_point("publish", f"{TABLE} replaced, not committed")
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    return con.execute(f"select count(*) from {TABLE}").fetchone()[0]


def after_current_usage(con: duckdb.DuckDBPyConnection, out_dir: Path | None) -> list:
    """The usage alerts on the current usage just published; returns those that fired."""
    from orchestration import alerts
    return alerts.evaluate(con, out_dir)


def ensure_published_tables(con: duckdb.DuckDBPyConnection, published: dict[str, str]) -> list[str]:
    """Create, empty, the published tables a refresh finds missing (nothing billed yet), with the
    columns of their marts' contracts (dbt's manifest), so that the pages show the open periods
    before the first invoice; the first billing run fills them. `published`: mart -> table
    (publish.PUBLISHED). Returns the tables created."""
    from orchestration.prepare import ensure_manifest
    present = {t for (t,) in con.execute(
        "select table_name from information_schema.tables where table_schema = 'billing'").fetchall()}
    missing = {mart: table for mart, table in published.items() if table not in present}
    if not missing:
        return []
    nodes = json.loads(ensure_manifest().read_text())["nodes"].values()
    columns = {n["name"]: n["columns"] for n in nodes if n["resource_type"] == "model" and n["name"] in missing}
    con.execute("begin transaction")
    try:
        for mart, table in missing.items():
            spec = ", ".join(f'"{name}" {c["data_type"]}' for name, c in columns[mart].items())
            con.execute(f"create table billing.{table} ({spec})")
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    return sorted(missing.values())
