"""The finance revenue page (orchestration/revenue_page.py), rendered by render_pages from a
DuckDB built by hand with the published columns of the billing tables: two currencies (USD,
the reporting currency, and EUR), two billing months (September and October 2026), a
quarterly plan, a minimum commitment, coupons, a progressive invoice, an add-on, two prepaid
credit purchases, consumption, a grant and an expiry. Every expected figure is worked out by
hand in the comments."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal as D
from html.parser import HTMLParser

import duckdb
import pytest

from orchestration.invoice_pages import render_pages

NASTY_NAME = 'Acme <b>"Bold"</b> & Sons'
MONEY = "decimal(20,4)"
NUM = "decimal(38,10)"

DDL = [
    "create schema billing",
    "create schema catalog",
    "create table catalog.customers (external_id varchar, name varchar, currency varchar)",
    "create table catalog.billable_metrics (code varchar, name varchar)",
    f"""create table billing.invoices (invoice_id varchar, external_customer_id varchar,
        external_subscription_id varchar, invoice_type varchar, period_start date, period_end date,
        issuing_date date, currency varchar, fees_amount {MONEY}, coupons_amount {MONEY},
        sub_total_excluding_taxes {MONEY}, taxes_amount {MONEY}, sub_total_including_taxes {MONEY},
        progressive_billing_credit_amount {MONEY}, credit_notes_amount {MONEY}, prepaid_credit_amount {MONEY},
        total_amount {MONEY}, status varchar, adjusts_invoice_id varchar, adjustment_reason varchar)""",
    f"""create table billing.invoice_lines (invoice_id varchar, line_id varchar, fee_type varchar,
        charge_id varchar, billable_metric_code varchar, units {NUM}, events_count bigint,
        unit_amount decimal(38,12), amount {MONEY}, taxes_amount {MONEY}, currency varchar, full_units {NUM})""",
    f"""create table billing.fee_tiers (invoice_id varchar, line_id varchar, tier_index integer,
        from_value {NUM}, to_value {NUM}, units {NUM}, per_unit_amount {NUM}, rate {NUM}, flat_amount {NUM},
        amount decimal(38,12), currency varchar)""",
    f"""create table billing.usage (external_customer_id varchar, external_subscription_id varchar,
        billable_metric_code varchar, charge_id varchar, filter_index integer, filter_name varchar,
        group_key varchar, usage_date date, events_count bigint, total_value {NUM}, distinct_values bigint)""",
    f"""create table billing.credit_notes (credit_note_id varchar, invoice_id varchar, reason varchar,
        amount {MONEY}, taxes_amount {MONEY}, total_amount {MONEY}, currency varchar, issuing_date date)""",
    f"""create table billing.wallet_ledger (wallet_id varchar, external_customer_id varchar, currency varchar,
        entry_at timestamp, entry_type varchar, invoice_id varchar, credits {NUM}, amount {MONEY},
        balance_credits {NUM}, balance_amount {MONEY})""",
    f"""create table billing.revenue_by_month (billing_month date, currency varchar, reporting_currency varchar,
        invoices_count bigint, fees_amount {MONEY}, sub_total_excluding_taxes {MONEY}, taxes_amount {MONEY},
        total_amount {MONEY}, fx_rate {NUM}, fx_rate_date date, sub_total_excluding_taxes_reporting {MONEY},
        total_amount_reporting {MONEY})""",
]

CUSTOMERS = [("cus_a", NASTY_NAME, "USD"), ("cus_b", "Beta GmbH", "EUR"), ("cus_q", "Quarterly Co", "USD"),
             ("cus_w", "Wallet Ltd", "EUR")]

SEP, OCT = date(2026, 9, 1), date(2026, 10, 1)
# (invoice, customer, type, period start, period end, currency, coupons, taxes, progressive credit,
#  prepaid credits, lines as (fee type, amount)); fees = the lines, sub-total excl. taxes = fees −
#  progressive credit − coupons, incl. = + taxes, total = incl. − prepaid credits
INVOICES = [
    ("inv_a_sep", "cus_a", "subscription", SEP, date(2026, 9, 30), "USD", "2.00", "13.07", "0", "0",
     [("subscription", "50.00"), ("charge", "12.34"), ("fixed_charge", "5.00")]),
    # a quarterly plan: the quarter's fee, billed whole on the invoice closing in September
    ("inv_q_sep", "cus_q", "subscription", date(2026, 7, 1), date(2026, 9, 30), "USD", "0", "0", "0", "0",
     [("subscription", "300.00"), ("commitment", "45.00"), ("charge", "55.00")]),
    ("inv_a_oct_pb1", "cus_a", "progressive_billing", OCT, date(2026, 10, 31), "USD", "0", "0", "0", "0",
     [("charge", "8.00")]),
    ("inv_a_oct", "cus_a", "subscription", OCT, date(2026, 10, 31), "USD", "0", "0", "8.00", "12.00",
     [("subscription", "50.00"), ("charge", "20.00")]),
    ("inv_one_off_cus_a_1", "cus_a", "one_off", date(2026, 10, 15), date(2026, 10, 15), "USD", "0", "0", "0", "0",
     [("add_on", "100.00")]),
    ("inv_credit_w2_1", "cus_a", "credit", date(2026, 10, 10), date(2026, 10, 10), "USD", "0", "0", "0", "0",
     [("credit", "50.00")]),
    ("inv_b_sep", "cus_b", "subscription", SEP, date(2026, 9, 30), "EUR", "0", "8.40", "0", "0",
     [("subscription", "30.00"), ("charge", "9.99")]),
    ("inv_credit_w1_1", "cus_w", "credit", date(2026, 9, 5), date(2026, 9, 5), "EUR", "0", "0", "0", "0",
     [("credit", "100.00")]),
    ("inv_w_oct", "cus_w", "subscription", OCT, date(2026, 10, 31), "EUR", "0", "0", "0", "65.00",
     [("subscription", "25.00"), ("charge", "40.00")]),
    ("inv_b_oct", "cus_b", "subscription", OCT, date(2026, 10, 31), "EUR", "4.99", "5.25", "0", "0",
     [("subscription", "30.00")]),
]

# billing.revenue_by_month as the mart computes it from INVOICES (credit invoices left out):
#   USD Sep: inv_a_sep + inv_q_sep: fees 67.34 + 400 = 467.34, sub-total 65.34 + 400 = 465.34,
#            taxes 13.07, total 78.41 + 400 = 478.41
#   USD Oct: pb1 + inv_a_oct + one-off: fees 8 + 70 + 100 = 178, sub-total 8 + 62 + 100 = 170,
#            total 8 + 50 (62 − 12 prepaid) + 100 = 158
#   EUR Sep: inv_b_sep: 39.99, taxes 8.40, total 48.39; at 1.10: 43.989 → 43.99, 53.229 → 53.23
#   EUR Oct: inv_w_oct + inv_b_oct: fees 65 + 30 = 95, sub-total 65 + 25.01 = 90.01, taxes 5.25,
#            total 0 + 30.26 = 30.26; no EUR rate dated on or before October 31 in this world
REVENUE_BY_MONTH = [
    (SEP, "EUR", "USD", 1, "39.99", "39.99", "8.40", "48.39", "1.1", date(2026, 9, 1), "43.99", "53.23"),
    (SEP, "USD", "USD", 2, "467.34", "465.34", "13.07", "478.41", "1", None, "465.34", "478.41"),
    (OCT, "EUR", "USD", 2, "95.00", "90.01", "5.25", "30.26", None, None, None, None),
    (OCT, "USD", "USD", 3, "178.00", "170.00", "0", "158.00", "1", None, "170.00", "158.00"),
]

# w1 (EUR, 1 credit = 1 EUR): bought 100, granted 10, 65 spent on inv_w_oct, the 45 left expire.
# w2 (USD, 1 credit = 0.50 USD): bought 100 credits for 50, 12 spent on inv_a_oct, 38 left.
LEDGER = [
    ("w1", "cus_w", "EUR", datetime(2026, 9, 5, 10), "purchased", "inv_credit_w1_1", "100", "100.00", "100", "100.00"),
    ("w1", "cus_w", "EUR", datetime(2026, 9, 6), "granted", None, "10", "10.00", "110", "110.00"),
    ("w1", "cus_w", "EUR", datetime(2026, 11, 1), "consumed", "inv_w_oct", "-65", "-65.00", "45", "45.00"),
    ("w1", "cus_w", "EUR", datetime(2026, 11, 15), "expired", None, "-45", "-45.00", "0", "0.00"),
    ("w2", "cus_a", "USD", datetime(2026, 10, 10, 9), "purchased", "inv_credit_w2_1", "100", "50.00", "100", "50.00"),
    ("w2", "cus_a", "USD", datetime(2026, 11, 1), "consumed", "inv_a_oct", "-24", "-12.00", "76", "38.00"),
]


def build(path) -> None:
    with duckdb.connect(str(path)) as con:
        for ddl in DDL:
            con.execute(ddl)
        con.executemany("insert into catalog.customers values (?, ?, ?)", CUSTOMERS)
        for (inv, cus, kind, start, end, cur, coupons, taxes, pb, prepaid, lines) in INVOICES:
            fees = sum(D(a) for _, a in lines)
            sub = fees - D(pb) - D(coupons)
            incl = sub + D(taxes)
            con.execute("insert into billing.invoices values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, "
                        "'draft', null, null)",
                        [inv, cus, None if kind in ("credit", "one_off") else f"sub_{cus}", kind, start, end, end,
                         cur, fees, D(coupons), sub, D(taxes), incl, D(pb), D(prepaid), incl - D(prepaid)])
            for i, (fee_type, amount) in enumerate(lines):
                con.execute("insert into billing.invoice_lines values (?, ?, ?, null, null, 1, 0, ?, ?, 0, ?, 1)",
                            [inv, f"{inv}:{i}", fee_type, D(amount), D(amount), cur])
        con.executemany("insert into billing.revenue_by_month values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        REVENUE_BY_MONTH)
        con.executemany("insert into billing.wallet_ledger values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", LEDGER)


class Figures(HTMLParser):
    """(table id, data-month or data-rank, data-currency, data-field) -> data-value, from the
    rows and cells the template marks; and each top-customers row's data-customer."""

    def __init__(self):
        super().__init__()
        self.table = self.row = None
        self.values: dict[tuple, str] = {}
        self.customers: dict[tuple, str] = {}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table" and "id" in a:
            self.table = a["id"]
        elif tag == "tr" and "data-currency" in a:
            self.row = (self.table, a.get("data-month") or a.get("data-rank"), a["data-currency"])
            if "data-customer" in a:
                self.customers[self.row] = a["data-customer"]
        elif tag == "td" and "data-field" in a:
            self.values[(*self.row, a["data-field"])] = a["data-value"]


