"""The finalize_month job: `tally finalize` for a partition's month, from the Dagster UI."""
from datetime import date

from dagster import Config, Definitions, OpExecutionContext, job, op

from orchestration import finalize as finalizer
from orchestration.defs.partitions import billing_months
from orchestration.defs.resources import TallyPaths
from orchestration.lib.warehouse import connect, warehouse_lock


class FinalizeConfig(Config):
    # as `tally finalize --force`: finalize before the grace period (TALLY_GRACE_DAYS) has passed
    force: bool = False


@op
def finalize_billing_month(context: OpExecutionContext, paths: TallyPaths, config: FinalizeConfig) -> None:
    """Finalize the partition's month: its invoices never change again."""
    month = date.fromisoformat(context.partition_key)
    warehouse = paths.warehouse_path()
    with warehouse_lock(warehouse), connect(warehouse) as con:
        done = finalizer.finalize(con, month, date.today(), paths.publish_path(), force=config.force)
    context.log.info(f"{month:%Y-%m} already finalized" if done.already
                     else f"{month:%Y-%m} finalized: {done.invoices} invoices {done.total_by_currency}")


@job(partitions_def=billing_months, description="Finalize a billing month (pick its partition): SPEC §6.")
def finalize_month():
    finalize_billing_month()


defs = Definitions(jobs=[finalize_month])
