"""The Spark session of a run, opened through dbt so that it has the profile's settings, and a
small DB-API-like face over it (`SparkSql.execute(sql, params).fetchone()`) for the queries the
DuckDB steps share (summary, build state)."""
from __future__ import annotations

import os
from pathlib import Path

from orchestration.lib.dbt import target_path
from orchestration.paths import DBT_PROJECT_DIR

# the profile's spark output reads these (dbt_project/profiles.yml)
SPARK_DIR_ENV = "TALLY_SPARK_DIR"
WAREHOUSE_ENV = "TALLY_WAREHOUSE"
SCHEMAS = ("raw", "catalog", "staging", "intermediate", "marts", "billing", "finalized")


def spark_dir(warehouse: Path) -> Path:
    """Where a warehouse's Spark metastore and tables live: TALLY_SPARK_DIR when set (as the
    profile reads it), else `<warehouse>.spark/`."""
    return Path(os.environ.get(SPARK_DIR_ENV) or warehouse.with_name(warehouse.name + ".spark"))


class Rows:
    def __init__(self, rows: list):
        self._rows = [tuple(r) for r in rows]

    def fetchone(self):
        return self._rows[0] if self._rows else None

    def fetchall(self) -> list[tuple]:
        return self._rows


class SparkSql:
    """`execute(sql, params)` with `?` placeholders, as a DuckDB connection (Spark 3.5+ binds
    positional parameters), for SQL both engines accept."""

    def __init__(self, spark):
        self.spark = spark

    def execute(self, sql: str, params: list | None = None) -> Rows:
        return Rows(self.spark.sql(sql, args=list(params)).collect() if params else self.spark.sql(sql).collect())

    def sql(self, sql: str, params: list | None = None):
        return self.spark.sql(sql, args=list(params)) if params else self.spark.sql(sql)


class SparkDbt:
    """dbt in this process (dbtRunner) on the `spark` target of `warehouse`; the first call opens
    the Spark session with the profile's settings."""

    def __init__(self, warehouse: Path):
        self.warehouse = warehouse
        os.environ[WAREHOUSE_ENV] = str(warehouse)
        os.environ[SPARK_DIR_ENV] = str(spark_dir(warehouse))
        os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
        from dbt.cli.main import dbtRunner
        self.runner = dbtRunner()
        target = target_path(DBT_PROJECT_DIR, warehouse)
        self.common = ["--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
                       "--target", "spark", "--target-path", str(target.with_name(target.name + "-spark")),
                       "--log-path", str(spark_dir(warehouse) / "logs")]

    def invoke(self, args: list[str]):
        result = self.runner.invoke([*args, *self.common])
        return result

    def open_session(self):
        """Start Spark (dbt's session, the profile's settings) and create the schemas."""
        result = self.invoke(["run-operation", "spark_create_schemas", "--args", repr({"schemas": list(SCHEMAS)})])
        if not result.success:
            raise RuntimeError(f"could not start the Spark session: {result.exception}")
        from pyspark.sql import SparkSession
        spark = SparkSession.builder.getOrCreate()
        if not spark.__class__.__module__.startswith("pyspark.sql.connect"):  # Spark Connect has no context
            spark.sparkContext.setLogLevel("ERROR")
        return spark


def rewrite(spark, table: str, select_sql: str) -> None:
    """Replace `table` by the rows of `select_sql` (which may read it): written beside it as
    `<table>__next`, then swapped in (drop, rename). Parquet tables cannot update or delete rows;
    the tables rewritten this way are small (catalog, manifest, published invoices)."""
    nxt = f"{table}__next"
    spark.sql(f"drop table if exists {nxt}")
    spark.sql(f"create table {nxt} using parquet as {select_sql}")
    spark.sql(f"drop table if exists {table}")
    spark.sql(f"alter table {nxt} rename to {table}")


def table_exists(spark, table: str) -> bool:
    return spark.catalog.tableExists(table)


def to_local(spark, tables: dict[str, str]):
    """An in-memory DuckDB holding `tables` (DuckDB name -> Spark query), read from Spark as
    Arrow, timestamps as naive UTC (as the DuckDB warehouse keeps them). Used to write the
    published files and pages with the very writer the DuckDB engine uses: same bytes."""
    import duckdb
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    for name, query in tables.items():
        df = spark.sql(query)
        casts = [f"cast(`{f.name}` as timestamp_ntz) as `{f.name}`" if f.dataType.typeName() == "timestamp"
                 else f"`{f.name}`" for f in df.schema.fields]
        arrow = df.selectExpr(*casts).toArrow()  # noqa: F841 (read by DuckDB's replacement scan)
        schema = name.split(".")[0]
        con.execute(f"create schema if not exists {schema}")
        con.execute(f"create table {name} as select * from arrow")
    return con
