"""`tally finalize --engine spark`: orchestration/finalize.py's close of a month on Spark.

The month's invoices are marked finalized (billing.invoices rewritten) and copied into the
`finalized` tables (appended), with what they took from each wallet; the draft adjustments of
earlier months are frozen. Spark has no transaction over several tables: the month is recorded
(finalized.periods) last, and a close that stopped before it is redone whole (its copies of the
month's invoices are removed first)."""
from __future__ import annotations

from datetime import date
from pathlib import Path

from orchestration.engines.spark import publish as spark_publish
from orchestration.engines.spark.session import rewrite
from orchestration.finalize import (
    ADJUSTMENT_DELTAS,
    ADJUSTMENT_LINE_ADDED,
    ADJUSTMENT_LINE_COLUMNS,
    FROZEN,
    Finalized,
    FinalizeError,
    check_grace,
    grace_days,
)
from orchestration.lib.months import next_month


def _cols(spark, table: str) -> list[str]:
    return [f.name for f in spark.table(table).schema.fields]


def _insert(spark, table: str, select_from: str) -> None:
    """Append the rows of `select_from` (a FROM clause and filter) by column name."""
    names = ", ".join(f"`{c}`" for c in _cols(spark, table))
    spark.sql(f"insert into {table} ({names}) select {names} {select_from}")


def add_new_columns(spark) -> None:
    """orchestration/finalize.py add_new_columns: the columns a published table gained since a
    warehouse first froze rows, added at the end of the frozen table (null in the rows frozen)."""
    exists = spark.catalog.tableExists
    for table in FROZEN:
        if exists(f"finalized.{table}") and exists(f"billing.{table}"):
            frozen = set(_cols(spark, f"finalized.{table}"))
            added = [(f.name, f.dataType.simpleString()) for f in spark.table(f"billing.{table}").schema.fields
                     if f.name not in frozen]
            if added:
                spark.sql(f"alter table finalized.{table} add columns ("
                          + ", ".join(f"`{n}` {t}" for n, t in added) + ")")
    if exists("finalized.adjustment_lines"):
        frozen = set(_cols(spark, "finalized.adjustment_lines"))
        added = [(n, t) for n, t in ADJUSTMENT_LINE_ADDED.items() if n not in frozen]
        if added:
            spark.sql("alter table finalized.adjustment_lines add columns ("
                      + ", ".join(f"`{n}` {t}" for n, t in added) + ")")


def _set_status(spark, ids_sql: str) -> None:
    """billing.invoices with `status = 'finalized'` for the invoices of `ids_sql`."""
    cols = [f"case when invoice_id in ({ids_sql}) then 'finalized' else status end as status" if c == "status"
            else f"`{c}`" for c in _cols(spark, "billing.invoices")]
    rewrite(spark, "billing.invoices", f"select {', '.join(cols)} from billing.invoices")


