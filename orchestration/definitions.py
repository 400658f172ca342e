"""Dagster definitions: the one code path for `tally run` and `dagster dev`
(`dagster dev -m orchestration.definitions`). Each asset family lives in orchestration/defs/,
upstream to downstream:

  catalog      catalog/*: the pricing catalog, validated and flattened (unpartitioned)
  landing      raw/events: new landing files, loaded once each (unpartitioned)
  dbt          dbt models, partitioned by billing month, one `dbt build` per range
  checks       gx_* Great Expectations suites, blocking: a failing suite stops publishing
  publish      billing/published: the marts merged into `billing` and written out per month
  current_usage billing/current_usage: the open periods so far, usage alerts (the refresh job)
  finalize     the finalize_month job
  simulation   the simulate_pricing job (`tally simulate`)
  automation   the billing jobs, schedules and the landing sensor
"""
from dagster import Definitions, in_process_executor

from orchestration.defs import (
    automation,
    catalog,
    checks,
    current_usage,
    dbt,
    finalize,
    landing,
    publish,
    simulation,
)
from orchestration.defs.resources import resources

defs = Definitions.merge(
    catalog.defs, landing.defs, dbt.defs, checks.defs, publish.defs, current_usage.defs, finalize.defs,
    simulation.defs, automation.defs,
    # one process per run: every step writes the one DuckDB warehouse under its lock, so steps
    # in processes of their own would only wait for each other, each re-importing the definitions
    Definitions(resources=resources(), executor=in_process_executor),
)
