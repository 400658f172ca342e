"""Which incremental state a catalog change drops (orchestration/rating_state.py): a change to
the rows that place events (subscriptions, metrics, charges...) drops the rating state and the
per-period state; any other change (a price, a threshold, a tax) drops only the per-period state
(int_usage_by_period, int_progressive_invoices and their `_rated_periods`); no change drops
nothing."""
from __future__ import annotations

import duckdb

from orchestration import rating_state

INTERMEDIATE = sorted(rating_state.STATE_MODELS + rating_state.PERIOD_MODELS
                      + [f"{m}_rated_periods" for m in rating_state.PERIOD_MODELS])


def _warehouse() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("create schema catalog")
    for table in rating_state.RATING_TABLES:
        con.execute(f"create table catalog.{table} as select 'row_1' as id")
    con.execute("create table catalog.usage_thresholds as select 'plan_1' as plan_code, 10.00 as amount")
    return con


def _build_state(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("create schema if not exists intermediate")
    for model in INTERMEDIATE:
        con.execute(f"create table if not exists intermediate.{model} as select 1 as x")


def _left(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [r[0] for r in con.execute("select table_name from information_schema.tables "
                                      "where table_schema = 'intermediate' order by 1").fetchall()]


def test_no_change_drops_nothing():
    con = _warehouse()
    assert rating_state.invalidate_if_catalog_changed(con) is True  # first sight: nothing stored yet
    _build_state(con)
    assert rating_state.invalidate_if_catalog_changed(con) is False
    assert _left(con) == INTERMEDIATE


def test_a_price_change_drops_only_the_period_state():
    con = _warehouse()
    rating_state.invalidate_if_catalog_changed(con)
    _build_state(con)
    con.execute("update catalog.usage_thresholds set amount = 20.00")
    assert rating_state.invalidate_if_catalog_changed(con) is False
    assert _left(con) == sorted(rating_state.STATE_MODELS)


def test_a_change_that_moves_events_drops_both():
    con = _warehouse()
    rating_state.invalidate_if_catalog_changed(con)
    _build_state(con)
    con.execute("update catalog.subscriptions set id = 'row_2'")
    assert rating_state.invalidate_if_catalog_changed(con) is True
    assert _left(con) == []


def test_a_warehouse_of_an_older_version_rebuilds_its_state():
    con = _warehouse()
    con.execute("create schema raw")
    con.execute("create table raw.rating_state (catalog_fingerprint varchar)")
    con.execute("insert into raw.rating_state values (?)", [rating_state.fingerprint(con)])
    _build_state(con)
    assert rating_state.invalidate_if_catalog_changed(con) is True
    assert _left(con) == []
