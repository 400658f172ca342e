"""The finance revenue page (pages/revenue.html): revenue per billing month and currency and in
the reporting currency, recurring and usage revenue, top customers, prepaid credits sold and
consumed, and the prepaid balance still outstanding.

Every figure is a sum of published `billing` rows, read as Decimal and shown as read:
- revenue is `sub_total_excluding_taxes` (fees − progressive billing credits − coupons, before
  taxes) of every invoice but credit (wallet purchase) invoices, which are deferred revenue, per
  month of `period_end`: billing.revenue_by_month's own definition, and its rows are shown as is;
- the breakdown by fee type adds up, per month and currency, to the same sub-total, from
  billing.invoice_lines and billing.invoices.
Every row is ordered, so the same tables give the same bytes.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from functools import partial

import duckdb
from jinja2 import Environment

from orchestration.page_format import money
from orchestration.revenue_chart import PanelData, bar_chart

TOP_CUSTOMERS = 10
RECURRING, USAGE, SOLD, CONSUMED = "Recurring", "Usage", "Sold", "Consumed"

REVENUE_BY_MONTH = """
    select billing_month, currency, reporting_currency, invoices_count, fees_amount, sub_total_excluding_taxes,
           taxes_amount, total_amount, fx_rate, fx_rate_date, sub_total_excluding_taxes_reporting,
           total_amount_reporting
    from billing.revenue_by_month order by billing_month, currency
"""
# credit lines sit on credit invoices only, which are left out; an unknown fee type lands in
# other_fees, so the columns always add up to the invoices' fees
BY_FEE_TYPE = """
    with lines as (
        select invoice_id,
               coalesce(sum(amount) filter (where fee_type = 'subscription'), 0) as subscription,
               coalesce(sum(amount) filter (where fee_type = 'commitment'), 0) as commitment,
               coalesce(sum(amount) filter (where fee_type = 'charge'), 0) as charges,
               coalesce(sum(amount) filter (where fee_type = 'fixed_charge'), 0) as fixed_charges,
               coalesce(sum(amount) filter (where fee_type = 'add_on'), 0) as add_ons,
               coalesce(sum(amount) filter (where fee_type not in
                   ('subscription', 'commitment', 'charge', 'fixed_charge', 'add_on')), 0) as other_fees
        from billing.invoice_lines group by invoice_id
    )
    select cast(date_trunc('month', i.period_end) as date) as billing_month, i.currency,
           coalesce(sum(l.subscription), 0) as subscription, coalesce(sum(l.commitment), 0) as commitment,
           coalesce(sum(l.charges), 0) as charges, coalesce(sum(l.fixed_charges), 0) as fixed_charges,
           coalesce(sum(l.add_ons), 0) as add_ons, coalesce(sum(l.other_fees), 0) as other_fees,
           sum(i.progressive_billing_credit_amount) as progressive_credits, sum(i.coupons_amount) as coupons,
           sum(i.sub_total_excluding_taxes) as revenue
    from billing.invoices i left join lines l on l.invoice_id = i.invoice_id
    where i.invoice_type <> 'credit'
    group by all order by billing_month, currency
"""
TOP = f"""
    with totals as (
        select currency, external_customer_id, count(*) as invoices_count,
               sum(sub_total_excluding_taxes) as revenue
        from billing.invoices where invoice_type <> 'credit' group by all
    ), ranked as (
        select *, row_number() over (partition by currency order by revenue desc, external_customer_id) as rank
        from totals
    )
    select r.currency, r.rank, r.external_customer_id, c.name, r.invoices_count, r.revenue
    from ranked r left join catalog.customers c on c.external_id = r.external_customer_id
    where r.rank <= {TOP_CUSTOMERS} order by r.currency, r.rank
"""
# money, not credits: a wallet's credits are its money over its rate (decision 13)
CREDITS = """
    select cast(date_trunc('month', entry_at) as date) as month, currency,
           coalesce(sum(amount) filter (where entry_type = 'purchased'), 0) as purchased,
           coalesce(sum(amount) filter (where entry_type = 'granted'), 0) as granted,
           -coalesce(sum(amount) filter (where entry_type = 'consumed'), 0) as consumed,
           -coalesce(sum(amount) filter (where entry_type = 'expired'), 0) as expired,
           sum(amount) as net
    from billing.wallet_ledger group by all order by month, currency
"""
# a wallet's moves add up to its last running balance (an expired wallet's to zero)
OUTSTANDING = """
    with wallets as (
        select wallet_id, currency, sum(amount) as balance, max(entry_at) as last_entry_at
        from billing.wallet_ledger group by all
    )
    select currency, count(*) filter (where balance > 0) as wallets, sum(balance) as outstanding,
           max(last_entry_at) as as_of
    from wallets group by currency order by currency
