"""billing/current_usage: every open period's usage and amount so far, published by the small
`refresh_current_usage` job the `new_landing_files` sensor starts when a file lands: the new
events, their daily meters and the open periods only (fct_current_usage and what it reads),
then the usage alerts, shown as the `usage_alerts` check."""
from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    AssetSelection,
    Config,
    Definitions,
    MaterializeResult,
    asset,
)
from dagster_dbt import build_dbt_asset_selection, get_asset_key_for_model

from orchestration import current_usage as current
from orchestration.defs.catalog import pricing_catalog
from orchestration.defs.dbt import billing_models
from orchestration.defs.landing import landed_events
from orchestration.defs.resources import TallyPaths
from orchestration.invoice_pages import render_pages
from orchestration.lib.warehouse import connect, warehouse_lock
from orchestration.publish import PUBLISHED

CURRENT_USAGE = AssetKey(["billing", "current_usage"])


class CurrentUsageConfig(Config):
    # the customer pages show the open period: render them again (they cost time per customer)
    pages: bool = True


@asset(
    key=CURRENT_USAGE,
    deps=[get_asset_key_for_model([billing_models], "fct_current_usage")],
    group_name="publish",
    check_specs=[AssetCheckSpec(
        name="usage_alerts", asset=CURRENT_USAGE,
        description="Warns when usage alerts (alerts.csv) fired on this refresh: each threshold once per "
                    "period; the alerts are in billing.triggered_alerts and <publish>/alerts/*.jsonl.")],
)
def current_usage(context: AssetExecutionContext, config: CurrentUsageConfig, paths: TallyPaths) -> MaterializeResult:
    """billing.current_usage replaced whole from fct_current_usage; then the usage alerts and the pages."""
    warehouse, out_dir = paths.warehouse_path(), paths.publish_path()
    with warehouse_lock(warehouse), connect(warehouse) as con:
        rows = current.replace_current_usage(con)
        as_of = con.execute(f"select max(as_of) from {current.TABLE}").fetchone()[0]
        fired = current.after_current_usage(con, out_dir)
        if config.pages:
            current.ensure_published_tables(con, PUBLISHED)  # before the first billing run
            render_pages(con, out_dir)
    shown = [f"{a.alert_code} on {a.external_subscription_id}: {a.threshold_value} crossed at {a.value} "
             f"({a.crossed_at:%Y-%m-%d %H:%M:%S} UTC)" for a in fired]
    check = AssetCheckResult(
        check_name="usage_alerts", passed=not fired, severity=AssetCheckSeverity.WARN,
        description=f"{len(fired)} alert(s) fired" if fired else "no alert fired",
        metadata={"fired": len(fired), "alerts": "\n".join(shown) or "-"})
    return MaterializeResult(metadata={"rows": rows, "as_of": str(as_of)}, check_results=[check])


# what a landed file starts: its events, their daily meters and the open periods, nothing billed
# before them (fct_current_usage and the models it reads), then billing/current_usage and its check
REFRESH_ASSETS = (pricing_catalog, landed_events, billing_models, current_usage)
REFRESH_SELECTION = (
    (AssetSelection.assets(pricing_catalog, landed_events)
     | build_dbt_asset_selection([billing_models], dbt_select="+fct_current_usage")
     | AssetSelection.assets(current_usage)).without_checks()
    | AssetSelection.checks_for_assets(current_usage))

defs = Definitions(assets=[current_usage])
