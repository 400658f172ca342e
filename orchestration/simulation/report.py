"""The simulation's report: `<report>/simulation.html` (inline SVG, no script, no network) and
the short text the command prints. Figures come from the simulation.* tables only; every
amount cell carries its exact Decimal in data-value, so a test reads the totals off the DOM.

The five (printed) and ten (report) largest changes are invoices ranked by the size of their
difference in the reporting currency, so a ¥ invoice and a $ one compare."""
from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb

from orchestration.invoice_pages import _env, page_name
from orchestration.page_format import money
from orchestration.revenue_chart import PanelData, bar_chart
from orchestration.simulation.rating import PREFIX

TOTALS = """
select currency,
    sum(current_total_amount) as current_amount,
    sum(candidate_total_amount) as candidate_amount,
    sum(difference_amount) as difference_amount,
    count(*) as invoices,
    count(*) filter (where change <> 'unchanged') as changed
from simulation.invoice_diff
where invoice_type <> 'credit'
group by 1 order by 1
"""
REPORTING = """
select any_value(reporting_currency), sum(current_revenue_reporting), sum(candidate_revenue_reporting),
    sum(difference_amount_reporting), count(*) filter (where fx_rate is null)
from simulation.summary
"""
# an invoice's difference in the reporting currency, at its plan-month-currency row's rate
LARGEST = """
with rates as (
    select billing_month, currency, max(fx_rate) as fx_rate from simulation.summary group by 1, 2
)
select d.*, d.difference_amount * r.fx_rate as difference_reporting
from simulation.invoice_diff as d
left join rates as r using (billing_month, currency)
where d.difference_amount <> 0 and d.invoice_type <> 'credit'
order by abs(coalesce(d.difference_amount * r.fx_rate, d.difference_amount)) desc, d.invoice_id
limit ?
"""
# prepaid-credit purchases: not revenue, but money the candidate asks for
CREDITS = """
select currency, sum(current_total_amount), sum(candidate_total_amount), count(*) filter (where in_current),
    count(*) filter (where in_candidate)
from simulation.invoice_diff where invoice_type = 'credit'
group by 1 having sum(difference_amount) <> 0 or count(*) filter (where change <> 'unchanged') > 0 order by 1
"""
BY_MONTH = """
select billing_month, currency, sum(current_revenue) as now, sum(candidate_revenue) as candidate
from simulation.summary group by 1, 2 order by 1, 2
"""
# per customer over the months simulated, in each currency: the change in percent
PER_CUSTOMER = """
select external_customer_id, currency, sum(current_total_amount) as now, sum(candidate_total_amount) as candidate
from simulation.invoice_diff where invoice_type <> 'credit'
group by 1, 2
"""
BUCKETS = ["≤ −20 %", "−20 to −5 %", "−5 to 0 %", "unchanged", "0 to 5 %", "5 to 20 %", "≥ 20 %",
           "new (nothing now)"]


def bucket(now: Decimal, candidate: Decimal) -> str:
    if now == 0:
        return "unchanged" if candidate == 0 else "new (nothing now)"
    pct = (candidate - now) * 100 / now
    if pct == 0:
        return "unchanged"
    if pct < 0:
        return BUCKETS[0] if pct <= -20 else BUCKETS[1] if pct <= -5 else BUCKETS[2]
    return BUCKETS[6] if pct >= 20 else BUCKETS[5] if pct >= 5 else BUCKETS[4]


def _dicts(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[dict]:
    cur = con.execute(sql, params or [])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row)) for row in cur.fetchall()]


def _signed(amount: Decimal, currency: str) -> str:
    return ("+" if amount > 0 else "") + money(amount, currency)


