"""The dbt invocation of a billing run and the window it builds, without running dbt."""
from __future__ import annotations

import os
from datetime import UTC, date, datetime
from pathlib import Path

from orchestration.lib.dbt import dbt_build, profile_env
from orchestration.lib.window import run_window

PROJECT = Path("/repo/dbt_project")
WAREHOUSE = Path("/data/a/tally.duckdb")


def month(year: int, m: int) -> datetime:
    return datetime(year, m, 1, tzinfo=UTC)  # Dagster's partition bounds are UTC instants


def test_one_month_is_one_build_of_models_and_data_tests():
    build = dbt_build(month(2026, 10), month(2026, 11), WAREHOUSE, PROJECT)
    assert build.args == ["build", "--exclude", "test_type:unit", "--log-level-file", "warn"]
    assert build.window == {"billing_from": "2026-10-01", "billing_to": "2026-11-01"}
    assert build.target_path == Path("/repo/dbt_project/target/warehouses/aa2fefdd0b591264")


def test_a_range_over_the_year_end_is_still_one_build():
    build = dbt_build(month(2026, 11), month(2027, 2), WAREHOUSE, PROJECT)
    assert build.args == ["build", "--exclude", "test_type:unit", "--log-level-file", "warn"]
    assert build.window == {"billing_from": "2026-11-01", "billing_to": "2027-02-01"}


def test_the_window_never_reaches_the_arguments():
    # --vars would make dbt parse the whole project again on every new window
    one = dbt_build(month(2026, 9), month(2026, 10), WAREHOUSE, PROJECT)
    other = dbt_build(month(2024, 1), month(2026, 12), WAREHOUSE, PROJECT)
    assert one.args == other.args
    assert not any(a.startswith(("--vars", "--select", "-s")) for a in one.args)
    one.args.append("--full-refresh")  # each build has its own list
    assert dbt_build(month(2026, 9), month(2026, 10), WAREHOUSE, PROJECT).args == \
        ["build", "--exclude", "test_type:unit", "--log-level-file", "warn"]


def test_each_warehouse_keeps_its_own_target_folder():
    a = dbt_build(month(2026, 10), month(2026, 11), WAREHOUSE, PROJECT).target_path
    b = dbt_build(month(2026, 10), month(2026, 11), Path("/data/b/tally.duckdb"), PROJECT).target_path
    assert a == dbt_build(month(2020, 1), month(2020, 2), WAREHOUSE, PROJECT).target_path
    assert b == Path("/repo/dbt_project/target/warehouses/0f3bc3c97e40f860")
    assert a != b


def test_checks_find_the_window_in_the_run_tags():
    today = date(2026, 11, 15)
    ranged = {"dagster/asset_partition_range_start": "2026-09",
              "dagster/asset_partition_range_end": "2026-11"}
    assert run_window(ranged, today) == {"billing_from": "2026-09-01", "billing_to": "2026-12-01"}
    assert run_window({"dagster/partition": "2026-12"}, today) == \
        {"billing_from": "2026-12-01", "billing_to": "2027-01-01"}
    assert run_window({}, today) == {"billing_from": "2026-11-01", "billing_to": "2026-12-01"}


def test_dbt_sees_the_warehouse_only_for_the_call(monkeypatch):
    monkeypatch.setenv("TALLY_WAREHOUSE", "/elsewhere.duckdb")
    with profile_env(WAREHOUSE):
        assert os.environ["TALLY_WAREHOUSE"] == str(WAREHOUSE)
    assert os.environ["TALLY_WAREHOUSE"] == "/elsewhere.duckdb"
    monkeypatch.delenv("TALLY_WAREHOUSE")
    with profile_env(WAREHOUSE):
        assert os.environ["TALLY_WAREHOUSE"] == str(WAREHOUSE)
    assert "TALLY_WAREHOUSE" not in os.environ
