"""The incremental rating state (daily meters, unresolved events) is only valid for the catalog
rows it was rated with: which subscription an event goes to, its charge, price bucket, group
and local day all come from the catalog. When those rows change (a fingerprint of them, plus
the state's own version), the state tables are dropped and the next dbt build rates every
event again; otherwise each build rates only what landed since the last one.
"""
from __future__ import annotations

import duckdb

# bump when the state models change shape or meaning: existing warehouses then rebuild them
STATE_VERSION = "4"
# catalog tables that decide how an event is rated (not prices: those are applied per period)
RATING_TABLES = ["customers", "subscriptions", "billable_metrics", "charges", "charge_buckets",
                 "charge_filter_values"]
STATE_MODELS = ["int_charge_events", "int_usage_daily", "int_unique_ids_daily", "int_events_unresolved"]


def fingerprint(con: duckdb.DuckDBPyConnection) -> str:
    parts = [STATE_VERSION]
    for table in RATING_TABLES:
        parts.append(con.execute(
            f"select coalesce(md5(string_agg(md5(cast(t as varchar)), ',' order by md5(cast(t as varchar)))), '') "
            f"from catalog.{table} as t").fetchone()[0])
    return "|".join(parts)


def invalidate_if_catalog_changed(con: duckdb.DuckDBPyConnection) -> bool:
    """Drop the rating state when the rating catalog changed; True when it did."""
    con.execute("create schema if not exists raw")
    con.execute("create table if not exists raw.rating_state (catalog_fingerprint varchar)")
    current = fingerprint(con)
    stored = con.execute("select max(catalog_fingerprint) from raw.rating_state").fetchone()[0]
    if stored == current:
        return False
    con.execute("begin transaction")
    con.execute("create schema if not exists intermediate")
    kinds = dict(con.execute("select table_name, table_type from information_schema.tables "
                             "where table_schema = 'intermediate'").fetchall())
    for model in STATE_MODELS:
        if model in kinds:  # a view in warehouses of older versions
            con.execute(f"drop {'view' if kinds[model] == 'VIEW' else 'table'} intermediate.{model}")
    con.execute("delete from raw.rating_state")
    con.execute("insert into raw.rating_state values (?)", [current])
    con.execute("commit")
    return True
