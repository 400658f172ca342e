"""Publish the marts: merge the run's billing months into the `billing` schema in one
transaction (a crash leaves the previous publication whole), then write Parquet and CSV
per month, built in a temporary folder and swapped in."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb

from orchestration.current_usage import LATER_EVENTS, after_current_usage
from orchestration.folders import staging_folder, swap_in
from orchestration.invoice_pages import render_pages
from orchestration.invoice_pdf import remove_pdfs, render_pdfs
from orchestration.lib.crash import crash_point
from orchestration.line_events import create_view as create_line_events_view

# dbt mart -> published table
PUBLISHED = {
    "fct_invoices": "invoices",
    "fct_invoice_lines": "invoice_lines",
    "fct_fee_tiers": "fee_tiers",
    "fct_usage": "usage",
    "fct_quarantined_events": "quarantined_events",
    "fct_credit_notes": "credit_notes",
    "fct_wallet_ledger": "wallet_ledger",
    "fct_revenue_by_month": "revenue_by_month",
    "fct_instant_fees": "instant_fees",
    "fct_current_usage": "current_usage",
}
# tables that describe all history up to the run's horizon: replaced whole
WHOLE = ("usage", "quarantined_events", "credit_notes", "wallet_ledger", "instant_fees", "current_usage")
# tables keyed by billing month (the month of period_end): fct_invoices holds only the run's
# window, so replacing these whole would erase earlier months; the window is whole months
# (Dagster monthly partitions), so billing_month in [start, end) is exactly its invoices.
BY_MONTH = ("revenue_by_month",)
# tables merged month by month (the rest describe all events and are replaced whole)
BY_INVOICE = ("invoice_lines", "fee_tiers")
ORDER = {
    "invoices": "invoice_id",
    "invoice_lines": "invoice_id, line_id",
    "fee_tiers": "invoice_id, line_id, tier_index",
    "usage": "external_customer_id, external_subscription_id, billable_metric_code, charge_id, filter_index, "
             "group_key, usage_date",
    "quarantined_events": "source_file, line_number, reason",
    "credit_notes": "credit_note_id",
    "wallet_ledger": "wallet_id, entry_at, entry_type, invoice_id",
    "revenue_by_month": "billing_month, currency",
    # an opening fee has no event: its period's first day and bucket order it
    "instant_fees": "external_subscription_id, charge_id, event_at, source_file, line_number, usage_date, "
                    "filter_index, group_key",
    "current_usage": "external_subscription_id, fee_type desc, charge_id, filter_index, group_key",
}


def _columns(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> list[tuple[str, str]]:
    return con.execute("select column_name, data_type from information_schema.columns "
                       "where table_schema = ? and table_name = ? order by ordinal_position",
                       [schema, table]).fetchall()


def publish(con: duckdb.DuckDBPyConnection, start: date, end: date, out_dir: Path | None,
            pages: bool = True, pdf: bool = False) -> dict:
    """Months [start, end) of the marts replace the same months of `billing`; other months stay."""
    in_window = "period_end >= ? and period_end < ?"
    # a window that ends before the latest events (an earlier month re-run) is not today's: it
    # leaves current usage, and its alerts, as the last refresh or run published them
    current = con.execute(LATER_EVENTS.format(end=end)).fetchone()[0] == 0
    keep_current_usage = not current and _columns(con, "billing", "current_usage") == _columns(
        con, "marts", "fct_current_usage")
    con.execute("begin transaction")
    try:
        con.execute("create schema if not exists billing")
        for mart, table in PUBLISHED.items():
            published, built = _columns(con, "billing", table), _columns(con, "marts", mart)
            if published and published == built[:len(published)]:
                # new columns at the end (an upgrade): add them, keep the published history
                for name, data_type in built[len(published):]:
                    con.execute(f'alter table billing.{table} add column "{name}" {data_type}')
            elif published != built:
                con.execute(f"create or replace table billing.{table} as select * from marts.{mart} limit 0")
        # adjustment invoices of finalized months come with every run, whatever its window
        replaced = f"({in_window}) or (invoice_type = 'adjustment' and period_end < ?)"
        window_invoices = f"select invoice_id from billing.invoices where {replaced}"
        for table in BY_INVOICE:
            con.execute(f"delete from billing.{table} where invoice_id in ({window_invoices})", [start, end, end])
        con.execute(f"delete from billing.invoices where {replaced}", [start, end, end])
        for table in BY_MONTH:
            con.execute(f"delete from billing.{table} where billing_month >= ? and billing_month < ?", [start, end])
        for mart, table in PUBLISHED.items():
            if table == "current_usage" and keep_current_usage:
                continue
            if table == "credit_notes":
                # adjustment credit notes of finalized months after the run's window are not
                # re-rated by it (it stops at its last month): they stay as published
                con.execute("delete from billing.credit_notes where not (reason in ('late_events', 'catalog_change') "
                            "and invoice_id in (select invoice_id from billing.invoices where period_end >= ?))",
                            [end])
            elif table in WHOLE:
                con.execute(f"delete from billing.{table}")
            con.execute(f"insert into billing.{table} by name select * from marts.{mart} order by {ORDER[table]}")
            crash_point("publish", f"billing.{table} merged, not committed")
        create_line_events_view(con)  # billing.invoice_line_events, over the files this run rated
        con.execute("commit")
        crash_point("publish", "committed")
    except Exception:
        con.execute("rollback")
        raise
    stats = {"invoices": con.execute(f"select count(*) from billing.invoices where {in_window}",
                                     [start, end]).fetchone()[0]}
    # current usage was published with the rest: the usage alerts follow it (before the pages,
    # which show them)
    stats["alerts"] = len(after_current_usage(con, out_dir)) if current else 0
    if out_dir is not None:
        stats["files"] = write_files(con, start, end, Path(out_dir), pages=pages, pdf=pdf)
    return stats


def write_files(con: duckdb.DuckDBPyConnection, start: date, end: date, out_dir: Path, pages: bool = True,
                pdf: bool = False) -> int:
    """One folder per month (YYYY-MM) with Parquet and CSV of invoices, lines and tiers; the pages;
    `pdf`: the invoice pages printed (out_dir/pdf), which pages rendered without it remove (stale)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    months = [m for (m,) in con.execute(
        "select distinct strftime(period_end, '%Y-%m') from billing.invoices "
        "where (period_end >= ? and period_end < ?) or invoice_type = 'adjustment' order by 1",
        [start, end]).fetchall()]
    written = 0
    for month in months:
        tmp = staging_folder(out_dir / month)
        month_invoices = f"select invoice_id from billing.invoices where strftime(period_end, '%Y-%m') = '{month}'"
        for table in ("invoices", *BY_INVOICE):
            query = (f"select * from billing.{table} where invoice_id in ({month_invoices}) "
                     f"order by {ORDER[table]}")
            for fmt in ("parquet", "csv"):
                target = tmp / f"{table}.{fmt}"
                con.execute(f"copy ({query}) to '{target}' (format {fmt})")
                written += 1
        crash_point("files", f"{month} written, not swapped in")
        swap_in(tmp, out_dir / month)
        crash_point("files", f"{month} swapped in")
    if pages:
        render_pages(con, out_dir)
        if pdf:
            render_pdfs(out_dir / "pages", out_dir)
        else:
            remove_pdfs(out_dir)
    return written
