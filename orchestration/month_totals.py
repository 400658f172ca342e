"""What finance reads on a billing month: its invoices, totals per currency and whether it is
closed, from the published tables (the figures the Dagster UI shows on billing/published)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import duckdb

from orchestration.lib.months import months_between, next_month
from orchestration.lib.warehouse import table_exists


@dataclass(frozen=True)
class MonthTotals:
    month: date
    invoices: int
    totals: dict[str, Decimal] = field(default_factory=dict)  # currency -> sum of total_amount
    finalized: bool = False

    def metadata(self) -> dict:
        """Dagster metadata: plain text and numbers, money formatted as money."""
        meta = {"invoices": self.invoices, "finalized": self.finalized}
        from orchestration.page_format import money  # Babel: only when metadata is shown
        for currency, amount in self.totals.items():
            meta[f"total {currency}"] = money(amount, currency)
        return meta


def month_totals(con: duckdb.DuckDBPyConnection, first: date, last: date) -> list[MonthTotals]:
    """Each month in [first, last]: the invoices whose period ends in it (billing.invoices, as
    the month's published files), their total_amount per currency, and whether it is finalized."""
    months = months_between(first, last)
    rows = con.execute("""
        select date_trunc('month', period_end)::date, currency, count(*), sum(total_amount)
        from billing.invoices where period_end >= ? and period_end < ?
        group by all order by 1, 2
    """, [months[0], next_month(months[-1])]).fetchall() if table_exists(con, "billing", "invoices") else []
    closed = {m for (m,) in con.execute("select billing_month from finalized.periods").fetchall()} \
        if table_exists(con, "finalized", "periods") else set()
    found: dict[date, tuple[int, dict]] = {}
    for month, currency, count, total in rows:
        invoices, totals = found.get(month, (0, {}))
        found[month] = (invoices + count, {**totals, currency: total})
    return [MonthTotals(m, found.get(m, (0, {}))[0], found.get(m, (0, {}))[1], m in closed) for m in months]
