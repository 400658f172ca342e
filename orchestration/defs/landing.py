"""raw/events and raw/landing_files: new landing files, loaded once each (unpartitioned)."""
from dagster import AssetKey, AssetSpec, Definitions, MaterializeResult, multi_asset

from orchestration import landing as landing_loader
from orchestration.defs.resources import TallyPaths
from orchestration.lib.warehouse import connect, warehouse_lock


@multi_asset(
    specs=[AssetSpec(AssetKey(["raw", "events"]), group_name="landing"),
           AssetSpec(AssetKey(["raw", "landing_files"]), group_name="landing")],
    can_subset=False,
)
def landed_events(paths: TallyPaths):
    """Load new files of the landing folder; files already in the manifest are skipped."""
    warehouse = paths.warehouse_path()
    with warehouse_lock(warehouse), connect(warehouse, bounded_memory=True) as con:
        result = landing_loader.load(con, paths.landing_path())
    meta = {"files_loaded": len(result.loaded), "rows_loaded": result.rows, "files_skipped": len(result.skipped)}
    yield MaterializeResult(asset_key=AssetKey(["raw", "events"]), metadata=meta)
    yield MaterializeResult(asset_key=AssetKey(["raw", "landing_files"]), metadata=meta)


defs = Definitions(assets=[landed_events])