"""


def _dicts(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict]:
    cur = con.execute(sql)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row)) for row in cur.fetchall()]


def _fmt(currency: str) -> Callable[[Decimal], str]:
    return partial(money, currency=currency)


def _panels(rows: list[dict], month_key: str, series: dict[str, Callable[[dict], Decimal]]) -> list[PanelData]:
    """One chart panel per currency, each series' amount per month."""
    panels: dict[str, PanelData] = {}
    for row in rows:
        cur = row["currency"]
        panel = panels.setdefault(cur, PanelData(cur, cur, {}, _fmt(cur)))
        for name, value in series.items():
            panel.values.setdefault(name, {})[row[month_key]] = value(row)
    return [panels[c] for c in sorted(panels)]


def _reporting(rows: list[dict]) -> tuple[str | None, list[dict]]:
    """Per month, the sum of the reporting-currency amounts of billing.revenue_by_month; a
    currency without a rate adds nothing and is listed."""
    if not rows:
        return None, []
    reporting = rows[0]["reporting_currency"]
    months: dict[date, dict] = {}
    for r in rows:
        m = months.setdefault(r["billing_month"], {"billing_month": r["billing_month"], "revenue": Decimal(0),
                                                   "total": Decimal(0), "without_rate": []})
        if r["fx_rate"] is None:
            m["without_rate"].append(r["currency"])
        else:
            m["revenue"] += r["sub_total_excluding_taxes_reporting"]
            m["total"] += r["total_amount_reporting"]
    return reporting, list(months.values())


def _with_balance(rows: list[dict]) -> list[dict]:
    """The credits table, with each currency's balance at the end of each month."""
    balance: dict[str, Decimal] = {}
    for r in rows:
        balance[r["currency"]] = balance.get(r["currency"], Decimal(0)) + r["net"]
        r["balance"] = balance[r["currency"]]
    return rows


def revenue_context(con: duckdb.DuckDBPyConnection) -> dict:
    """The page's figures (Decimal) and charts."""
    revenue = _dicts(con, REVENUE_BY_MONTH)
    reporting_currency, reporting = _reporting(revenue)
    by_type = _dicts(con, BY_FEE_TYPE)
    for r in by_type:
        r["recurring"] = r["subscription"] + r["commitment"]
        # a progressive invoice billed part of the period's charges; the closing invoice
        # deducts it as the progressive billing credit: usage revenue is net of it
        r["usage"] = r["charges"] - r["progressive_credits"]
    credits = _with_balance(_dicts(con, CREDITS))
    charts = {
        "by_currency": bar_chart(_panels(revenue, "billing_month", {"Revenue excl. taxes":
                                                                    lambda r: r["sub_total_excluding_taxes"]}),
                                 ["Revenue excl. taxes"], "Revenue per month, one panel per currency"),
        "recurring_usage": bar_chart(_panels(by_type, "billing_month", {RECURRING: lambda r: r["recurring"],
                                                                        USAGE: lambda r: r["usage"]}),
                                     [RECURRING, USAGE], "Recurring and usage revenue per month and currency"),
        "credits": bar_chart(_panels(credits, "month", {SOLD: lambda r: r["purchased"],
                                                        CONSUMED: lambda r: r["consumed"]}),
                             [SOLD, CONSUMED], "Prepaid credits sold and consumed per month and currency"),
        "reporting": None,
    }
    if reporting_currency:
        converted = sorted({r["currency"] for r in revenue if r["fx_rate"] is not None})
        values = {c: {r["billing_month"]: r["sub_total_excluding_taxes_reporting"] for r in revenue
                      if r["currency"] == c and r["fx_rate"] is not None} for c in converted}
        panel = PanelData(reporting_currency, f"in {reporting_currency}", values, _fmt(reporting_currency))
        charts["reporting"] = bar_chart([panel], converted, f"Revenue per month in {reporting_currency}, "
                                        "stacked by invoice currency", stacked=True)
    return {
        "revenue": revenue, "reporting_currency": reporting_currency, "reporting": reporting,
        "by_type": by_type, "show_other": any(r["other_fees"] for r in by_type),
        "top": _dicts(con, TOP), "top_n": TOP_CUSTOMERS,
        "credits": credits, "outstanding": _dicts(con, OUTSTANDING), "charts": charts,
    }


def revenue_page(con: duckdb.DuckDBPyConnection, env: Environment) -> str:
    return env.get_template("revenue.html.j2").render(**revenue_context(con))
