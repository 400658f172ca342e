"""billing/published: the marts merged into the `billing` schema and written out per month."""
from dagster import (
    AssetCheckResult,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    BackfillPolicy,
    Config,
    Definitions,
    MaterializeResult,
    asset,
)
from dagster_dbt import get_asset_key_for_model

from expectations.suites import SUITES
from orchestration import publish as publisher
from orchestration.defs.dbt import billing_models
from orchestration.defs.partitions import billing_months
from orchestration.defs.resources import TallyPaths
from orchestration.lib import build_state
from orchestration.lib.warehouse import connect, warehouse_lock
from orchestration.lib.window import partition_key, partition_window
from orchestration.month_totals import month_totals


class PublishConfig(Config):
    # the pages cost time per customer, not per event: large runs may render them apart
    pages: bool = True
    # the invoice pages printed to PDF by headless Chromium (orchestration/invoice_pdf.py)
    pdf: bool = False


@asset(
    key=AssetKey(["billing", "published"]),
    deps=[get_asset_key_for_model([billing_models], model) for model in publisher.PUBLISHED],
    partitions_def=billing_months,
    backfill_policy=BackfillPolicy.single_run(),
    group_name="publish",
    # the blocking data checks stand on the billing models they read; here, on the page finance
    # looks at, is how they stood for what was published (publishing requires them passed)
    check_specs=[AssetCheckSpec(name=s.check_name, asset=AssetKey(["billing", "published"]),
                                description=s.description) for s in SUITES],
)
def published_billing(context: AssetExecutionContext, config: PublishConfig,
                      paths: TallyPaths) -> MaterializeResult:
    """The months' invoices, swapped into the `billing` schema and written out as Parquet and CSV
    per month. Each month shows its invoices, its totals per currency and whether it is closed."""
    window = context.partition_time_window
    warehouse = paths.warehouse_path()
    with warehouse_lock(warehouse), connect(warehouse) as con:
        build_state.require_publishable(con, partition_window(window.start, window.end))
        stats = publisher.publish(con, window.start.date(), window.end.date(), paths.publish_path(),
                                  pages=config.pages, pdf=config.pdf)
        months = month_totals(con, window.start.date(), previous_day(window.end).date())
    for month in months:
        context.add_asset_metadata(month.metadata(), partition_key=partition_key(month.month))
    checks = [AssetCheckResult(check_name=s.check_name, passed=True,
                               description=f"passed before publishing ({s.description})") for s in SUITES]
    return MaterializeResult(metadata={"files": stats.get("files", 0)}, check_results=checks)


def previous_day(moment):
    from datetime import timedelta
    return moment - timedelta(days=1)


defs = Definitions(assets=[published_billing])
