"""`tally run --engine spark`: the steps of a DuckDB run (orchestration/runner.py), in this
process, on one Spark session: catalog, landing, `dbt build --target spark` (dbtRunner),
the Great Expectations gate on the window's rows read from Spark, publish, summary."""
from __future__ import annotations

from datetime import date
from pathlib import Path

from orchestration.catalog import CatalogError
from orchestration.catalog import validate as validate_catalog
from orchestration.engines.spark import catalog as spark_catalog
from orchestration.engines.spark import landing as spark_landing
from orchestration.engines.spark import publish as spark_publish
from orchestration.engines.spark import state
from orchestration.engines.spark.session import SparkDbt, SparkSql, spark_dir
from orchestration.lib.build_state import NotBuilt
from orchestration.lib.dbt import BUILD_ARGS
from orchestration.lib.months import next_month
from orchestration.lib.warehouse import warehouse_lock
from orchestration.lib.window import partition_window
from orchestration.paths import DEFAULT_PUBLISH
from orchestration.runner import RunError, event_months
from orchestration.summary import Summary, summarize


def dbt_failures(result) -> str:
    failed = [f"{r.node.unique_id}: {r.status!s} {r.message or ''}".strip()
              for r in (result.result or []) if str(r.status) not in ("success", "pass", "skipped")]
    if failed:
        return "; ".join(failed[:5])
    return str(result.exception or "unknown error")


def run(catalog: Path, landing: Path, warehouse: Path, months: list[date] | None, publish: Path | None,
        progress=lambda msg: None, today: date | None = None, locked: bool = False,
        pages: bool = True, pdf: bool = False) -> Summary:
    catalog, landing, warehouse = Path(catalog).resolve(), Path(landing).resolve(), Path(warehouse).resolve()
    if not catalog.is_dir():
        raise RunError(f"catalog folder {catalog} does not exist")
    if not landing.is_dir():
        raise RunError(f"landing folder {landing} does not exist")
    publish_dir = Path(publish if publish is not None else DEFAULT_PUBLISH).resolve()
    with warehouse_lock(warehouse):
        progress(f"Validating catalog {catalog}")
        try:
            cat = validate_catalog(catalog)
        except CatalogError as exc:
            raise RunError(str(exc)) from None
        progress(f"Starting Spark (metastore and tables in {spark_dir(warehouse)})")
        dbt = SparkDbt(warehouse)
        spark = dbt.open_session()
        spark_catalog.write(spark, cat)
        fingerprint = spark_catalog.fingerprint(cat)
        progress(f"Landing new files from {landing}")
        spark_landing.load(spark, landing)
        sql = SparkSql(spark)
        if not months:
            months = event_months(sql, today or date.today())
            if not months:
                raise RunError(f"no events in {landing} and no --period given: nothing to bill")
        first, last = months[0], months[-1]
        window = partition_window(first, next_month(last))
        progress(f"Billing {first:%Y-%m} to {last:%Y-%m} on Spark: dbt build, tests, publish")
        state.store_window(spark, window)
        state.build_started(spark)
        result = dbt.invoke(list(BUILD_ARGS))
        if not result.success:
            raise RunError(f"billing run failed in dbt build: {dbt_failures(result)}")
        state.build_finished(spark, window, fingerprint)
        progress("Checking the window with Great Expectations")
        gate(spark, window, publish_dir)
        try:
            state.require_publishable(spark, window, fingerprint)
        except NotBuilt as exc:
            raise RunError(str(exc)) from None
        progress(f"Publishing to {publish_dir}")
        spark_publish.publish(spark, first, next_month(last), publish_dir, pages=pages, pdf=pdf)
        return summarize(sql, first, last)


def gate(spark, window: dict[str, str], publish_dir: Path) -> None:
    """The Great Expectations suites on the window's rows, read from Spark; a failure blocks
    publishing, as the blocking asset checks do on DuckDB."""
    from expectations.gate import validate
    from expectations.suites import SUITES
    results = validate(None, window, docs_dir=publish_dir / "data_docs",
                       read=lambda query: spark.sql(query).toPandas())
    if not all(r.success for r in results):
        lines = [f"  gx_{s.name}: {r.describe()}" for s, r in zip(SUITES, results, strict=True) if not r.success]
        raise RunError("publishing blocked by Great Expectations; the previous publication is unchanged.\n"
                       + "\n".join(lines))
    state.gates_passed(spark, window)
