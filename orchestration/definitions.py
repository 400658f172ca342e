"""Dagster definitions: the one code path for `tally run` and `dagster dev`
(`dagster dev -m orchestration.definitions`). Each asset family lives in orchestration/defs/,
upstream to downstream:

  catalog      catalog/*: the pricing catalog, validated and flattened (unpartitioned)
  landing      raw/events: new landing files, loaded once each (unpartitioned)
  dbt          dbt models, partitioned by billing month, one `dbt build` per range
  checks       gx_* Great Expectations suites, blocking: a failing suite stops publishing
  publish      billing/published: the marts merged into `billing` and written out per month
  finalize     the finalize_month job
  automation   the billing jobs, schedules and the landing sensor
"""
from dagster import Definitions

from orchestration.defs import automation, catalog, checks, dbt, finalize, landing, publish
from orchestration.defs.resources import resources

defs = Definitions.merge(
    catalog.defs, landing.defs, dbt.defs, checks.defs, publish.defs, finalize.defs, automation.defs,
    Definitions(resources=resources()),
)
