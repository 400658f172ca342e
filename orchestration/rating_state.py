"""The incremental state is only valid for the catalog it was computed with.

- The rating state (daily meters, unresolved events): which subscription an event goes to, its
  charge, price bucket, group and local day all come from the rating tables of the catalog.
- The period state (per-period models that rate only the periods new events touch, with their
  `<model>_rated_periods` tables): prices, thresholds and every other catalog row.

When the tables a state depends on change (a fingerprint of them, plus the state's own version),
its tables are dropped and the next dbt build computes them from every event again; otherwise
each build computes only what landed since the last one.
"""
from __future__ import annotations

import duckdb

# bump when the state models change shape or meaning: existing warehouses then rebuild them
STATE_VERSION = "10"
# catalog tables that decide how an event is rated (not prices: those are applied per period)
RATING_TABLES = ["customers", "subscriptions", "billable_metrics", "charges", "charge_buckets",
                 "charge_filter_values"]
# catalog tables that change no figure (usage alerts, read by orchestration/alerts.py after the
# build): editing them rates nothing again and leaves the built marts publishable
NOT_BILLED = ("alerts", "alert_thresholds")
STATE_MODELS = ["int_charge_events", "int_usage_daily", "int_unique_ids_daily", "int_events_unresolved"]
# per-period models (macros/incremental/periods_to_rate.sql): any catalog change rebuilds them
PERIOD_MODELS = ["int_usage_by_period", "int_prorated_steps", "int_progressive_events",
                 "int_progressive_unit_states", "int_progressive_priced_states", "int_progressive_replay_days",
                 "int_progressive_replayed_states", "int_progressive_invoices", "int_instant_fees"]


def _table_fingerprint(con: duckdb.DuckDBPyConnection, table: str) -> str:
    return con.execute(
        f"select coalesce(md5(string_agg(md5(cast(t as varchar)), ',' order by md5(cast(t as varchar)))), '') "
        f"from catalog.{table} as t").fetchone()[0]


def fingerprint(con: duckdb.DuckDBPyConnection, tables: list[str] | None = None) -> str:
    """The catalog's fingerprint over `tables` (default: the rating tables)."""
    return "|".join([STATE_VERSION] + [_table_fingerprint(con, t) for t in tables or RATING_TABLES])


def _catalog_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [r[0] for r in con.execute(
        "select table_name from information_schema.tables where table_schema = 'catalog' "
        "order by table_name").fetchall() if r[0] not in NOT_BILLED]


def _drop(con: duckdb.DuckDBPyConnection, models: list[str]) -> None:
    kinds = dict(con.execute("select table_name, table_type from information_schema.tables "
                             "where table_schema = 'intermediate'").fetchall())
    for model in models:
        if model in kinds:  # a view in warehouses of older versions
            con.execute(f"drop {'view' if kinds[model] == 'VIEW' else 'table'} intermediate.{model}")


def invalidate_if_catalog_changed(con: duckdb.DuckDBPyConnection) -> bool:
    """Drop the state the catalog change invalidates; True when the rating catalog changed."""
    con.execute("create schema if not exists raw")
    columns = [r[0] for r in con.execute(
        "select column_name from information_schema.columns "
        "where table_schema = 'raw' and table_name = 'rating_state'").fetchall()]
    if columns and "catalog_fingerprint_all" not in columns:  # a warehouse of an older version
        con.execute("drop table raw.rating_state")
    con.execute("create table if not exists raw.rating_state "
                "(catalog_fingerprint varchar, catalog_fingerprint_all varchar)")
    rating = fingerprint(con)
    every = fingerprint(con, _catalog_tables(con))
    stored = con.execute("select max(catalog_fingerprint), max(catalog_fingerprint_all) "
                         "from raw.rating_state").fetchone()
    if stored == (rating, every):
        return False
    con.execute("begin transaction")
    con.execute("create schema if not exists intermediate")
    dropped = PERIOD_MODELS + [f"{m}_rated_periods" for m in PERIOD_MODELS]
    if stored[0] != rating:
        dropped += STATE_MODELS
    _drop(con, dropped)
    con.execute("delete from raw.rating_state")
    con.execute("insert into raw.rating_state values (?, ?)", [rating, every])
    con.execute("commit")
    return stored[0] != rating