@pytest.fixture
def page(tmp_path) -> str:
    build(tmp_path / "w.duckdb")
    with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as con:
        render_pages(con, tmp_path / "site")
    return (tmp_path / "site" / "pages" / "revenue.html").read_text(encoding="utf-8")


@pytest.fixture
def figures(page) -> Figures:
    parser = Figures()
    parser.feed(page)
    return parser


def amounts(figures: Figures, table: str, field: str) -> dict[tuple[str, str], D]:
    return {(k[1], k[2]): D(v) for k, v in figures.values.items() if k[0] == table and k[3] == field and v != ""}


def test_revenue_by_currency_is_billing_revenue_by_month(figures, tmp_path):
    with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as con:
        table = con.execute("select strftime(billing_month, '%Y-%m'), currency, sub_total_excluding_taxes, "
                            "total_amount from billing.revenue_by_month").fetchall()
    assert amounts(figures, "revenue-by-currency", "sub_total_excluding_taxes") == {(m, c): s for m, c, s, _ in table}
    assert amounts(figures, "revenue-by-currency", "sub_total_excluding_taxes") == {
        ("2026-09", "EUR"): D("39.99"), ("2026-09", "USD"): D("465.34"),
        ("2026-10", "EUR"): D("90.01"), ("2026-10", "USD"): D("170.00")}
    assert amounts(figures, "revenue-by-currency", "total_amount") == {
        ("2026-09", "EUR"): D("48.39"), ("2026-09", "USD"): D("478.41"),
        ("2026-10", "EUR"): D("30.26"), ("2026-10", "USD"): D("158.00")}
    assert amounts(figures, "revenue-by-currency", "invoices_count")[("2026-10", "USD")] == 3


