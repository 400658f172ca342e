"""Issue 14: the same billing on Apache Spark. `tally run --engine spark` (orchestration/engines/
spark: Spark landing, catalog, dbt build on a local session, the GX gate, publish) publishes
what `tally run` on DuckDB publishes.

Here (`make test`): a generated world with every feature (GENERATED_SEED) is billed on DuckDB
(`tally run`, published) and its first month closed (`tally finalize --force`), then the same on
Spark from the same catalog and landing folders (tests/spark_run.py: one JVM, Spark's in-memory
catalog in the test's temp folder). Compared: the printed summary; the published folders byte
for byte (month Parquet and CSV files; not data_docs, whose GX asset links carry the time they
were built); every `billing` table, every mart (fct_*) and every `finalized` table, same
columns, same rows, money equal as decimals.

Part of `make test` (which installs the `.[spark]` extra); skipped, with the reason, without
pyspark/dbt-spark or Java. `make test-spark` (tests/e2e/test_spark_unit_tests.py) bills three
more worlds on both engines the same way (the small hand-worked one with its pages, the
pay-in-advance one, the conservation one) and runs the dbt unit tests on Spark: one Spark world
here keeps `make test` within its budget."""
from __future__ import annotations

import csv
import importlib.util
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from rich.console import Console

from orchestration.publish import PUBLISHED
from orchestration.summary import Summary, summarize
from tests.e2e.pay_in_advance_world import write_world as write_advance_world
from tests.helpers import REPO, SMALL_API_CALLS, copy_landing, tally, write_api_calls_parquet
from tests.oracle.files import write_world
from tests.oracle.world import generate_world
from tests.spark_build import marts as mart_names

pytestmark = pytest.mark.spark

# How long the Spark part takes is printed (pytest -rP), not asserted: speed is shown by `make
# bench` (BENCH_ENGINE=both), not by timed tests.
# the generated world: small enough for the budget, rich enough to hold every feature
GENERATED_SEED = 14
GENERATED_SUBSCRIPTIONS = 120


def spark_missing() -> str | None:
    for module in ("pyspark", "dbt.adapters.spark"):
        if importlib.util.find_spec(module) is None:
            return f"{module} is not installed: `make test` installs the `spark` extra (.[spark])"
    java_home = os.environ.get("JAVA_HOME")
    if shutil.which("java") is None and not (java_home and (Path(java_home) / "bin" / "java").exists()):
        return "no Java runtime (Spark 4 needs Java 17)"
    return None


def bill_small(base: Path, catalog: Path, finalize: bool = False) -> dict:
    """tests/fixtures/small plus 10,005 API calls (as tests/e2e/conftest.py small_billed), October;
    with `finalize`, October is then closed (`tally finalize --force`)."""
    landing = copy_landing("small", base / "landing")
    write_api_calls_parquet(landing / "c_calls.parquet", SMALL_API_CALLS)
    tally("run", "--catalog", str(catalog), "--landing", str(landing), "--warehouse", str(base / "w.duckdb"),
          "--period", "2026-10", "--publish", str(base / "published"))
    if finalize:
        tally("finalize", "--period", "2026-10", "--force", "--warehouse", str(base / "w.duckdb"),
              "--publish", str(base / "published"))
    return {"catalog": str(catalog), "landing": str(landing), "warehouse": str(base / "w.duckdb"),
            "publish": str(base / "published")}


# usage alerts on three of the generated world's subscriptions (plan p006: m_count_f charged in
# arrears): every type, one-time and recurring thresholds, low enough to fire
ALERTS = [
    ("spend", "sub_00001", "current_usage_amount", "", [("a", "0.01", False), ("b", "1", False),
                                                        ("every_5", "5", True)]),
    ("calls", "sub_00002", "billable_metric_current_usage_units", "m_count_f", [("one", "1", False),
                                                                                ("every_2", "2", True)]),
    ("lifetime", "sub_00003", "lifetime_usage_amount", "", [("1", "1", False), ("10", "10", False),
                                                            ("100", "100", False)]),
]


