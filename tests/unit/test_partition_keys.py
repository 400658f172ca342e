"""Billing months as partition keys (`2026-10`) and the windows runs read from them."""
from datetime import date

import pytest

from orchestration.lib.window import partition_key, partition_month, run_window


@pytest.mark.parametrize(("month", "key"), [(date(2026, 10, 1), "2026-10"), (date(2027, 1, 1), "2027-01"),
                                            (date(2024, 12, 1), "2024-12")])
def test_a_month_and_its_key_round_trip(month, key):
    assert partition_key(month) == key
    assert partition_month(key) == month


def test_a_december_window_ends_on_the_next_new_year():
    window = run_window({"dagster/asset_partition_range_start": "2026-11",
                         "dagster/asset_partition_range_end": "2026-12"}, date(2027, 3, 3))
    assert window == {"billing_from": "2026-11-01", "billing_to": "2027-01-01"}


def test_the_first_month_is_the_earliest_landed_event(tmp_path):
    import duckdb

    from orchestration.first_month import first_month
    warehouse = tmp_path / "w.duckdb"
    assert first_month(warehouse, date(2026, 12, 6)) is None  # no warehouse yet
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema raw")
        con.execute("create table raw.events (event_at timestamp, rejection_reason varchar)")
    assert first_month(warehouse, date(2026, 12, 6)) is None  # nothing landed
    with duckdb.connect(str(warehouse)) as con:
        con.execute("insert into raw.events values ('2026-09-30 23:59:59', null), ('2026-08-01', 'bad_timestamp'), "
                    "('2026-11-02', null)")
    # the quarantined August event does not open a month
    assert first_month(warehouse, date(2026, 12, 6)) == "2026-09"