def summary_text(con: duckdb.DuckDBPyConnection, reporting: str) -> str:
    totals = _dicts(con, TOTALS)
    if not totals:
        return "No invoice in these months, now or under the candidate."
    changed = sum(t["changed"] for t in totals)
    lines = [f"{sum(t['invoices'] for t in totals)} invoices compared, {changed} changed."]
    for t in totals:
        lines.append(f"  {t['currency']}: now {money(t['current_amount'], t['currency'])}, candidate "
                     f"{money(t['candidate_amount'], t['currency'])}, difference "
                     f"{_signed(t['difference_amount'], t['currency'])}")
    cur, now, cand, dif, missing = con.execute(REPORTING).fetchone()
    if cur is not None and not missing:
        lines.append(f"  all in {cur}: now {money(now, cur)}, candidate {money(cand, cur)}, "
                     f"difference {_signed(dif, cur)}")
    elif missing:
        lines.append(f"  ({missing} plan-month rows have no fx rate to {reporting}: no total in {reporting})")
    for cur_, now_, cand_, n_now, n_cand in con.execute(CREDITS).fetchall():
        lines.append(f"  prepaid credits bought ({cur_}, not revenue): now {money(now_, cur_)} in {n_now} invoices, "
                     f"candidate {money(cand_, cur_)} in {n_cand}")
    largest = _dicts(con, LARGEST, [5])
    if largest:
        lines.append("Largest changes:")
        for r in largest:
            pct = "" if r["difference_percent"] is None else f", {r['difference_percent']:+} %"
            lines.append(f"  {r['external_customer_id']} {r['invoice_id']} ({r['billing_month']:%Y-%m}): "
                         f"{money(r['current_total_amount'], r['currency'])} -> "
                         f"{money(r['candidate_total_amount'], r['currency'])} "
                         f"({_signed(r['difference_amount'], r['currency'])}{pct})")
    else:
        lines.append("No invoice changes.")
    return "\n".join(lines)


@dataclass
class Bucket:
    label: str
    customers: int
    x: int = 0
    height: int = 0


def distribution(con: duckdb.DuckDBPyConnection) -> list[Bucket]:
    """Customers (per currency) by the change of what they pay over the months simulated."""
    counts = dict.fromkeys(BUCKETS, 0)
    for r in _dicts(con, PER_CUSTOMER):
        counts[bucket(r["now"], r["candidate"])] += 1
    buckets = [Bucket(label, n) for label, n in counts.items()]
    top = max((b.customers for b in buckets), default=0) or 1
    for i, b in enumerate(buckets):
        b.x, b.height = 60 + i * 85, b.customers * 160 // top
    return buckets


def _invoice_page(con: duckdb.DuckDBPyConnection, out: Path, invoice_id: str) -> str:
    """The candidate's invoice, as a plain page beside the report: its lines and totals."""
    env = _env()
    inv = _dicts(con, f"select * from {PREFIX}marts.fct_invoices where invoice_id = ?", [invoice_id])
    lines = _dicts(con, f"select * from {PREFIX}marts.fct_invoice_lines where invoice_id = ? order by line_id",
                   [invoice_id])
    name = "invoices/" + page_name(invoice_id)
    (out / "invoices").mkdir(parents=True, exist_ok=True)
    (out / name).write_text(env.get_template("simulation_invoice.html.j2").render(
        invoice=inv[0] if inv else None, invoice_id=invoice_id, lines=lines))
    return name


def write(con: duckdb.DuckDBPyConnection, out: Path, publish: Path | None, first: date, last: date,
          reporting: str) -> Path:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    totals = _dicts(con, TOTALS)
    cur, now, cand, dif, missing = con.execute(REPORTING).fetchone()
    by_month = _dicts(con, BY_MONTH)
    panels = []
    for currency in sorted({r["currency"] for r in by_month}):
        rows = [r for r in by_month if r["currency"] == currency]
        panels.append(PanelData(currency, f"Revenue in {currency}", {
            "Now": {r["billing_month"]: r["now"] for r in rows},
            "Candidate": {r["billing_month"]: r["candidate"] for r in rows}},
            lambda v, c=currency: money(v, c)))
    chart = bar_chart(panels, ["Now", "Candidate"], "Revenue by billing month, now and under the candidate")
    largest = _dicts(con, LARGEST, [20])
    pages = (Path(publish).resolve() / "pages" / "invoices") if publish else None
    for r in largest:
        r["candidate_href"] = _invoice_page(con, out, r["invoice_id"]) if r["in_candidate"] else None
        page = pages / page_name(r["invoice_id"]) if pages else None
        r["current_href"] = os.path.relpath(page, out) if page and page.exists() else None
    html = _env().get_template("simulation.html.j2").render(
        first=first, last=last, totals=totals, reporting=cur or reporting, reporting_now=now, reporting_candidate=cand,
        reporting_difference=dif, missing_rates=missing, chart=chart, buckets=distribution(con),
        increases=[r for r in largest if r["difference_amount"] > 0][:10],
        decreases=[r for r in largest if r["difference_amount"] < 0][:10],
        summary=_dicts(con, "select * from simulation.summary order by billing_month, plan_code, currency"))
    path = out / "simulation.html"
    path.write_text(html)
    return path