def write_alerts(path: Path) -> None:
    with path.open("w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["code", "name", "external_subscription_id", "alert_type", "billable_metric_code", "thresholds"])
        for code, sub, kind, metric, thresholds in ALERTS:
            out.writerow([code, code.title(), sub, kind, metric,
                          json.dumps([{"code": c, "value": v, "recurring": r} for c, v, r in thresholds])])


def bill_generated(base: Path, world, finalize: str | None = None) -> dict:
    """A generated world (tests/oracle/world.py, fixed seed): every aggregation and charge model,
    filters, pricing groups, commitments, progressive billing, wallets, coupons, taxes, JPY/KWD/USD,
    resends and bad events, usage alerts, January to May 2026; with `finalize`, that month is then
    closed."""
    catalog, landing = write_world(world, base)
    write_alerts(catalog / "alerts.csv")
    tally("run", "--catalog", str(catalog), "--landing", str(landing), "--warehouse", str(base / "w.duckdb"),
          "--from", world.months[0], "--to", world.months[1], "--no-pages", "--publish", str(base / "published"))
    if finalize:
        tally("finalize", "--period", finalize, "--force", "--warehouse", str(base / "w.duckdb"),
              "--publish", str(base / "published"))
    return {"catalog": str(catalog), "landing": str(landing), "warehouse": str(base / "w.duckdb"),
            "publish": str(base / "published")}



def bill_advance(base: Path) -> dict:
    """The pay-in-advance world (tests/e2e/pay_in_advance_world.py): instant fees and invoices."""
    catalog, landing = write_advance_world(base)
    tally("run", "--catalog", str(catalog), "--landing", str(landing), "--warehouse", str(base / "w.duckdb"),
          "--period", "2026-09", "--no-pages", "--publish", str(base / "published"))
    return {"catalog": str(catalog), "landing": str(landing), "warehouse": str(base / "w.duckdb"),
            "publish": str(base / "published")}


@pytest.fixture(scope="module")
def worlds_on_both(tmp_path_factory) -> dict:
    """The generated world billed on DuckDB and its first month closed, then the same on Spark."""
    reason = spark_missing()
    if reason:
        pytest.skip(reason)
    base = tmp_path_factory.mktemp("spark_parity")
    world = generate_world(GENERATED_SEED, subscriptions=GENERATED_SUBSCRIPTIONS, plans=20)
    generated = bill_generated(base / "generated", world, finalize=world.months[0])
    runs = [{"name": "generated", **generated, "from": world.months[0], "to": world.months[1], "pages": False,
             "finalize": world.months[0]}]
    return on_spark(base, runs)


def on_spark(base: Path, runs: list[dict], unit_tests: bool = False) -> dict:
    """Each run (billed on DuckDB) billed again on Spark, into a warehouse and folder of its own,
    all in one process (one JVM)."""
    for spec in runs:
        spec["publish_duckdb"], spec["publish"] = spec["publish"], str(base / spec["name"] / "published_spark")
        spec["warehouse_duckdb"], spec["warehouse"] = spec["warehouse"], str(base / spec["name"] / "spark.duckdb")
    summary, seconds = run_on_spark(base, runs, unit_tests=unit_tests)
    print(f"the whole Spark part (JVM, the worlds billed and published, tables out): {seconds:.0f} s")
    return {"runs": {spec["name"]: spec for spec in runs}, "out": base / "out", "summary": summary,
            "seconds": seconds}


def run_on_spark(base: Path, runs: list[dict], unit_tests: bool = False) -> tuple[dict, float]:
    """`tally run --engine spark` of each run in one child process (tests/spark_run.py): its
    summary (per run: seconds, and with `unit_tests` the dbt unit tests' results) and the time."""
    started = time.monotonic()
    # its own process group: a timeout ends the JVM that pyspark starts too
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.spark_run", "--spark-dir", str(base / "spark"), "--out", str(base / "out"),
         *(["--unit-tests"] if unit_tests else []), *[arg for spec in runs for arg in ("--world", json.dumps(spec))]],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO, start_new_session=True,
        # small worlds: one shuffle partition per stage instead of four (tasks cost more than rows
        # here); the whole run is this one process, so Spark's in-memory catalog, not a Derby
        # metastore on disk, holds the tables (a fifth less time: every model writes the catalog)
        env={"TALLY_SPARK_THREADS": "2", "TALLY_SPARK_SHUFFLE_PARTITIONS": "1", "TALLY_SPARK_CATALOG": "in-memory",
             **os.environ,
             "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"})
    try:
        stdout, stderr = proc.communicate(timeout=2400)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        stdout, stderr = proc.communicate()
    seconds = time.monotonic() - started
    summary = next((json.loads(line.split(" ", 1)[1]) for line in stdout.splitlines()
                    if line.startswith("SPARK_RUN ")), None)
    if proc.returncode != 0 or summary is None:
        raise AssertionError(f"tally run --engine spark failed ({proc.returncode}): {summary}\n"
                             f"{stdout[-8000:]}\n{stderr[-8000:]}")
    for spec in runs:
        print(f"spark, {spec['name']}: {summary[spec['name']]}")
    return summary, seconds


def mart_rows(con: duckdb.DuckDBPyConnection, relation: str) -> tuple[list[str], list[tuple]]:
    cursor = con.execute(f"select * from {relation} order by all")
    return [d[0] for d in cursor.description], [tuple(map(naive_utc, row)) for row in cursor.fetchall()]


