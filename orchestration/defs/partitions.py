"""Billing months: the partitions of every dbt model, of publishing and of finalization.

Keys are months as finance writes them (`2026-10`). The first month is TALLY_FIRST_MONTH
(`make dagster` sets it to the month of the earliest landed event, so the UI's month picker
holds the months that exist); without it, 2020-01."""
import os

from dagster import MonthlyPartitionsDefinition

MONTH_FORMAT = "%Y-%m"
FIRST_MONTH = os.environ.get("TALLY_FIRST_MONTH") or "2020-01"
billing_months = MonthlyPartitionsDefinition(start_date=FIRST_MONTH, fmt=MONTH_FORMAT, end_offset=1)
