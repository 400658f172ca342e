"""billing/published: the marts merged into the `billing` schema and written out per month."""
from dagster import (
    AssetExecutionContext,
    AssetKey,
    BackfillPolicy,
    Config,
    Definitions,
    MaterializeResult,
    asset,
)
from dagster_dbt import get_asset_key_for_model

from orchestration import publish as publisher
from orchestration.defs.dbt import billing_models
from orchestration.defs.partitions import billing_months
from orchestration.defs.resources import TallyPaths
from orchestration.lib import build_state
from orchestration.lib.warehouse import connect, warehouse_lock
from orchestration.lib.window import partition_window


class PublishConfig(Config):
    # the pages cost time per customer, not per event: large runs may render them apart
    pages: bool = True


@asset(
    key=AssetKey(["billing", "published"]),
    deps=[get_asset_key_for_model([billing_models], model) for model in publisher.PUBLISHED],
    partitions_def=billing_months,
    backfill_policy=BackfillPolicy.single_run(),
    group_name="publish",
)
def published_billing(context: AssetExecutionContext, config: PublishConfig,
                      paths: TallyPaths) -> MaterializeResult:
    """Swap the window's invoices into the `billing` schema and write Parquet/CSV per month."""
    window = context.partition_time_window
    warehouse = paths.warehouse_path()
    with warehouse_lock(warehouse), connect(warehouse) as con:
        build_state.require_publishable(con, partition_window(window.start, window.end))
        stats = publisher.publish(con, window.start.date(), window.end.date(), paths.publish_path(),
                                  pages=config.pages)
    return MaterializeResult(metadata=stats)


defs = Definitions(assets=[published_billing])
