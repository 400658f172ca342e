"""The data checks: the Great Expectations suites (expectations/) on stg_events, int_usage_by_period
and fct_invoices. Blocking: a failing suite stops publishing."""
from datetime import date

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetKey,
    Definitions,
    multi_asset_check,
)
from dagster_dbt import get_asset_key_for_model

from expectations.suites import SUITES
from orchestration.defs.dbt import billing_models
from orchestration.defs.resources import TallyPaths
from orchestration.lib import build_state
from orchestration.lib.warehouse import connect, warehouse_lock
from orchestration.lib.window import run_window


def _checked_model(suite) -> AssetKey:
    return get_asset_key_for_model([billing_models], suite.model)


@multi_asset_check(
    specs=[AssetCheckSpec(name=s.check_name, asset=_checked_model(s), blocking=True,
                          description=f"{s.description} Blocks publishing when it fails "
                                      f"(Great Expectations suite `{s.name}`, expectations/suites.py).")
           for s in SUITES],
    can_subset=False,
)
def great_expectations_gates(context: AssetCheckExecutionContext, paths: TallyPaths):
    """Validate the window with every suite; Data Docs go to <publish>/data_docs either way."""
    from expectations.gate import validate  # GX takes seconds to import: only when checks run
    window = run_window(context.run.tags, date.today())
    docs = paths.publish_path() / "data_docs"
    results = validate(paths.warehouse_path(), window, docs_dir=docs)
    if all(r.success for r in results):
        # what publishing asks before it copies the marts (orchestration/lib/build_state.py)
        with warehouse_lock(paths.warehouse_path()), connect(paths.warehouse_path()) as con:
            build_state.gates_passed(con, window)
    for suite, result in zip(SUITES, results, strict=True):
        yield AssetCheckResult(
            asset_key=_checked_model(suite), check_name=suite.check_name, passed=result.success,
            severity=AssetCheckSeverity.ERROR, description=result.describe(),
            metadata={"rows": result.rows, "expectations": result.evaluated,
                      "failed_expectations": [str(f) for f in result.failures], **window})


defs = Definitions(asset_checks=[great_expectations_gates])