def finalize(spark, month: date, finalized_on: date, publish_dir: Path | None = None,
             force: bool = False, pdf: bool = False) -> Finalized:
    start, end = month, next_month(month)
    in_month = f"period_end >= date '{start}' and period_end < date '{end}'"
    exists = spark.catalog.tableExists
    if not exists("billing.invoices"):
        raise FinalizeError("nothing is published in this warehouse yet: run `tally run` first")
    if exists("finalized.periods") and spark.sql(
            f"select count(*) from finalized.periods where billing_month = date '{month}'").first()[0]:
        if publish_dir is not None:
            spark_publish.write_files(spark, start, end, Path(publish_dir), pdf=pdf)
        return Finalized(month, 0, [], already=True)
    if not force:
        check_grace(month, finalized_on, grace_days())
    count = spark.sql(f"select count(*) from billing.invoices where {in_month} and invoice_type <> 'adjustment'"
                      ).first()[0]
    if count == 0:
        raise FinalizeError(f"no invoices are published for {month:%Y-%m}: run `tally run --period {month:%Y-%m}` "
                            "first")
    month_ids = [r[0] for r in spark.sql(f"select invoice_id from billing.invoices where {in_month}").collect()]
    spark.createDataFrame([(i,) for i in month_ids], "invoice_id string").createOrReplaceTempView("month_invoices")
    month_invoices = "select invoice_id from month_invoices"
    spark.sql("create table if not exists finalized.periods (billing_month date, finalized_on date) using parquet")
    spark.sql("create table if not exists finalized.wallet_allocations "
              "(wallet_id string, invoice_id string, amount decimal(20, 4)) using parquet")
    add_new_columns(spark)
    for table in FROZEN:
        spark.sql(f"create table if not exists finalized.{table} using parquet as select * from billing.{table} "
                  "limit 0")
    # a close that stopped before recording the month left copies: removed, then done again
    for table in (*FROZEN, "wallet_allocations"):
        if spark.sql(f"select count(*) from finalized.{table} where invoice_id in ({month_invoices})").first()[0]:
            rewrite(spark, f"finalized.{table}",
                    f"select * from finalized.{table} where invoice_id not in ({month_invoices})")
    _set_status(spark, month_invoices)
    for table in FROZEN:
        _insert(spark, f"finalized.{table}", f"from billing.{table} where invoice_id in ({month_invoices})")
    if exists("intermediate.int_wallet_allocations"):
        _insert(spark, "finalized.wallet_allocations",
                f"from intermediate.int_wallet_allocations where invoice_id in ({month_invoices})")
    _freeze_adjustments(spark, finalized_on)
    spark.sql(f"insert into finalized.periods values (date '{month}', date '{finalized_on}')")
    totals = [tuple(r) for r in spark.sql(f"select currency, sum(total_amount) from billing.invoices where {in_month} "
                                          "group by 1 order by 1").collect()]
    if publish_dir is not None:
        spark_publish.write_files(spark, start, end, Path(publish_dir), pdf=pdf)
    return Finalized(month, count, totals)


def _freeze_adjustments(spark, frozen_on: date) -> None:
    """orchestration/finalize.py _freeze_adjustments."""
    money = "decimal(20, 4)"
    spark.sql("create table if not exists finalized.adjustments (invoice_id string, adjustment_round int, "
              "adjustment_kind string, frozen_on date, " + ", ".join(f"{c} {money}" for c in ADJUSTMENT_DELTAS)
              + ", events_delta bigint) using parquet")
    spark.sql("create table if not exists finalized.adjustment_lines (adjusted_invoice_id string, "
              "adjustment_round int, line_id string, fee_type string, charge_id string, "
              f"billable_metric_code string, units decimal(38, 10), events_count bigint, amount {money}, "
              f"taxes_amount {money}, currency string, full_units decimal(38, 10)) using parquet")
    add_new_columns(spark)
    if spark.catalog.tableExists("billing.credit_notes"):
        spark.sql("create table if not exists finalized.credit_notes using parquet as "
                  "select * from billing.credit_notes limit 0")
    if not spark.catalog.tableExists("intermediate.int_invoice_adjustment_lines"):
        return
    spark.sql(f"insert into finalized.adjustments select invoice_id, adjustment_round, adjustment_kind, "
              f"date '{frozen_on}', {', '.join(ADJUSTMENT_DELTAS)}, events_delta "
              "from intermediate.int_invoice_adjustments")
    names = ", ".join(ADJUSTMENT_LINE_COLUMNS)
    spark.sql(f"insert into finalized.adjustment_lines ({names}) select {names} "
              "from intermediate.int_invoice_adjustment_lines")
    ids = [r[0] for r in spark.sql("select invoice_id from billing.invoices "
                                   "where invoice_type = 'adjustment' and status = 'draft'").collect()]
    spark.createDataFrame([(i,) for i in ids], "invoice_id string").createOrReplaceTempView("newly_frozen")
    if ids:
        _set_status(spark, "select invoice_id from newly_frozen")
        for table in ("invoices", "invoice_lines"):
            _insert(spark, f"finalized.{table}",
                    f"from billing.{table} where invoice_id in (select invoice_id from newly_frozen)")
    if spark.catalog.tableExists("billing.credit_notes"):
        _insert(spark, "finalized.credit_notes",
                "from billing.credit_notes where reason in ('late_events', 'catalog_change') "
                "and credit_note_id not in (select credit_note_id from finalized.credit_notes)")
