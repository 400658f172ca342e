"""Publish on Spark: the run's months of the marts replace the same months of the `billing`
tables (orchestration/publish.py's rules: which rows a run replaces, which tables are whole),
each table rewritten and swapped in (Parquet tables cannot delete rows); then the month files
and pages, written by the driver with the DuckDB engine's own writer (publish.write_files) from
the published rows read as Arrow: invoices, lines and tiers are per invoice, not per event, and
the files are then byte for byte those of a DuckDB run."""
from __future__ import annotations

from datetime import date
from pathlib import Path

from orchestration import publish as duck_publish
from orchestration.current_usage import LATER_EVENTS
from orchestration.engines.spark.session import rewrite, to_local

# what the files and the pages read (orchestration/publish.py write_files, invoice_pages.py)
FILE_TABLES = ("billing.invoices", "billing.invoice_lines", "billing.fee_tiers")
PAGE_TABLES = ("billing.credit_notes", "billing.wallet_ledger", "billing.usage", "billing.revenue_by_month",
               "billing.current_usage", "billing.triggered_alerts", "catalog.customers", "catalog.billable_metrics")
# what the usage alerts read (orchestration/alerts.py), their state billing.triggered_alerts included
ALERT_TABLES = ("catalog.alerts", "catalog.alert_thresholds", "billing.current_usage", "billing.invoices",
                "billing.invoice_lines", "billing.triggered_alerts")


def columns(spark, table: str) -> list[tuple[str, str]]:
    return [(f.name, f.dataType.simpleString()) for f in spark.table(table).schema.fields]


def publish(spark, start: date, end: date, out_dir: Path | None, pages: bool = True, pdf: bool = False) -> dict:
    in_window = f"(period_end >= date '{start}' and period_end < date '{end}')"
    replaced = f"({in_window} or (invoice_type = 'adjustment' and period_end < date '{end}'))"
    keep = {
        "invoices": f"not {replaced}",
        **{t: f"invoice_id not in (select invoice_id from billing.invoices where {replaced})"
           for t in duck_publish.BY_INVOICE},
        "revenue_by_month": f"not (billing_month >= date '{start}' and billing_month < date '{end}')",
        "credit_notes": "reason in ('late_events', 'catalog_change') and invoice_id in "
                        f"(select invoice_id from billing.invoices where period_end >= date '{end}')",
        **{t: "false" for t in duck_publish.WHOLE if t != "credit_notes"},
    }
    # lines and tiers first: which rows they replace is read from the invoices published before
    order = [m for m, t in duck_publish.PUBLISHED.items() if t in duck_publish.BY_INVOICE] + \
            [m for m, t in duck_publish.PUBLISHED.items() if t not in duck_publish.BY_INVOICE]
    for mart, name in duck_publish.PUBLISHED.items():
        table, built = f"billing.{name}", columns(spark, f"marts.{mart}")
        if spark.catalog.tableExists(table):
            published = columns(spark, table)
            if published != built[:len(published)]:
                spark.sql(f"drop table {table}")
            elif len(built) > len(published):  # new columns at the end (an upgrade)
                spark.sql(f"alter table {table} add columns ("
                          + ", ".join(f"`{n}` {t}" for n, t in built[len(published):]) + ")")
        if not spark.catalog.tableExists(table):
            spark.sql(f"create table {table} using parquet as select * from marts.{mart} limit 0")
    # a window that ends before the latest events leaves current usage and its alerts as they were
    current = spark.sql(LATER_EVENTS.format(end=end)).first()[0] == 0
    for mart in order:
        if duck_publish.PUBLISHED[mart] == "current_usage" and not current and spark.sql(
                "select count(*) from billing.current_usage").first()[0] > 0:
            continue
        table, built = f"billing.{duck_publish.PUBLISHED[mart]}", columns(spark, f"marts.{mart}")
        names = ", ".join(f"`{n}`" for n, _ in built)
        rewrite(spark, table, f"select {names} from {table} where {keep[duck_publish.PUBLISHED[mart]]} "
                              f"union all select {names} from marts.{mart}")
    stats = {"invoices": spark.sql(f"select count(*) from billing.invoices where {in_window}").first()[0]}
    stats["alerts"] = evaluate_alerts(spark, out_dir) if current else 0
    if out_dir is not None:
        stats["files"] = write_files(spark, start, end, Path(out_dir), pages, pdf)
    return stats


def evaluate_alerts(spark, out_dir: Path | None) -> int:
    """The usage alerts on the current usage just published, by the DuckDB engine's own SQL
    (orchestration/alerts.py) on a local copy of what it reads: the outbox first, as on DuckDB,
    then Spark's billing.triggered_alerts rewritten with the rows fired. Returns how many fired."""
    from orchestration import alerts
    with to_local(spark, {t: f"select * from {t}" for t in ALERT_TABLES if spark.catalog.tableExists(t)}) as con:
        fired = alerts.evaluate(con, out_dir)
        if not fired:
            return 0
        state = con.sql("select * from billing.triggered_alerts").to_arrow_table()
    spark.createDataFrame(state).createOrReplaceTempView("tally_triggered_alerts")
    rewrite(spark, "billing.triggered_alerts", "select * from tally_triggered_alerts")
    return len(fired)


def write_files(spark, start: date, end: date, out_dir: Path, pages: bool = True, pdf: bool = False) -> int:
    tables = FILE_TABLES + (PAGE_TABLES if pages else ())
    with to_local(spark, {t: f"select * from {t}" for t in tables if spark.catalog.tableExists(t)}) as con:
        return duck_publish.write_files(con, start, end, out_dir, pages=pages, pdf=pdf)
