"""billing/finalized and the finalize_month job: `tally finalize` for a partition's month, from
the Dagster UI. A materialized partition of billing/finalized is a closed month; its metadata
holds the closed totals, formatted as money."""
from datetime import date

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetMaterialization,
    Config,
    Definitions,
    MaterializeResult,
    asset,
    define_asset_job,
)

from orchestration import finalize as finalizer
from orchestration.defs.partitions import billing_months
from orchestration.defs.resources import TallyPaths
from orchestration.lib.warehouse import connect, warehouse_lock
from orchestration.lib.window import partition_key, partition_month
from orchestration.month_totals import month_totals

FINALIZED = AssetKey(["billing", "finalized"])


class FinalizeConfig(Config):
    # as `tally finalize --force`: finalize before the grace period (TALLY_GRACE_DAYS) has passed
    force: bool = False
    # as `tally finalize --pdf`: the month's invoice pages printed to PDF (headless Chromium)
    pdf: bool = False


def closed_month_metadata(con, month: date, done: finalizer.Finalized) -> dict:
    """What finance reads on a closed month: its invoices and totals per currency, as money."""
    meta = month_totals(con, month, month)[0].metadata()
    meta["closed"] = "already finalized: nothing changed" if done.already else f"finalized on {date.today()}"
    return meta


@asset(key=FINALIZED, deps=[AssetKey(["billing", "published"])], partitions_def=billing_months,
       group_name="publish")
def finalized_month(context: AssetExecutionContext, paths: TallyPaths, config: FinalizeConfig) -> MaterializeResult:
    """Close the month: its invoices get status `finalized` and never change again; re-running it
    later writes adjustments. A materialized month here is a closed month (SPEC §6)."""
    month = partition_month(context.partition_key)
    warehouse = paths.warehouse_path()
    with warehouse_lock(warehouse), connect(warehouse) as con:
        done = finalizer.finalize(con, month, date.today(), paths.publish_path(), force=config.force,
                                   pdf=config.pdf)
        meta = closed_month_metadata(con, month, done)
    totals = ", ".join(v for k, v in meta.items() if k.startswith("total "))
    context.log.info(f"{month:%Y-%m} already finalized" if done.already
                     else f"{month:%Y-%m} finalized: {done.invoices} invoices, {totals}")
    return MaterializeResult(metadata=meta)


def record_cli_finalize(con, month: date, done: finalizer.Finalized) -> None:
    """`tally finalize` records the close in the Dagster instance the UI reads (DAGSTER_HOME), as
    the job would: the UI and the CLI show one history."""
    import os

    if not os.environ.get("DAGSTER_HOME"):
        return
    from dagster import DagsterInstance
    meta = closed_month_metadata(con, month, done)
    with DagsterInstance.get() as instance:
        instance.report_runless_asset_event(
            AssetMaterialization(asset_key=FINALIZED, partition=partition_key(month), metadata=meta,
                                 description="tally finalize"))


finalize_month = define_asset_job(
    "finalize_month", selection=[FINALIZED], partitions_def=billing_months,
    description="Close a billing month: pick the month, launch. Its invoices never change again; "
                "the month shows as materialized on billing/finalized.")

defs = Definitions(assets=[finalized_month], jobs=[finalize_month])