def test_reporting_currency_totals_and_currencies_without_rate(figures, page):
    # September: 465.34 USD + 43.99 (39.99 EUR at 1.10) = 509.33; due 478.41 + 53.23 = 531.64.
    # October: EUR has no rate, so only USD: 170.00, due 158.00; EUR is listed as not converted
    assert amounts(figures, "revenue-reporting-total", "sub_total_excluding_taxes_reporting") == {
        ("2026-09", "USD"): D("509.33"), ("2026-10", "USD"): D("170.00")}
    assert amounts(figures, "revenue-reporting-total", "total_amount_reporting") == {
        ("2026-09", "USD"): D("531.64"), ("2026-10", "USD"): D("158.00")}
    assert figures.values[("revenue-reporting-total", "2026-10", "USD", "without_rate")] == "EUR"
    assert figures.values[("revenue-reporting-total", "2026-09", "USD", "without_rate")] == ""
    assert figures.values[("revenue-reporting", "2026-10", "EUR", "fx_rate")] == ""
    assert amounts(figures, "revenue-reporting", "sub_total_excluding_taxes_reporting")[("2026-09", "EUR")] \
        == D("43.99")
    assert ">$509.33<" in page and ">€90.01<" in page


def test_recurring_revenue_counts_subscriptions_and_commitments_billed_in_the_month(figures):
    # USD Sep: 50 (cus_a) + 300 (cus_q's quarter, whole) subscription + 45 commitment = 395
    # USD Oct: 50; EUR Sep: 30; EUR Oct: 25 + 30 = 55
    assert amounts(figures, "recurring-revenue", "recurring") == {
        ("2026-09", "EUR"): D("30.00"), ("2026-09", "USD"): D("395.00"),
        ("2026-10", "EUR"): D("55.00"), ("2026-10", "USD"): D("50.00")}
    assert amounts(figures, "recurring-revenue", "commitment")[("2026-09", "USD")] == D("45.00")


