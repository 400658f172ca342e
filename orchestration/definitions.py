"""Dagster definitions: the one code path for `tally run` and `dagster dev`.

Assets, upstream to downstream:
  catalog/*      the pricing catalog, validated and flattened (unpartitioned)
  raw/events     new landing files, loaded once each (unpartitioned)
  dbt models     staging → intermediate → marts, partitioned by billing month; a backfill of
                 N months is one `dbt build` over the whole range (BackfillPolicy.single_run)
  gx_* checks   Great Expectations suites (expectations/) on stg_events, int_usage_by_period
                 and fct_invoices: blocking, so a failing suite stops publishing
  billing/published  the marts merged into the `billing` schema and written out per month
"""
import importlib
import os
import threading
from datetime import date
from pathlib import Path

import duckdb
from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    BackfillPolicy,
    Definitions,
    MaterializeResult,
    MonthlyPartitionsDefinition,
    OpExecutionContext,
    asset,
    define_asset_job,
    job,
    multi_asset,
    multi_asset_check,
    op,
)
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets, get_asset_key_for_model

from expectations.suites import SUITES
from orchestration import automation
from orchestration import catalog as catalog_loader
from orchestration import finalize as finalizer
from orchestration import landing as landing_loader
from orchestration import publish as publisher
from orchestration import rating_state
from orchestration.lib.dbt import dbt_build
from orchestration.lib.warehouse import connect, warehouse_lock
from orchestration.lib.window import run_window
from orchestration.prepare import dbt_executable, ensure_manifest
from orchestration.paths import DBT_PROJECT_DIR, DEFAULT_CATALOG, DEFAULT_LANDING, DEFAULT_PUBLISH, warehouse_path

PARTITIONS_START = os.environ.get("TALLY_PARTITIONS_START", "2020-01-01")
billing_months = MonthlyPartitionsDefinition(start_date=PARTITIONS_START, end_offset=1)

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


ensure_manifest()

CATALOG_TABLES = list(catalog_loader.SCHEMAS)


def _path(env: str, default: Path) -> Path:
    return Path(os.environ.get(env, str(default))).resolve()


@multi_asset(
    specs=[AssetSpec(AssetKey(["catalog", t]), group_name="landing") for t in CATALOG_TABLES],
    can_subset=False,
)
def pricing_catalog(context: AssetExecutionContext):
    """Validate the catalog folder (TALLY_CATALOG) and replace the catalog schema in one transaction."""
    folder = _path("TALLY_CATALOG", DEFAULT_CATALOG)
    with duckdb.connect(str(warehouse_path())) as con:
        counts = catalog_loader.load(con, folder)
        if rating_state.invalidate_if_catalog_changed(con):
            context.log.info("rating catalog changed: every landed event is rated again")
    for table in CATALOG_TABLES:
        yield MaterializeResult(asset_key=AssetKey(["catalog", table]), metadata={"rows": counts.get(table, 0)})


@multi_asset(
    specs=[AssetSpec(AssetKey(["raw", "events"]), group_name="landing"),
           AssetSpec(AssetKey(["raw", "landing_files"]), group_name="landing")],
    can_subset=False,
)
def landed_events(context: AssetExecutionContext):
    """Load new files of the landing folder (TALLY_LANDING); files already in the manifest are skipped."""
    folder = _path("TALLY_LANDING", DEFAULT_LANDING)
    with connect(warehouse_path(), bounded_memory=True) as con:
        result = landing_loader.load(con, folder)
    meta = {"files_loaded": len(result.loaded), "rows_loaded": result.rows, "files_skipped": len(result.skipped)}
    yield MaterializeResult(asset_key=AssetKey(["raw", "events"]), metadata=meta)
    yield MaterializeResult(asset_key=AssetKey(["raw", "landing_files"]), metadata=meta)