def naive_utc(value):
    """Spark writes its TIMESTAMP (an instant) to Parquet as UTC-adjusted, which DuckDB reads as
    TIMESTAMPTZ; the warehouse's naive timestamps are UTC: compare the instants."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


def compare_tables(warehouse: Path, exported: Path, schema: str, tables: list[str]) -> dict[str, int]:
    """Each table: same columns, same rows (sorted), Decimal by value (1.50 == 1.5)."""
    compared = {}
    with duckdb.connect() as con:
        con.execute("set TimeZone = 'UTC'")
        con.execute(f"attach '{warehouse}' as duck (read_only)")
        for table in tables:
            columns, duck = mart_rows(con, f"duck.{schema}.{table}")
            files = sorted((exported / f"{schema}.{table}").glob("*.parquet"))
            assert files, f"{schema}.{table}: not on Spark"
            spark_columns, spark = mart_rows(con, f"read_parquet({[str(f) for f in files]})")
            assert spark_columns == columns, f"{schema}.{table}: columns differ"
            spark_set, duck_set = set(spark), set(duck)
            assert duck == spark, (f"{schema}.{table}: {len(duck)} rows on DuckDB, {len(spark)} on Spark; "
                                   f"only on DuckDB {[r for r in duck if r not in spark_set][:5]}; "
                                   f"only on Spark {[r for r in spark if r not in duck_set][:5]}")
            compared[table] = len(duck)
    return compared


def published_files(folder: Path) -> dict[str, bytes]:
    """Every published file but Data Docs (GX stamps its asset links with the build time)."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and "data_docs" not in p.relative_to(folder).parts}


def printed_summary(summary: Summary) -> str:
    from orchestration import cli
    before = cli.console
    cli.console = Console(file=io.StringIO(), width=120)
    try:
        cli.print_summary(summary)
        return cli.console.file.getvalue()
    finally:
        cli.console = before


def duckdb_summary(run: dict) -> Summary:
    with duckdb.connect(run["warehouse_duckdb"], read_only=True) as con:
        return summarize(con, date.fromisoformat(run["from"] + "-01"), date.fromisoformat(run["to"] + "-01"))


def spark_summary(out: Path, name: str) -> Summary:
    raw = json.loads((out / name / "summary.json").read_text())
    return Summary(months=[date.fromisoformat(m) for m in raw["months"]], invoices=raw["invoices"],
                   totals=[(c, n, Decimal(t)) for c, n, t in raw["totals"]], events_sent=raw["events_sent"],
                   events_billed=raw["events_billed"], events_quarantined=raw["events_quarantined"],
                   duplicates_ignored=raw["duplicates_ignored"],
                   quarantine_reasons=[tuple(r) for r in raw["quarantine_reasons"]],
                   money=[(row[0], *map(Decimal, row[1:])) for row in raw["money"]],
                   invoice_types=[tuple(r) for r in raw["invoice_types"]])


def check_world(both: dict, name: str) -> dict:
    run, out = both["runs"][name], both["out"]
    assert printed_summary(spark_summary(out, name)) == printed_summary(duckdb_summary(run))
    duck_files, spark_files = published_files(Path(run["publish_duckdb"])), published_files(Path(run["publish"]))
    assert sorted(spark_files) == sorted(duck_files)
    assert [f for f in duck_files if duck_files[f] != spark_files[f]] == []
    # the usage alerts' state, where some fired (without, DuckDB keeps an empty table, Spark none)
    alerted = {"triggered_alerts"} if duckdb_count(Path(run["warehouse_duckdb"]), "billing.triggered_alerts") else set()
    billing = compare_tables(Path(run["warehouse_duckdb"]), out / name, "billing",
                             sorted(set(PUBLISHED.values()) | alerted))
    marts = compare_tables(Path(run["warehouse_duckdb"]), out / name, "marts", mart_names())
    finalized = compare_tables(Path(run["warehouse_duckdb"]), out / name, "finalized",
                               duckdb_tables(Path(run["warehouse_duckdb"]), "finalized"))
    print(f"{name}: {len(duck_files)} published files identical; billing rows compared {billing}; "
          f"finalized {finalized}")
    return {"files": len(duck_files), "billing": billing, "marts": marts, "finalized": finalized}


def duckdb_count(warehouse: Path, table: str) -> int:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        schema, name = table.split(".")
        if not con.execute("select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
                           [schema, name]).fetchone()[0]:
            return 0
        return con.execute(f"select count(*) from {table}").fetchone()[0]


def duckdb_tables(warehouse: Path, schema: str) -> list[str]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return [r[0] for r in con.execute("select table_name from information_schema.tables where table_schema = ? "
                                          "order by 1", [schema]).fetchall()]


def test_generated_world_publishes_the_same_on_spark(worlds_on_both):
    compared = check_world(worlds_on_both, "generated")
    # every table has rows but credit notes (none in this world) and instant fees (the pay-in-advance
    # world's, billed on both engines by tests/e2e/test_spark_unit_tests.py, `make test-spark`)
    assert all(count > 0 for table, count in compared["billing"].items()
               if table not in ("credit_notes", "instant_fees")), compared
    # the usage alerts fired the same on both engines (their outbox files are compared above)
    assert compared["billing"]["triggered_alerts"] > 0
    # January closed on both engines: its invoices and lines frozen, the month recorded
    assert compared["finalized"]["periods"] == 1, compared["finalized"]
    assert compared["finalized"]["invoices"] > 0 and compared["finalized"]["invoice_lines"] > 0