def test_usage_revenue_is_charges_less_progressive_credits(figures):
    # USD Oct: charges 8 (progressive invoice) + 20 (closing invoice) − 8 progressive credit = 20
    # USD Sep: 12.34 + 55 = 67.34; EUR Sep 9.99; EUR Oct 40 (the credit line of a purchase is not usage)
    assert amounts(figures, "usage-revenue", "usage") == {
        ("2026-09", "EUR"): D("9.99"), ("2026-09", "USD"): D("67.34"),
        ("2026-10", "EUR"): D("40.00"), ("2026-10", "USD"): D("20.00")}
    assert amounts(figures, "usage-revenue", "charges")[("2026-10", "USD")] == D("28.00")
    assert amounts(figures, "usage-revenue", "progressive_credits")[("2026-10", "USD")] == D("8.00")


def test_revenue_by_type_adds_up_to_revenue_by_month(figures):
    by_type = {field: amounts(figures, "revenue-by-type", field)
               for field in ("recurring", "usage", "fixed_charges", "add_ons", "coupons", "revenue")}
    # USD Sep: 395 + 67.34 + 5 fixed − 2 coupons = 465.34; USD Oct: 50 + 20 + 100 add-on = 170
    assert by_type["fixed_charges"][("2026-09", "USD")] == D("5.00")
    assert by_type["add_ons"][("2026-10", "USD")] == D("100.00")
    assert by_type["coupons"][("2026-10", "EUR")] == D("4.99")
    for key, revenue in by_type["revenue"].items():
        parts = by_type["recurring"][key] + by_type["usage"][key] + by_type["fixed_charges"][key] \
            + by_type["add_ons"][key] - by_type["coupons"][key]
        assert parts == revenue, key
    assert by_type["revenue"] == amounts(figures, "revenue-by-currency", "sub_total_excluding_taxes")


def test_top_customers_per_currency_by_revenue_then_id(figures, page):
    # USD: cus_q 400.00, cus_a 65.34 + 8 + 62 + 100 = 235.34 (its 50.00 credit purchase is not revenue)
    # EUR: cus_b 39.99 + 25.01 = 65.00 and cus_w 65.00: a tie, broken by the customer id
    assert figures.customers == {("top-customers", "1", "USD"): "cus_q", ("top-customers", "2", "USD"): "cus_a",
                                 ("top-customers", "1", "EUR"): "cus_b", ("top-customers", "2", "EUR"): "cus_w"}
    assert amounts(figures, "top-customers", "revenue") == {
        ("1", "USD"): D("400.00"), ("2", "USD"): D("235.34"), ("1", "EUR"): D("65.00"), ("2", "EUR"): D("65.00")}
    assert amounts(figures, "top-customers", "invoices_count")[("2", "USD")] == 4