class BillingTranslator(DagsterDbtTranslator):
    """dbt models are partitioned by billing month: one asset group per layer (billing_staging,
    billing_intermediate, billing_marts, billing_reference for the seed), apart from the
    unpartitioned `landing` group (catalog, raw events)."""

    def get_group_name(self, dbt_resource_props) -> str:
        fqn = dbt_resource_props.get("fqn", [])
        return f"billing_{fqn[1]}" if len(fqn) > 2 else "billing_reference"


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=BillingTranslator(),
    partitions_def=billing_months,
    backfill_policy=BackfillPolicy.single_run(),
)
def billing_models(context: AssetExecutionContext, dbt: DbtCliResource):
    window = context.partition_time_window
    build = dbt_build(window.start, window.end, warehouse_path(), DBT_PROJECT_DIR)
    with duckdb.connect(str(warehouse_path())) as con:
        con.execute(landing_loader.RAW_DDL)
        con.execute("begin transaction")
        con.execute("delete from raw.billing_window")
        con.execute("insert into raw.billing_window values (?, ?)",
                    [build.window["billing_from"], build.window["billing_to"]])
        con.execute("commit")
    # Great Expectations takes seconds to import: do it while dbt works in its own process
    threading.Thread(target=importlib.import_module, args=("great_expectations",), daemon=True).start()
    yield from dbt.cli(build.args, context=context, target_path=build.target_path).stream()


def _checked_model(suite) -> AssetKey:
    return get_asset_key_for_model([billing_models], suite.model)


@multi_asset_check(
    specs=[AssetCheckSpec(name=f"gx_{s.name}", asset=_checked_model(s), blocking=True,
                          description=f"Great Expectations suite `{s.name}` (expectations/suites.py)")
           for s in SUITES],
    can_subset=False,
)
def great_expectations_gates(context: AssetCheckExecutionContext):
    """Validate the window with every suite; Data Docs go to <publish>/data_docs either way."""
    from expectations.gate import validate
    window = run_window(context.run.tags, date.today())
    docs = _path("TALLY_PUBLISH", DEFAULT_PUBLISH) / "data_docs"
    for suite, result in zip(SUITES, validate(warehouse_path(), window, docs_dir=docs), strict=True):
        yield AssetCheckResult(
            asset_key=_checked_model(suite), check_name=f"gx_{suite.name}", passed=result.success,
            severity=AssetCheckSeverity.ERROR, description=result.describe(),
            metadata={"rows": result.rows, "expectations": result.evaluated,
                      "failed_expectations": [str(f) for f in result.failures], **window})


@asset(
    key=AssetKey(["billing", "published"]),
    deps=[get_asset_key_for_model([billing_models], model) for model in publisher.PUBLISHED],
    partitions_def=billing_months,
    backfill_policy=BackfillPolicy.single_run(),
    group_name="publish",
)
def published_billing(context: AssetExecutionContext) -> MaterializeResult:
    """Swap the window's invoices into the `billing` schema and write Parquet/CSV per month."""
    window = context.partition_time_window
    start, end = window.start.date(), window.end.date()
    out = _path("TALLY_PUBLISH", DEFAULT_PUBLISH)
    with duckdb.connect(str(warehouse_path())) as con:
        stats = publisher.publish(con, start, end, out, pages=os.environ.get("TALLY_PAGES", "1") != "0")
    return MaterializeResult(metadata=stats)


@op
def finalize_billing_month(context: OpExecutionContext) -> None:
    """`tally finalize` for the partition's month: its invoices never change again."""
    month = date.fromisoformat(context.partition_key)
    warehouse = warehouse_path()
    with warehouse_lock(warehouse), duckdb.connect(str(warehouse)) as con:
        done = finalizer.finalize(con, month, date.today(), _path("TALLY_PUBLISH", DEFAULT_PUBLISH))
    context.log.info(f"{month:%Y-%m} already finalized" if done.already
                     else f"{month:%Y-%m} finalized: {done.invoices} invoices {done.total_by_currency}")


@job(partitions_def=billing_months, description="Finalize a billing month (pick its partition): SPEC §6.")
def finalize_month():
    finalize_billing_month()


billing_job = define_asset_job("monthly_billing", selection="*", partitions_def=billing_months)
more_jobs, schedules, sensors = automation.build(pricing_catalog, landed_events, billing_models, billing_job,
                                                 billing_months)

defs = Definitions(
    assets=[pricing_catalog, landed_events, billing_models, published_billing],
    asset_checks=[great_expectations_gates],
    jobs=[billing_job, finalize_month, *more_jobs],
    schedules=schedules,
    sensors=sensors,
    resources={"dbt": DbtCliResource(project_dir=dbt_project, profiles_dir=str(DBT_PROJECT_DIR),
                                     dbt_executable=dbt_executable())},
)
