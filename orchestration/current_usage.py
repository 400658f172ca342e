"""Publish current usage: billing.current_usage replaced whole from its mart in one transaction,
then the usage alerts evaluated on it and, when asked, the pages rendered again. Shared by the
refresh job (orchestration/defs/current_usage.py) and by every billing run (publish.py)."""
from __future__ import annotations

from pathlib import Path

import duckdb

from orchestration.lib.crash import crash_point

MART, TABLE = "marts.fct_current_usage", "billing.current_usage"
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


def site_published(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether a billing run has published the `billing` schema the pages are made of."""
    return con.execute("select count(*) from information_schema.tables where table_schema = 'billing' "
                       "and table_name = 'invoices'").fetchone()[0] > 0
