"""`make test-spark` (CI runs it after `make test`): three more worlds on Apache Spark, and the dbt
unit tests on Spark.

The small hand-worked world (tests/fixtures/small, with its invoice pages and October closed by
`tally finalize --force` on both engines), the pay-in-advance world
(tests/e2e/pay_in_advance_world.py: instant fees and their invoices) and the conservation world
of tests/e2e/test_conservation.py, smaller (the bench's catalog: prorated seats, instant fees on
daily invoices, dynamic amounts, fixed charges beside every aggregation, filters, groups and
thresholds; a Parquet file with re-sends and bad rows) are billed on DuckDB and with `tally run
--engine spark`, and publish the same (as test_spark_parity.py's generated world, which `make
test` bills). Then every dbt unit test but those of
the models Spark builds in steps (tests/spark_build.py: unit_tests_left_out) passes on the
`spark` target too: on DuckDB they run in `make test` (test_dbt_unit_tests.py); here they prove
each model's SQL means the same on Spark (a unit test reads its parents' column types, hence the
world billed first)."""
from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from tests.e2e.test_conservation import write_world as write_kinds_world
from tests.e2e.test_spark_parity import bill_advance, bill_small, check_world, on_spark, spark_missing
from tests.helpers import SMALL_CATALOG, tally

pytestmark = pytest.mark.spark_unit

# the conservation test's world (the bench catalog: every kind of issue 17 beside the rest), small
KINDS_CUSTOMERS, KINDS_EVENTS = 24, 6_000


def bill_kinds(base: Path) -> dict:
    catalog, landing = write_kinds_world(base, KINDS_CUSTOMERS, KINDS_EVENTS)
    tally("run", "--catalog", str(catalog), "--landing", str(landing), "--warehouse", str(base / "w.duckdb"),
          "--from", "2026-10", "--to", "2026-11", "--no-pages", "--publish", str(base / "published"))
    return {"catalog": str(catalog), "landing": str(landing), "warehouse": str(base / "w.duckdb"),
            "publish": str(base / "published"), "from": "2026-10", "to": "2026-11"}


@pytest.fixture(scope="module")
def advance_on_both(tmp_path_factory) -> dict:
    reason = spark_missing()
    if reason:
        pytest.skip(reason)
    base = tmp_path_factory.mktemp("spark_advance")
    runs = [{"name": "advance", **bill_advance(base / "advance"), "from": "2026-09", "to": "2026-09", "pages": False},
            {"name": "kinds", **bill_kinds(base / "kinds"), "pages": False},
            {"name": "small", **bill_small(base / "small", SMALL_CATALOG, finalize=True), "from": "2026-10",
             "to": "2026-10", "finalize": "2026-10"}]
    return on_spark(base, runs, unit_tests=True)


def test_small_world_publishes_the_same_on_spark(advance_on_both):
    """The hand-worked small world with its invoice pages, October closed on both engines."""
    compared = check_world(advance_on_both, "small")
    assert compared["billing"]["invoices"] == 4 and compared["billing"]["invoice_lines"] == 11
    assert compared["billing"]["quarantined_events"] == 11 and compared["billing"]["usage"] > 0
    assert compared["files"] > 6  # 6 month files and the pages
    # October closed on both engines: its 4 invoices and 11 lines frozen, the month recorded
    assert compared["finalized"]["invoices"] == 4 and compared["finalized"]["invoice_lines"] == 11
    assert compared["finalized"]["periods"] == 1


def test_pay_in_advance_world_publishes_the_same_on_spark(advance_on_both):
    compared = check_world(advance_on_both, "advance")
    assert compared["billing"]["instant_fees"] == 56 and compared["billing"]["invoices"] > 14


def test_every_kind_of_charge_publishes_the_same_on_spark(advance_on_both):
    """Prorated seats, instant fees on daily invoices, dynamic amounts, fixed charges, with every
    aggregation, filters, groups and thresholds (the conservation world, smaller)."""
    compared = check_world(advance_on_both, "kinds")
    assert compared["billing"]["instant_fees"] > 100
    with duckdb.connect(advance_on_both["runs"]["kinds"]["warehouse_duckdb"], read_only=True) as con:
        kinds = dict(con.execute("""select fee_type, count(*) from billing.invoice_lines group by 1""").fetchall())
        prorated, dynamic = con.execute("""select count(*) filter (where charge_id = 'ch_teamseat_users'),
                                                  count(*) filter (where charge_id like '%_llm')
                                           from billing.invoice_lines where amount > 0""").fetchone()
    # 4 enterprise-seat subscriptions (customers 5, 11, 17, 23): a platform fee and contracted
    # seats on each of two closing invoices
    assert kinds["fixed_charge"] == 16 and prorated >= 6 and dynamic >= 12


def test_dbt_unit_tests_pass_on_spark(advance_on_both):
    first = advance_on_both["summary"]["advance"]
    print(f"{first['unit_tests']} dbt unit tests on Spark in {first['unit_test_seconds']:.0f} s")
    assert first["unit_tests"] > 100 and first["unit_test_failures"] == []
