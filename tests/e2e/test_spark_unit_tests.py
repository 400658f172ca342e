"""The dbt unit tests on Apache Spark (`make test-spark`, which CI runs after `make test`): every
unit test but those of the models Spark builds in steps (tests/spark_build.py:
unit_tests_left_out) passes on the `spark` target too. On DuckDB they run in `make test`
(test_dbt_unit_tests.py); here they prove each model's SQL means the same on Spark, after the
small world has been billed on Spark (a unit test reads its parents' column types)."""
from __future__ import annotations

import pytest

from tests.e2e.test_spark_parity import bill_small, run_on_spark, spark_missing

pytestmark = pytest.mark.spark_unit


def test_dbt_unit_tests_pass_on_spark(tmp_path, small_catalog):
    reason = spark_missing()
    if reason:
        pytest.skip(reason)
    small = bill_small(tmp_path / "small", small_catalog)
    run = {"name": "small", **small, "from": "2026-10", "to": "2026-10", "pages": False,
           "publish": str(tmp_path / "published_spark"), "warehouse": str(tmp_path / "spark.duckdb")}
    summary, _ = run_on_spark(tmp_path, [run], unit_tests=True)
    first = summary["small"]
    print(f"{first['unit_tests']} dbt unit tests on Spark in {first['unit_test_seconds']:.0f} s")
    assert first["unit_tests"] > 100 and first["unit_test_failures"] == []
