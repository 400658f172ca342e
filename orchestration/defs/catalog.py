"""catalog/*: the pricing catalog, validated and flattened (unpartitioned, group `landing`)."""
from dagster import AssetExecutionContext, AssetKey, AssetSpec, Definitions, MaterializeResult, multi_asset

from orchestration import catalog as catalog_loader
from orchestration import rating_state
from orchestration.defs.resources import TallyPaths
from orchestration.lib.warehouse import connect, warehouse_lock

CATALOG_TABLES = list(catalog_loader.SCHEMAS)


@multi_asset(
    specs=[AssetSpec(AssetKey(["catalog", t]), group_name="landing") for t in CATALOG_TABLES],
    can_subset=False,
)
def pricing_catalog(context: AssetExecutionContext, paths: TallyPaths):
    """Validate the catalog folder and replace the catalog schema in one transaction."""
    warehouse = paths.warehouse_path()
    with warehouse_lock(warehouse), connect(warehouse) as con:
        validated = catalog_loader.validate(paths.catalog_path())
        counts = catalog_loader.write(con, validated)
        for warning in validated.warnings:
            context.log.warning(f"catalog: {warning}")
        if rating_state.invalidate_if_catalog_changed(con):
            context.log.info("rating catalog changed: every landed event is rated again")
    for table in CATALOG_TABLES:
        yield MaterializeResult(asset_key=AssetKey(["catalog", table]), metadata={"rows": counts.get(table, 0)})


defs = Definitions(assets=[pricing_catalog])
