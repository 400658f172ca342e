"""The billing window of a run: [first month, month after the last), as ISO dates, the form
dbt (raw.billing_window) and the Great Expectations queries read."""
from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime

from orchestration.lib.months import month_start, next_month

# the tags Dagster puts on a run of one partition, or of a range (a single-run backfill)
PARTITION_TAG = "dagster/partition"
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"


def partition_window(start: datetime, end: datetime) -> dict[str, str]:
    """The window of a partition time window (or range): Dagster's end is already exclusive."""
    return {"billing_from": start.strftime("%Y-%m-%d"), "billing_to": end.strftime("%Y-%m-%d")}


def run_window(tags: Mapping[str, str], today: date) -> dict[str, str]:
    """The window of the run carrying these tags; a run without a partition (checks launched
    alone) gets the current month."""
    first = tags.get(RANGE_START_TAG) or tags.get(PARTITION_TAG)
    last = tags.get(RANGE_END_TAG) or first
    if first is None:
        first = last = month_start(today).isoformat()
    return {"billing_from": partition_month(first).isoformat(),
            "billing_to": next_month(partition_month(last)).isoformat()}


def partition_month(key: str) -> date:
    """The first day of a partition key's month: `2026-10` (the billing months' keys)."""
    return date.fromisoformat(f"{key[:7]}-01")


def partition_key(month: date) -> str:
    return month.strftime("%Y-%m")
