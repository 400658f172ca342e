"""The run's small state tables on Spark, each replaced whole (Parquet tables cannot update):
raw.billing_window (the window dbt builds) and raw.build_state (what the marts were built from,
and whether the Great Expectations gates passed: orchestration/lib/build_state.py)."""
from __future__ import annotations

from orchestration.lib.build_state import NotBuilt


def _replace(spark, table: str, columns: str, values: str | None) -> None:
    spark.sql(f"drop table if exists {table}")
    spark.sql(f"create table {table} ({columns}) using parquet")
    if values is not None:
        spark.sql(f"insert into {table} values {values}")


def store_window(spark, window: dict[str, str]) -> None:
    _replace(spark, "raw.billing_window", "billing_from date, billing_to date",
             f"(date '{window['billing_from']}', date '{window['billing_to']}')")


def _landed(spark) -> int:
    return spark.sql("select coalesce(max(load_sequence), 0) from raw.landing_files").first()[0]


BUILD_STATE = ("billing_from date, billing_to date, landed_through bigint, catalog_fingerprint string, "
               "gates_passed boolean")


def build_started(spark) -> None:
    _replace(spark, "raw.build_state", BUILD_STATE, None)


def build_finished(spark, window: dict[str, str], catalog_fingerprint: str, gates: bool = False) -> None:
    _replace(spark, "raw.build_state", BUILD_STATE,
             f"(date '{window['billing_from']}', date '{window['billing_to']}', {_landed(spark)}, "
             f"'{catalog_fingerprint}', {str(gates).lower()})")


def gates_passed(spark, window: dict[str, str]) -> None:
    row = spark.sql("select catalog_fingerprint from raw.build_state where billing_from = date "
                    f"'{window['billing_from']}' and billing_to = date '{window['billing_to']}'").first()
    if row is not None:
        build_finished(spark, window, row[0], gates=True)


def require_publishable(spark, window: dict[str, str], catalog_fingerprint: str) -> None:
    row = spark.sql("select cast(billing_from as string), cast(billing_to as string), landed_through, "
                    "catalog_fingerprint, gates_passed from raw.build_state").first()
    want = f"{window['billing_from']} to {window['billing_to']}"
    if row is None:
        raise NotBuilt(f"nothing to publish for {want}: the last dbt build did not finish")
    if (row[0], row[1]) != (window["billing_from"], window["billing_to"]):
        raise NotBuilt(f"the marts hold the build of {row[0]} to {row[1]}, not {want}")
    if (row[2], row[3]) != (_landed(spark), catalog_fingerprint):
        raise NotBuilt(f"files were landed or the catalog changed since the marts were built for {want}")
    if not row[4]:
        raise NotBuilt(f"the Great Expectations gates did not pass on the build of {want}")
