"""What `tally run` prints at the end: the window's invoices and money, and where every event went."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import duckdb

from orchestration.lib.months import next_month


@dataclass
class Summary:
    months: list[date]
    invoices: int = 0
    totals: list[tuple[str, int, Decimal]] = field(default_factory=list)
    events_sent: int = 0
    events_billed: int = 0
    events_quarantined: int = 0
    duplicates_ignored: int = 0
    quarantine_reasons: list[tuple[str, int]] = field(default_factory=list)
    money: list[tuple] = field(default_factory=list)
    invoice_types: list[tuple[str, int]] = field(default_factory=list)
    catalog_warnings: list[str] = field(default_factory=list)


def summarize(con: duckdb.DuckDBPyConnection, first: date, last: date) -> Summary:
    end = next_month(last)
    s = Summary(months=[first, last])
    window = "from billing.invoices where period_end >= ? and period_end < ?"
    s.invoices = con.execute(f"select count(*) {window}", [first, end]).fetchone()[0]
    s.totals = con.execute(f"select currency, count(*), sum(total_amount) {window} group by 1 order by 1",
                           [first, end]).fetchall()
    # what turned fees into totals, per currency: the money features at a glance
    s.money = con.execute("""
        select i.currency, sum(i.fees_amount), coalesce(sum(c.amount), 0), sum(i.progressive_billing_credit_amount),
               sum(i.coupons_amount), sum(i.taxes_amount), sum(i.prepaid_credit_amount), sum(i.total_amount)
        from billing.invoices as i
        left join (select invoice_id, sum(amount) as amount from billing.invoice_lines
                   where fee_type = 'commitment' group by 1) as c on i.invoice_id = c.invoice_id
        where i.period_end >= ? and i.period_end < ? group by 1 order by 1""", [first, end]).fetchall()
    s.invoice_types = con.execute(f"select invoice_type, count(*) {window} group by 1 order by 1",
                                  [first, end]).fetchall()
    s.events_sent = con.execute("select count(*) from raw.events").fetchone()[0]
    s.events_billed = con.execute(
        "select count(*) from raw.events where dedup_status = 'accepted'").fetchone()[0] - con.execute(
        "select count(*) from intermediate.int_events_unresolved").fetchone()[0]
    s.events_quarantined = con.execute("select count(*) from billing.quarantined_events").fetchone()[0]
    s.duplicates_ignored = con.execute(
        "select count(*) from raw.events where dedup_status = 'duplicate'").fetchone()[0]
    s.quarantine_reasons = con.execute(
        "select reason, count(*) from billing.quarantined_events group by 1 order by 1").fetchall()
    s.catalog_warnings = catalog_warnings(con)
    return s


def catalog_warnings(con: duckdb.DuckDBPyConnection) -> list[str]:
    """What the last catalog load ignored (columns for display, empty Lago files), in order."""
    # a DuckDB warehouse loaded before catalog warnings existed has no table (the Spark engine
    # writes it with every catalog: orchestration/engines/spark/catalog.py)
    if isinstance(con, duckdb.DuckDBPyConnection) and not con.execute(
            "select count(*) from information_schema.tables "
            "where table_schema = 'raw' and table_name = 'catalog_warnings'").fetchone()[0]:
        return []
    return [m for (m,) in con.execute("select message from raw.catalog_warnings order by position").fetchall()]
