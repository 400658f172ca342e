"""The dbt models, staging → intermediate → marts, partitioned by billing month: a backfill of N
months is one `dbt build` over the whole range (BackfillPolicy.single_run)."""
import importlib
import threading
from pathlib import Path

from dagster import AssetExecutionContext, BackfillPolicy, Definitions
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets

from orchestration import landing as landing_loader
from orchestration.defs.partitions import billing_months
from orchestration.defs.resources import TallyPaths, dbt_project
from orchestration.lib import build_state
from orchestration.lib.crash import crash_point
from orchestration.lib.dbt import dbt_build, profile_env
from orchestration.lib.warehouse import connect, warehouse_lock
from orchestration.paths import DBT_PROJECT_DIR
from orchestration.prepare import ensure_manifest

# dagster-dbt reads the manifest when the decorator below runs
ensure_manifest()


class BillingTranslator(DagsterDbtTranslator):
    """dbt models are partitioned by billing month: one asset group per layer (billing_staging,
    billing_intermediate, billing_marts, billing_reference for the seed), apart from the
    unpartitioned `landing` group (catalog, raw events)."""

    def get_group_name(self, dbt_resource_props) -> str:
        fqn = dbt_resource_props.get("fqn", [])
        return f"billing_{fqn[1]}" if len(fqn) > 2 else "billing_reference"

    def get_description(self, dbt_resource_props) -> str:
        """The model's docs from its YAML, never its SQL (dagster-dbt's fallback)."""
        text = (dbt_resource_props.get("description") or "").strip()
        return text or f"dbt {dbt_resource_props['resource_type']} `{dbt_resource_props['name']}` " \
                       f"({dbt_resource_props.get('original_file_path', '')})"


# dbt's own data tests run inside `dbt build` and fail it (nothing is published); they are not
# shown as one Dagster check each: the UI's checks are the three data checks finance reads
TRANSLATOR = BillingTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=False))


def _store_window(warehouse: Path, window: dict[str, str]) -> None:
    with connect(warehouse) as con:
        con.execute(landing_loader.RAW_DDL)
        con.execute("begin transaction")
        con.execute("delete from raw.billing_window")
        con.execute("insert into raw.billing_window values (?, ?)", [window["billing_from"], window["billing_to"]])
        con.execute("commit")
        build_state.build_started(con)


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=TRANSLATOR,
    partitions_def=billing_months,
    backfill_policy=BackfillPolicy.single_run(),
)
def billing_models(context: AssetExecutionContext, dbt: DbtCliResource, paths: TallyPaths):
    warehouse = paths.warehouse_path()
    window = context.partition_time_window
    build = dbt_build(window.start, window.end, warehouse, DBT_PROJECT_DIR)
    with warehouse_lock(warehouse):
        _store_window(warehouse, build.window)
        # Great Expectations takes a second or more to import: do it while dbt waits on DuckDB
        # (dbt runs in this process, orchestration/lib/dbt_in_process.py)
        threading.Thread(target=importlib.import_module, args=("great_expectations",), daemon=True).start()
        with profile_env(warehouse):
            # a subset (the refresh job) runs the data tests of its own models only, not those
            # that also read a model it leaves alone (dbt's default, eager, would run them)
            args = [*build.args, *(["--indirect-selection", "cautious"] if context.is_subset else [])]
            for event in dbt.cli(args, context=context, target_path=build.target_path).stream():
                yield event
                crash_point("dbt", type(event).__name__)
        # only a build that finished (stream() raises on a failed one) can be published, and
        # only a build of every model: the refresh job builds current usage alone
        if not context.is_subset:
            with connect(warehouse) as con:
                build_state.build_finished(con, build.window)


defs = Definitions(assets=[billing_models])