def test_only_the_top_ten_per_currency(tmp_path):
    build(tmp_path / "w.duckdb")
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        for i in range(10):   # ten more USD customers, each above cus_a's 235.34
            con.execute("insert into billing.invoices select * replace ('inv_x' || ? as invoice_id, "
                        "'cus_x' || ? as external_customer_id, 1000 + ? as sub_total_excluding_taxes) "
                        "from billing.invoices where invoice_id = 'inv_a_sep'", [i, i, i])
        render_pages(con, tmp_path / "site")
    parser = Figures()
    parser.feed((tmp_path / "site" / "pages" / "revenue.html").read_text(encoding="utf-8"))
    usd = [c for (_, rank, cur), c in sorted(parser.customers.items(), key=lambda kv: int(kv[0][1])) if cur == "USD"]
    assert usd == [f"cus_x{i}" for i in range(9, -1, -1)]   # cus_q (400) and cus_a are 11th and 12th


def test_prepaid_credits_sold_consumed_and_month_end_balance(figures):
    # EUR Sep: sold 100 + granted 10 → 110; EUR Nov: consumed 65, expired 45 → 0
    # USD Oct: sold 50 → 50; USD Nov: consumed 12 → 38 (money, not credits: 24 credits at 0.50)
    assert amounts(figures, "prepaid-credits", "purchased") == {
        ("2026-09", "EUR"): D("100.00"), ("2026-10", "USD"): D("50.00"),
        ("2026-11", "EUR"): D("0"), ("2026-11", "USD"): D("0")}
    assert amounts(figures, "prepaid-credits", "consumed") == {
        ("2026-09", "EUR"): D("0"), ("2026-10", "USD"): D("0"),
        ("2026-11", "EUR"): D("65.00"), ("2026-11", "USD"): D("12.00")}
    assert amounts(figures, "prepaid-credits", "granted")[("2026-09", "EUR")] == D("10.00")
    assert amounts(figures, "prepaid-credits", "expired")[("2026-11", "EUR")] == D("45.00")
    assert amounts(figures, "prepaid-credits", "balance") == {
        ("2026-09", "EUR"): D("110.00"), ("2026-10", "USD"): D("50.00"),
        ("2026-11", "EUR"): D("0"), ("2026-11", "USD"): D("38.00")}


def test_outstanding_balance_is_each_wallets_last_running_balance(figures, tmp_path):
    with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as con:
        last = dict(con.execute("select currency, sum(balance_amount) from (select currency, balance_amount, "
                                "row_number() over (partition by wallet_id order by entry_at desc) as n "
                                "from billing.wallet_ledger) where n = 1 group by currency").fetchall())
    outstanding = {cur: D(v) for (table, _, cur, field), v in figures.values.items()
                   if table == "prepaid-outstanding" and field == "outstanding"}
    # w1 expired: EUR 0; w2: 50 − 12 = 38 USD
    assert outstanding == last == {"EUR": D("0"), "USD": D("38.00")}
    assert figures.values[("prepaid-outstanding", None, "USD", "wallets")] == "1"
    assert figures.values[("prepaid-outstanding", None, "EUR", "wallets")] == "0"


def test_charts_draw_each_currency_on_its_own_scale(page):
    import re
    svg = re.search(r'<svg[^>]*class="revenue-chart by-currency".*?</svg>', page, re.DOTALL).group(0)
    panels = dict(re.findall(r'<g class="series" data-currency="(\w+)">(.*?)</g>', svg, re.DOTALL))
    heights = {cur: [int(h) for h in re.findall(r'<rect [^>]*height="(\d+)"', body)] for cur, body in panels.items()}
    # plot height 70 px: USD max 465.34 (Sep) → 70, Oct 170.00 × 70 / 465.34 = 25.57 → 25;
    # EUR max 90.01 (Oct) → 70, Sep 39.99 × 70 / 90.01 = 31.10 → 31
    assert heights == {"USD": [70, 25], "EUR": [31, 70]}
    assert "2026-10 · Revenue excl. taxes: $170.00" in svg
    for css in ("reporting", "recurring-usage", "credits"):
        assert f'class="revenue-chart {css}"' in page


def test_customer_name_is_escaped(page):
    assert "Acme &lt;b&gt;&#34;Bold&#34;&lt;/b&gt; &amp; Sons" in page
    assert "<b>" not in page and "</b>" not in page


def test_same_tables_same_bytes(page, tmp_path):
    with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as con:
        render_pages(con, tmp_path / "again")
    assert (tmp_path / "again" / "pages" / "revenue.html").read_text(encoding="utf-8") == page
    assert 'href="revenue.html"' in (tmp_path / "again" / "pages" / "index.html").read_text(encoding="utf-8")
