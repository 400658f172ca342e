"""Issue 14, first milestone: the whole dbt layer builds on Apache Spark (dbt-spark, a local
session) and gives DuckDB's marts row for row.

Two worlds: the small hand-worked one and a generated one with every feature (GENERATED_SEED).
Each is billed the normal way (`tally run` on DuckDB, published); every
table the dbt sources read is exported to Parquet and declared as the same sources in a fresh
Spark session (tests/spark_build.py, one process, metastore and warehouse in the test's temp
folder); `dbt build --target spark` builds every model and its data tests; each mart (fct_*) is
then compared with DuckDB's: same columns, same rows, money equal as decimals.

Not part of `make test`: `make test-spark` (CI runs it after). Skipped without pyspark/dbt-spark
(`.[spark]`) or Java."""
from __future__ import annotations

import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from tests.helpers import REPO, SMALL_API_CALLS, copy_landing, tally, write_api_calls_parquet
from tests.oracle.files import write_world
from tests.oracle.world import generate_world
from tests.spark_build import export_sources, marts

pytestmark = pytest.mark.spark

# the Spark part (JVM start, sources, dbt build, marts out) must stay small (issue 14: ~4 min)
SPARK_BUDGET_SECONDS = 420
# the generated world: small enough for the budget, rich enough to hold every feature
GENERATED_SEED = 14
GENERATED_SUBSCRIPTIONS = 120


def spark_missing() -> str | None:
    for module in ("pyspark", "dbt.adapters.spark"):
        if importlib.util.find_spec(module) is None:
            return f"{module} is not installed: `make test-spark` installs the `spark` extra (.[spark])"
    java_home = os.environ.get("JAVA_HOME")
    if shutil.which("java") is None and not (java_home and (Path(java_home) / "bin" / "java").exists()):
        return "no Java runtime (Spark 4 needs Java 17)"
    return None


def bill_small(base: Path, catalog: Path) -> Path:
    """tests/fixtures/small plus 10,005 API calls (as tests/e2e/conftest.py small_billed), October."""
    landing = copy_landing("small", base / "landing")
    write_api_calls_parquet(landing / "c_calls.parquet", SMALL_API_CALLS)
    tally("run", "--catalog", str(catalog), "--landing", str(landing), "--warehouse", str(base / "w.duckdb"),
          "--period", "2026-10", "--publish", str(base / "published"))
    return base / "w.duckdb"


def bill_generated(base: Path) -> Path:
    """A generated world (tests/oracle/world.py, fixed seed): every aggregation and charge model,
    filters, pricing groups, commitments, progressive billing, wallets, coupons, taxes, JPY/KWD/USD,
    resends and bad events, January to May 2026."""
    world = generate_world(GENERATED_SEED, subscriptions=GENERATED_SUBSCRIPTIONS, plans=20)
    catalog, landing = write_world(world, base)
    tally("run", "--catalog", str(catalog), "--landing", str(landing), "--warehouse", str(base / "w.duckdb"),
          "--from", world.months[0], "--to", world.months[1], "--no-pages", "--publish", str(base / "published"))
    return base / "w.duckdb"


@pytest.fixture(scope="module")
def worlds_on_both(tmp_path_factory, small_catalog) -> dict:
    """Both worlds billed on DuckDB, then built on Spark in one session (one JVM)."""
    reason = spark_missing()
    if reason:
        pytest.skip(reason)
    base = tmp_path_factory.mktemp("spark_parity")
    warehouses = {"small": bill_small(base / "small", small_catalog), "generated": bill_generated(base / "generated")}
    for name, warehouse in warehouses.items():
        export_sources(warehouse, base / name / "sources")
    started = time.monotonic()
    # its own process group: a timeout ends the JVM that pyspark starts too
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.spark_build", "--spark-dir", str(base / "spark"), "--out", str(base / "marts"),
         *[arg for name in warehouses for arg in ("--world", f"{name}={base / name / 'sources'}")]],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO, start_new_session=True,
        env={"TALLY_SPARK_THREADS": "2", **os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"})
    try:
        stdout, stderr = proc.communicate(timeout=2 * SPARK_BUDGET_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        stdout, stderr = proc.communicate()
    seconds = time.monotonic() - started
    summary = next((json.loads(line.split(" ", 1)[1]) for line in stdout.splitlines()
                    if line.startswith("SPARK_BUILD ")), None)
    if proc.returncode != 0 or summary is None:
        raise AssertionError(f"dbt build on Spark failed ({proc.returncode}): {summary}\n"
                             f"{stdout[-8000:]}\n{stderr[-4000:]}")
    for name in warehouses:
        print(f"spark, {name}: {summary[name]['nodes']} nodes built in {summary[name]['build_seconds']} s "
              f"(sources {summary[name]['attach_seconds']} s)")
    print(f"the whole Spark part (JVM, both worlds, marts out): {seconds:.0f} s")
    return {"warehouses": warehouses, "marts": base / "marts", "summary": summary, "seconds": seconds}


def mart_rows(con: duckdb.DuckDBPyConnection, relation: str) -> tuple[list[str], list[tuple]]:
    cursor = con.execute(f"select * from {relation} order by all")
    return [d[0] for d in cursor.description], [tuple(map(naive_utc, row)) for row in cursor.fetchall()]


def naive_utc(value):
    """Spark writes its TIMESTAMP (an instant) to Parquet as UTC-adjusted, which DuckDB reads as
    TIMESTAMPTZ; the warehouse's naive timestamps are UTC: compare the instants."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


def compare_marts(warehouse: Path, spark_marts: Path) -> dict[str, int]:
    """Every mart: same columns, same rows (sorted), Decimal by value (1.50 == 1.5)."""
    compared = {}
    with duckdb.connect() as con:
        con.execute("set TimeZone = 'UTC'")
        con.execute(f"attach '{warehouse}' as duck (read_only)")
        for mart in marts():
            columns, duck = mart_rows(con, f"duck.marts.{mart}")
            files = sorted((spark_marts / mart).glob("*.parquet"))
            assert files, f"{mart}: Spark built no table"
            spark_columns, spark = mart_rows(con, f"read_parquet({[str(f) for f in files]})")
            assert spark_columns == columns, f"{mart}: columns differ"
            spark_set, duck_set = set(spark), set(duck)
            assert duck == spark, (f"{mart}: {len(duck)} rows on DuckDB, {len(spark)} on Spark; "
                                   f"only on DuckDB {[r for r in duck if r not in spark_set][:5]}; "
                                   f"only on Spark {[r for r in spark if r not in duck_set][:5]}")
            compared[mart] = len(duck)
    return compared


def test_small_world_marts_equal_on_spark(worlds_on_both):
    compared = compare_marts(worlds_on_both["warehouses"]["small"], worlds_on_both["marts"] / "small")
    print("small world, rows compared per mart:", compared)
    assert compared["fct_invoices"] == 4 and compared["fct_invoice_lines"] == 11 and compared["fct_usage"] > 0
    assert compared["fct_quarantined_events"] == 11


def test_generated_world_marts_equal_on_spark(worlds_on_both):
    compared = compare_marts(worlds_on_both["warehouses"]["generated"], worlds_on_both["marts"] / "generated")
    print("generated world, rows compared per mart:", compared)
    # every mart has rows but credit notes (none in this world)
    assert all(count > 0 for mart, count in compared.items() if mart != "fct_credit_notes"), compared


def test_spark_part_stays_small(worlds_on_both):
    assert worlds_on_both["seconds"] < SPARK_BUDGET_SECONDS, f"Spark part took {worlds_on_both['seconds']:.0f} s"
