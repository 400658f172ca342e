"""Render the published `billing` schema as static HTML: one page per invoice, one per customer
(with a usage chart) and an index, into <out_dir>/pages, built in a temporary folder and
swapped in whole, so a reader never sees half a site.

Everything comes from billing.* and catalog.* rows in a fixed order and the pages carry no
"generated at" time: the same tables give the same bytes.
"""
from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import quote

import duckdb
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from orchestration.folders import staging_folder, swap_in
from orchestration.lib.warehouse import table_exists
from orchestration.page_format import FILTERS
from orchestration.revenue_page import revenue_page
from orchestration.usage_chart import usage_chart

TEMPLATES = Path(__file__).resolve().parent / "templates"


def _env() -> Environment:
    # autoescape everything: customer names, ids and catalog text are user input
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters.update(FILTERS)
    env.filters["page"] = page_name
    env.filters["href"] = lambda key: quote(page_name(key))
    return env


def page_name(key: str) -> str:
    """File name for an id: ids are catalog text, so '/' or '..' must not leave the folder."""
    return quote(key, safe="") + ".html"


def _dicts(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[dict]:
    cur = con.execute(sql, params or [])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row)) for row in cur.fetchall()]


def _group(rows: list[dict], key: str) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for row in rows:
        out.setdefault(row[key], []).append(row)
    return out


CUSTOMERS = """
    select c.external_id as external_customer_id, c.name, c.currency
    from catalog.customers c
    union all  -- a customer billed earlier but since removed from the catalog keeps its pages
    select distinct i.external_customer_id, null, i.currency from billing.invoices i
    where i.external_customer_id not in (select external_id from catalog.customers)
    order by 1
"""
INVOICES = """
    select i.*, c.name as customer_name from billing.invoices i
    left join catalog.customers c on c.external_id = i.external_customer_id
    order by i.external_customer_id, i.period_start, i.issuing_date, i.invoice_id
"""
LINES = """
    select l.*, m.name as metric_name from billing.invoice_lines l
    left join catalog.billable_metrics m on m.code = l.billable_metric_code
    order by l.invoice_id, l.line_id
"""
TIERS = "select * from billing.fee_tiers order by invoice_id, line_id, tier_index"
CREDIT_NOTES = "select * from billing.credit_notes order by invoice_id, credit_note_id"
WALLET = "select * from billing.wallet_ledger where invoice_id is not null order by invoice_id, entry_at, wallet_id"
# Events per metric and local day. A metric priced by two charges of a plan has each event once
# per charge in billing.usage, so take the larger charge's count, then add up subscriptions.
USAGE = """
    with per_charge as (
        select external_customer_id, external_subscription_id, billable_metric_code, charge_id, usage_date,
               sum(events_count) as events
        from billing.usage group by all
    ), per_subscription as (
        select external_customer_id, external_subscription_id, billable_metric_code, usage_date,
               max(events) as events
        from per_charge group by all
    )
    select external_customer_id, billable_metric_code, usage_date, cast(sum(events) as bigint) as events
    from per_subscription group by all order by all
"""
# the open periods so far (billing.current_usage), subscription fee first, then each charge fee
CURRENT = """
    select u.*, m.name as metric_name from billing.current_usage u
    left join catalog.billable_metrics m on m.code = u.billable_metric_code
    order by u.external_customer_id, u.external_subscription_id, u.fee_type desc, u.display_name,
             u.charge_id, u.filter_index, u.group_key
"""
ALERTS = """
    select * from billing.triggered_alerts
    order by external_customer_id, crossed_at, alert_code, threshold_value
"""


def open_periods(con: duckdb.DuckDBPyConnection) -> dict[str, list[dict]]:
    """Per customer, each subscription's open period so far: its fees, totals and the alerts fired
    in it (none before current usage or alerts were first published)."""
    fees = _dicts(con, CURRENT) if table_exists(con, "billing", "current_usage") else []
    alerts = _dicts(con, ALERTS) if table_exists(con, "billing", "triggered_alerts") else []
    periods: dict[tuple, dict] = {}
    for fee in fees:
        key = (fee["external_subscription_id"], fee["period_start"])
        period = periods.setdefault(key, {
            "external_customer_id": fee["external_customer_id"], "external_subscription_id": key[0],
            "plan_code": fee["plan_code"], "currency": fee["currency"], "period_start": fee["period_start"],
            "period_end": fee["period_end"], "as_of": fee["as_of"], "fees": [], "alerts": [],
            "amount": 0, "projected_amount": 0})
        period["fees"].append(fee)
        period["amount"] += fee["amount"]
        period["projected_amount"] += fee["projected_amount"]
    for alert in alerts:
        period = periods.get((alert["external_subscription_id"], alert["period_start"]))
        if period is not None:
            period["alerts"].append(alert)
    return _group(list(periods.values()), "external_customer_id")


def render_pages(con: duckdb.DuckDBPyConnection, out_dir: Path) -> int:
    """Write out_dir/pages/{index.html, revenue.html, invoices/*.html, customers/*.html}; returns the page count."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    env = _env()
    customers = _dicts(con, CUSTOMERS)
    invoices = _dicts(con, INVOICES)
    lines = _group(_dicts(con, LINES), "invoice_id")
    tiers = _group(_dicts(con, TIERS), "line_id")
    notes = _group(_dicts(con, CREDIT_NOTES), "invoice_id")
    wallet = _group(_dicts(con, WALLET), "invoice_id")
    usage = _group(_dicts(con, USAGE), "external_customer_id")
    metric_names = dict(con.execute("select code, name from catalog.billable_metrics").fetchall())
    invoices_of = _group(invoices, "external_customer_id")
    current = open_periods(con)

    tmp = staging_folder(out_dir / "pages")
    try:
        (tmp / "invoices").mkdir()
        (tmp / "customers").mkdir()
        written = 0
        for inv in invoices:
            page = env.get_template("invoice.html.j2").render(
                invoice=inv, lines=lines.get(inv["invoice_id"], []), tiers=tiers,
                credit_notes=notes.get(inv["invoice_id"], []), wallet=wallet.get(inv["invoice_id"], []))
            (tmp / "invoices" / page_name(inv["invoice_id"])).write_text(page, encoding="utf-8")
            written += 1
        for cust in customers:
            rows = [(u["billable_metric_code"], u["usage_date"], u["events"])
                    for u in usage.get(cust["external_customer_id"], [])]
            page = env.get_template("customer.html.j2").render(
                customer=cust, invoices=invoices_of.get(cust["external_customer_id"], []),
                open_periods=current.get(cust["external_customer_id"], []),
                chart=usage_chart(rows, metric_names))
            (tmp / "customers" / page_name(cust["external_customer_id"])).write_text(page, encoding="utf-8")
            written += 1
        index = env.get_template("index.html.j2").render(
            customers=customers, counts={k: len(v) for k, v in invoices_of.items()})
        (tmp / "index.html").write_text(index, encoding="utf-8")
        written += 1
        (tmp / "revenue.html").write_text(revenue_page(con, env), encoding="utf-8")
        written += 1
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    swap_in(tmp, out_dir / "pages")
    return written
