"""`tally finalize`: close a billing month for good.

The month's published invoices (with their lines and tiers) are marked `finalized` and copied,
as they are, into the `finalized` schema, with what each took from each wallet. From then on
every run publishes those copies instead of re-rated invoices, and writes any difference as an
adjustment (dbt model int_invoice_adjustments); the close also freezes the draft adjustments of
earlier months. All in one transaction: a crash leaves the month open and whole. The month's
files are written after the commit; finalizing an already-finalized month writes them again (a
finalize killed after its commit has not written them), and changes nothing else.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb

from orchestration import publish
from orchestration.lib.crash import crash_point
from orchestration.lib.months import next_month
from orchestration.lib.warehouse import table_exists

FROZEN = ("invoices", "invoice_lines", "fee_tiers")


class FinalizeError(Exception):
    """The month cannot be finalized; the message says why, for people."""


@dataclass
class Finalized:
    month: date
    invoices: int
    total_by_currency: list[tuple[str, object]]
    already: bool = False


def grace_days() -> int:
    """The days after a month ends during which it stays open (TALLY_GRACE_DAYS, default 0)."""
    raw = os.environ.get("TALLY_GRACE_DAYS", "0").strip() or "0"
    if not raw.isdigit():
        raise FinalizeError(f"TALLY_GRACE_DAYS={raw!r} is not a whole number of days (0 or more)")
    return int(raw)


def check_grace(month: date, today: date, days: int) -> None:
    """Refuse a month whose grace period has not passed: late events may still land in it.
    The month [M, next M) is open until next M + `days` (Lago's invoice grace period)."""
    closes_on = next_month(month) + timedelta(days=days)
    if today < closes_on:
        raise FinalizeError(
            f"{month:%Y-%m} is still open: its grace period ({days} day{'s' * (days != 1)} after the month, "
            f"TALLY_GRACE_DAYS) ends on {closes_on:%Y-%m-%d}, late events may still land in it. "
            "Use --force to finalize it anyway.")


# finalized.adjustment_lines: the per-line differences of the frozen adjustments (full_units last:
# added after the first warehouses froze rows, add_new_columns)
ADJUSTMENT_LINE_COLUMNS = ("adjusted_invoice_id", "adjustment_round", "line_id", "fee_type", "charge_id",
                           "billable_metric_code", "units", "events_count", "amount", "taxes_amount", "currency",
                           "full_units")
ADJUSTMENT_LINE_ADDED = {"full_units": "decimal(38, 10)"}


def add_new_columns(con: duckdb.DuckDBPyConnection) -> None:
    """Upgrade the frozen tables of a warehouse finalized by an earlier version: a column the
    published table has gained since (full_units on invoice lines) is added at the end, null in the
    rows already frozen (dbt's int_finalized_invoice_lines says what such a row shows); frozen
    values are never rewritten."""
    def columns(schema: str, table: str) -> dict[str, str]:
        return dict(con.execute("select column_name, data_type from information_schema.columns "
                                "where table_schema = ? and table_name = ? order by ordinal_position",
                                [schema, table]).fetchall())
    for table in FROZEN:
        frozen, published = columns("finalized", table), columns("billing", table)
        for name, data_type in published.items():
            if frozen and name not in frozen:
                con.execute(f'alter table finalized.{table} add column "{name}" {data_type}')
    frozen = columns("finalized", "adjustment_lines")
    for name, data_type in ADJUSTMENT_LINE_ADDED.items():
        if frozen and name not in frozen:
            con.execute(f'alter table finalized.adjustment_lines add column "{name}" {data_type}')


ADJUSTMENT_DELTAS = ("fees_amount_delta", "coupons_amount_delta", "sub_total_excluding_taxes_delta",
                     "taxes_amount_delta", "sub_total_including_taxes_delta",
                     "progressive_billing_credit_amount_delta")


def _freeze_adjustments(con: duckdb.DuckDBPyConnection, frozen_on: date) -> None:
    """A month's close also issues the draft adjustments of earlier finalized months, as the last
    run published them: they become finalized (immutable like invoices) and a later difference is
    a new round (`_adj2`, ...) taken against them."""
    money = "decimal(20, 4)"
    con.execute("create table if not exists finalized.adjustments (invoice_id varchar, adjustment_round integer, "
                "adjustment_kind varchar, frozen_on date, "
                + ", ".join(f"{c} {money}" for c in ADJUSTMENT_DELTAS) + ", events_delta bigint)")
    con.execute("create table if not exists finalized.adjustment_lines (adjusted_invoice_id varchar, "
                "adjustment_round integer, line_id varchar, fee_type varchar, charge_id varchar, "
                f"billable_metric_code varchar, units decimal(38, 10), events_count bigint, amount {money}, "
                f"taxes_amount {money}, currency varchar, full_units decimal(38, 10))")
    add_new_columns(con)
    if table_exists(con, "billing", "credit_notes"):
        con.execute("create table if not exists finalized.credit_notes as select * from billing.credit_notes limit 0")
    if not table_exists(con, "intermediate", "int_invoice_adjustment_lines"):
        return
    con.execute(f"insert into finalized.adjustments select invoice_id, adjustment_round, adjustment_kind, ?, "
                f"{', '.join(ADJUSTMENT_DELTAS)}, events_delta from intermediate.int_invoice_adjustments "
                "order by invoice_id", [frozen_on])
    names = ", ".join(ADJUSTMENT_LINE_COLUMNS)
    con.execute(f"insert into finalized.adjustment_lines ({names}) select {names} "
                "from intermediate.int_invoice_adjustment_lines order by adjusted_invoice_id, line_id")
    con.execute("create or replace temp table newly_frozen as select invoice_id from billing.invoices "
                "where invoice_type = 'adjustment' and status = 'draft'")
    con.execute("update billing.invoices set status = 'finalized' where invoice_id in (select * from newly_frozen)")
    for table in ("invoices", "invoice_lines"):
        con.execute(f"insert into finalized.{table} by name select * from billing.{table} "
                    f"where invoice_id in (select * from newly_frozen) order by {publish.ORDER[table]}")
    con.execute("drop table newly_frozen")
    if table_exists(con, "billing", "credit_notes"):
        con.execute("insert into finalized.credit_notes by name select * from billing.credit_notes "
                    "where reason in ('late_events', 'catalog_change') "
                    "and credit_note_id not in (select credit_note_id from finalized.credit_notes) "
                    "order by credit_note_id")


def finalize(con: duckdb.DuckDBPyConnection, month: date, finalized_on: date,
             publish_dir: Path | None = None, force: bool = False, pdf: bool = False) -> Finalized:
    """Finalize `month` on `finalized_on`; refused during its grace period unless `force`;
    `pdf`: the invoice pages printed too (orchestration/invoice_pdf.py)."""
    start, end = month, next_month(month)
    in_month = "period_end >= ? and period_end < ?"
    if not table_exists(con, "billing", "invoices"):
        raise FinalizeError("nothing is published in this warehouse yet: run `tally run` first")
    if table_exists(con, "finalized", "periods") and con.execute(
            "select count(*) from finalized.periods where billing_month = ?", [month]).fetchone()[0]:
        # nothing changes in the warehouse; the month's files are written again from it: the
        # bytes the last run or finalize wrote, or should have (a finalize killed after its
        # commit wrote none: tests/e2e/test_recovery.py)
        if publish_dir is not None:
            publish.write_files(con, start, end, Path(publish_dir), pdf=pdf)
        return Finalized(month, 0, [], already=True)
    if not force:
        check_grace(month, finalized_on, grace_days())
    count = con.execute(f"select count(*) from billing.invoices where {in_month} and invoice_type <> 'adjustment'",
                        [start, end]).fetchone()[0]
    if count == 0:
        raise FinalizeError(f"no invoices are published for {month:%Y-%m}: run `tally run --period {month:%Y-%m}` "
                            "first")
    con.execute("begin transaction")
    try:
        con.execute("create schema if not exists finalized")
        con.execute("create table if not exists finalized.periods (billing_month date, finalized_on date)")
        con.execute(f"update billing.invoices set status = 'finalized' where {in_month}", [start, end])
        crash_point("finalize", "invoices marked finalized, not committed")
        month_invoices = f"select invoice_id from billing.invoices where {in_month}"
        add_new_columns(con)
        for table in FROZEN:
            con.execute(f"create table if not exists finalized.{table} as select * from billing.{table} limit 0")
            con.execute(f"insert into finalized.{table} by name select * from billing.{table} "
                        f"where invoice_id in ({month_invoices}) order by {publish.ORDER[table]}", [start, end])
            crash_point("finalize", f"finalized.{table} copied, not committed")
        # what the month's invoices took from each wallet, as published: later runs spend it as is
        con.execute("create table if not exists finalized.wallet_allocations "
                    "(wallet_id varchar, invoice_id varchar, amount decimal(20, 4))")
        if table_exists(con, "intermediate", "int_wallet_allocations"):
            con.execute(f"insert into finalized.wallet_allocations select wallet_id, invoice_id, amount "
                        f"from intermediate.int_wallet_allocations where invoice_id in ({month_invoices}) "
                        f"order by invoice_id, wallet_id", [start, end])
        crash_point("finalize", "wallet allocations copied, not committed")
        _freeze_adjustments(con, finalized_on)
        con.execute("insert into finalized.periods values (?, ?)", [month, finalized_on])
        crash_point("finalize", "adjustments frozen, month recorded, not committed")
        con.execute("commit")
        crash_point("finalize", "committed")
    except Exception:
        con.execute("rollback")
        raise
    totals = con.execute(f"select currency, sum(total_amount) from billing.invoices where {in_month} "
                         "group by 1 order by 1", [start, end]).fetchall()
    if publish_dir is not None:
        publish.write_files(con, start, end, Path(publish_dir), pdf=pdf)
    return Finalized(month, count, totals)
