"""What the marts were last built from, so that publishing cannot copy marts that do not match
the window being published (a `billing/published` materialized alone in Dagster, a re-execution
after a failed build, new files landed or a catalog changed since the build).

One row in raw.build_state: the window of the last dbt build that finished, the landing and the
catalog it read (the last load sequence, the catalog fingerprint of raw.rating_state) and whether
the Great Expectations gates passed on it. A build clears the row when it starts, so a failed
or killed build leaves nothing to publish."""
from __future__ import annotations

import duckdb

DDL = """
create schema if not exists raw;
create table if not exists raw.build_state (
    billing_from date, billing_to date, landed_through bigint, catalog_fingerprint varchar,
    gates_passed boolean)
"""


class NotBuilt(Exception):
    """The marts do not hold a gated build of this window over the current inputs."""


def _inputs(con: duckdb.DuckDBPyConnection) -> tuple[int, str]:
    """The landing and catalog as they are now: the last load sequence and the catalog fingerprint."""
    landed = con.execute("select coalesce(max(load_sequence), 0) from raw.landing_files").fetchone()[0]
    catalog = con.execute("select coalesce(max(catalog_fingerprint_all), '') from raw.rating_state").fetchone()[0]
    return landed, catalog


def build_started(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(DDL)
    con.execute("delete from raw.build_state")


def build_finished(con: duckdb.DuckDBPyConnection, window: dict[str, str]) -> None:
    landed, catalog = _inputs(con)
    con.execute("begin transaction")
    con.execute("delete from raw.build_state")
    con.execute("insert into raw.build_state values (?, ?, ?, ?, false)",
                [window["billing_from"], window["billing_to"], landed, catalog])
    con.execute("commit")


def gates_passed(con: duckdb.DuckDBPyConnection, window: dict[str, str]) -> None:
    """Mark the build of `window` as validated (the blocking checks all passed on it)."""
    con.execute(DDL)
    con.execute("update raw.build_state set gates_passed = true "
                "where billing_from = cast(? as date) and billing_to = cast(? as date)",
                [window["billing_from"], window["billing_to"]])


def require_publishable(con: duckdb.DuckDBPyConnection, window: dict[str, str]) -> None:
    """Refuse, saying why, unless the marts hold a gated build of `window` over today's inputs."""
    con.execute(DDL)
    row = con.execute("select cast(billing_from as varchar), cast(billing_to as varchar), landed_through, "
                      "catalog_fingerprint, gates_passed from raw.build_state").fetchone()
    want = f"{window['billing_from']} to {window['billing_to']}"
    how = "materialize it together with the billing models (or run `tally run`)"
    if row is None:
        raise NotBuilt(f"nothing to publish for {want}: the last dbt build did not finish; {how}")
    if (row[0], row[1]) != (window["billing_from"], window["billing_to"]):
        raise NotBuilt(f"the marts hold the build of {row[0]} to {row[1]}, not {want}; {how}")
    if (row[2], row[3]) != _inputs(con):
        raise NotBuilt(f"files were landed or the catalog changed since the marts were built for {want}; {how}")
    if not row[4]:
        raise NotBuilt(f"the Great Expectations gates did not pass on the build of {want}; {how}")
