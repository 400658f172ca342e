"""Billing months: the partitions of every dbt model, of publishing and of finalization."""
import os

from dagster import MonthlyPartitionsDefinition

PARTITIONS_START = os.environ.get("TALLY_PARTITIONS_START", "2020-01-01")
billing_months = MonthlyPartitionsDefinition(start_date=PARTITIONS_START, end_offset=1)
