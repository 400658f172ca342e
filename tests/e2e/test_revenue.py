"""billing.revenue_by_month over tests/fixtures/small (see test_end_to_end.py for the
invoices: 62.77 USD, 15.48 + 88.20 EUR, 724 JPY, all with period_end in October 2026, no
coupons, taxes or prepaid credits), with fx rates to USD added to a copy of the catalog."""
from __future__ import annotations

import shutil
from datetime import date
from decimal import Decimal as D

import pytest

from tests.helpers import copy_landing, rows, tally, write_api_calls_parquet

COLUMNS = ("billing_month, currency, reporting_currency, invoices_count, fees_amount, "
           "sub_total_excluding_taxes, taxes_amount, total_amount, fx_rate, fx_rate_date, "
           "sub_total_excluding_taxes_reporting, total_amount_reporting")


def run(base, small_catalog, fx_rows: list[str]):
    catalog = shutil.copytree(small_catalog, base / "catalog")
    (catalog / "fx_rates.csv").write_text("\n".join(["date,currency,rate", *fx_rows]) + "\n")
    landing = copy_landing("small", base / "landing")
    write_api_calls_parquet(landing / "c_calls.parquet", 10_005)
    warehouse = base / "w.duckdb"
    tally("run", "--catalog", str(catalog), "--landing", str(landing), "--warehouse", str(warehouse),
          "--period", "2026-10", "--publish", str(base / "published"))
    return rows(warehouse, f"select {COLUMNS} from billing.revenue_by_month order by billing_month, currency")


@pytest.fixture(scope="module")
def two_months(tmp_path_factory, small_catalog):
    """October billed, then November into the same warehouse: two runs for every case here."""
    base = tmp_path_factory.mktemp("revenue")
    october = run(base, small_catalog, [
        "2026-09-01,EUR,1.05",    # older: superseded by 2026-10-01
        "2026-10-01,EUR,1.10",    # latest on or before 2026-10-31: October's rate
        "2026-11-01,EUR,2.00",    # after October's last day: November's rate
        "2026-11-01,JPY,0.0068",  # none on or before 2026-10-31: October's JPY has no rate
    ])
    tally("run", "--catalog", str(base / "catalog"), "--landing", str(base / "landing"),
          "--warehouse", str(base / "w.duckdb"), "--period", "2026-11", "--publish", str(base / "published"))
    both = rows(base / "w.duckdb", f"select {COLUMNS} from billing.revenue_by_month order by billing_month, currency")
    return october, both


def test_revenue_by_month_converts_at_latest_rate_on_or_before_month_end(two_months):
    october, _ = two_months
    oct_ = date(2026, 10, 1)
    assert october == [
        # 103.68 × 1.10 = 114.048 → 114.05
        (oct_, "EUR", "USD", 2, D("103.68"), D("103.68"), D("0"), D("103.68"),
         D("1.1"), date(2026, 10, 1), D("114.05"), D("114.05")),
        # no JPY rate on or before October 31: the revenue stays, unconverted
        (oct_, "JPY", "USD", 1, D("724"), D("724"), D("0"), D("724"), None, None, None, None),
        (oct_, "USD", "USD", 1, D("62.77"), D("62.77"), D("0"), D("62.77"),
         D("1"), None, D("62.77"), D("62.77")),
    ]
    assert sum(r[7] for r in october) == D("62.77") + D("103.68") + D("724")


def test_a_later_month_keeps_earlier_months(two_months):
    october, both = two_months
    assert [r for r in both if r[0] == date(2026, 10, 1)] == october
    # November: EUR 41.00 (30.00 + 10.00 + 1.00) × 2.00 = 82.00; USD 49.00
    assert [(r[0], r[1], r[7], r[9], r[11]) for r in both if r[0] == date(2026, 11, 1)] == [
        (date(2026, 11, 1), "EUR", D("41"), date(2026, 11, 1), D("82")),
        (date(2026, 11, 1), "USD", D("49"), None, D("49")),
    ]
