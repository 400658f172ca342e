"""`make test-spark` (CI runs it after `make test`): the pay-in-advance world on Apache Spark, and
the dbt unit tests on Spark.

The pay-in-advance world (tests/e2e/pay_in_advance_world.py: instant fees and their invoices) is
billed on DuckDB and with `tally run --engine spark`, and publishes the same (as
test_spark_parity.py's worlds, which `make test` bills). Then every dbt unit test but those of
the models Spark builds in steps (tests/spark_build.py: unit_tests_left_out) passes on the
`spark` target too: on DuckDB they run in `make test` (test_dbt_unit_tests.py); here they prove
each model's SQL means the same on Spark (a unit test reads its parents' column types, hence the
world billed first)."""
from __future__ import annotations

import pytest

from tests.e2e.test_spark_parity import bill_advance, check_world, run_on_spark, spark_missing

pytestmark = pytest.mark.spark_unit


@pytest.fixture(scope="module")
def advance_on_both(tmp_path_factory) -> dict:
    reason = spark_missing()
    if reason:
        pytest.skip(reason)
    base = tmp_path_factory.mktemp("spark_advance")
    run = {"name": "advance", **bill_advance(base / "advance"), "from": "2026-09", "to": "2026-09", "pages": False}
    run["publish_duckdb"], run["publish"] = run["publish"], str(base / "advance" / "published_spark")
    run["warehouse_duckdb"], run["warehouse"] = run["warehouse"], str(base / "advance" / "spark.duckdb")
    summary, _ = run_on_spark(base, [run], unit_tests=True)
    return {"runs": {"advance": run}, "out": base / "out", "summary": summary}


def test_pay_in_advance_world_publishes_the_same_on_spark(advance_on_both):
    compared = check_world(advance_on_both, "advance")
    assert compared["billing"]["instant_fees"] == 56 and compared["billing"]["invoices"] > 14


def test_dbt_unit_tests_pass_on_spark(advance_on_both):
    first = advance_on_both["summary"]["advance"]
    print(f"{first['unit_tests']} dbt unit tests on Spark in {first['unit_test_seconds']:.0f} s")
    assert first["unit_tests"] > 100 and first["unit_test_failures"] == []
